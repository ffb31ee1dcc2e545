# shellcheck shell=bash
# The tutorial's settings, sourced by k8s/tutorial.sh and by hand: `source k8s/env.sh`.
# Every value can be overridden from the environment.
#
# IMAGE_TAG is the one place our image tag is chosen; k8s/kustomization.yaml and k8s/starwars.yml
# repeat it, and galaxia/tests/k8s_manifests.rs fails when they (or the workspace version) disagree.

export CLUSTER_NAME="${CLUSTER_NAME:-jornada-k8s-ebpf}"
export CONTEXT="${CONTEXT:-kind-$CLUSTER_NAME}"
export CILIUM_VERSION="${CILIUM_VERSION:-1.15.10}"
export CILIUM_TAG="${CILIUM_TAG:-v$CILIUM_VERSION}"

export IMAGE_REPO="${IMAGE_REPO:-jornada}"
export IMAGE_TAG="${IMAGE_TAG:-0.1.0}"

# Empty: kind's default node image. Cilium 1.15 is tested against Kubernetes up to 1.29; if a newer
# kind's default misbehaves, pin a node image here, e.g. KIND_NODE_IMAGE=kindest/node:v1.29.8
export KIND_NODE_IMAGE="${KIND_NODE_IMAGE:-}"
