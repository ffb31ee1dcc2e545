#!/usr/bin/env bash
# The book's Star Wars tutorial (Jornada Kubernetes, eBPF section) on a kind cluster, automated, with
# our images. Needs docker, kind, helm, kubectl and cilium-cli on the user's machine.
#
#   k8s/tutorial.sh              up, then steps
#   k8s/tutorial.sh up           cluster, images (built and kind-loaded), Cilium + Hubble, manifests
#   k8s/tutorial.sh steps        the book's steps on the running cluster, each checked: PASS/FAIL lines
#   k8s/tutorial.sh down         deletes the cluster
#   k8s/tutorial.sh --dry-run [up|steps|down]   prints the commands instead of running them
#
# Settings come from k8s/env.sh (CLUSTER_NAME, CONTEXT, CILIUM_VERSION, IMAGE_TAG, ...); set them in
# the environment to override. Exits non-zero when a tool is missing or a step fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=SCRIPTDIR/env.sh
source "$here/env.sh"

images=(estrela-da-morte caca-tie asa-x loadtest)
death_star="estrela-da-morte.default.svc.cluster.local"
dry_run=0
failed=0
passed=0

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'tutorial.sh: %s\n' "$*" >&2; exit 1; }

# Runs a command, or only prints it with --dry-run.
run() {
    printf '+ %s\n' "$(printf '%q ' "$@")"
    if ((dry_run)); then return 0; fi
    "$@"
}

k() { run kubectl --context "$CONTEXT" "$@"; }

# Prints a ship's curl command and its output; the output is kept in $out and the status in $status.
ship_curl() {
    local ship="$1"
    shift
    printf '+ %s\n' "$(printf '%q ' kubectl --context "$CONTEXT" exec "$ship" -- curl "$@")"
    out=""
    status=0
    if ((dry_run)); then return 0; fi
    out="$(kubectl --context "$CONTEXT" exec "$ship" -- curl "$@" 2>&1)" || status=$?
    printf '%s\n' "$out"
}

result() {
    local ok="$1" what="$2"
    if ((dry_run)); then
        printf 'DRY  %s\n' "$what"
    elif ((ok)); then
        printf 'PASS %s\n' "$what"
        passed=$((passed + 1))
    else
        printf 'FAIL %s (exit %s, output: %s)\n' "$what" "$status" "${out:-<none>}"
        failed=$((failed + 1))
    fi
}

# Repeats a ship's curl until its output contains $expect (policies take a few seconds to reach the
# datapath), up to $tries times; then records the result.
expect_output() {
    local what="$1" expect="$2" ship="$3" tries="$4"
    shift 4
    local i ok=0
    for ((i = 1; i <= tries; i++)); do
        ship_curl "$ship" "$@"
        if [[ "$out" == *"$expect"* ]]; then ok=1; break; fi
        if ((dry_run)); then break; fi
        sleep 2
    done
    result "$ok" "$what"
}

# Smallest versions known to work with the book's steps (kind: disableDefaultCNI and v1alpha4 config;
# helm 3; cilium-cli: `cilium status --wait` and `cilium hubble ui` against Cilium 1.15).
need() {
    local tool="$1" minimum="$2" found
    if ! command -v "$tool" >/dev/null; then
        if ((dry_run)); then printf 'note: %s not installed (needed >= %s)\n' "$tool" "$minimum"; return 0; fi
        die "$tool is missing; install $tool >= $minimum (see k8s/README.md)"
    fi
    found="$(version_of "$tool")"
    if [[ -z "$found" ]]; then
        if ((dry_run)); then printf 'note: no version from %s\n' "$tool"; return 0; fi
        die "could not read the version of $tool; is it working (docker: is the daemon running)?"
    fi
    if [[ "$(printf '%s\n%s\n' "$minimum" "$found" | sort -V | head -n1)" != "$minimum" ]]; then
        die "$tool $found is too old; need >= $minimum"
    fi
    printf 'ok   %s %s (>= %s)\n' "$tool" "$found" "$minimum"
}

version_of() {
    local text
    case "$1" in
        docker) text="$(docker version --format '{{.Server.Version}}' 2>/dev/null || true)" ;;
        kind) text="$(kind version 2>/dev/null || true)" ;;
        helm) text="$(helm version --short 2>/dev/null || true)" ;;
        kubectl) text="$(kubectl version --client 2>/dev/null || true)" ;;
        cilium) text="$(cilium version --client 2>/dev/null || true)" ;;
    esac
    grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' <<<"$text" | head -n1 || true
}

check_tools() {
    say "Checking tools"
    need docker 20.10.0
    need kind 0.20.0
    need helm 3.8.0
    need kubectl 1.27.0
    need cilium 0.15.0
}

up() {
    check_tools
    say "Creating the kind cluster $CLUSTER_NAME (1 control plane, 3 workers, no default CNI)"
    if ! ((dry_run)) && kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
        echo "cluster $CLUSTER_NAME exists; reusing it"
    else
        local image_args=()
        if [[ -n "$KIND_NODE_IMAGE" ]]; then image_args=(--image "$KIND_NODE_IMAGE"); fi
        run kind create cluster --config "$here/cluster.yml" --name "$CLUSTER_NAME" "${image_args[@]}"
    fi

    say "Building our images and loading them into the nodes"
    # The Dockerfile needs BuildKit (cache mounts, $BUILDPLATFORM); Docker 23+ uses it by default.
    # The four targets share one build stage, so the workspace is compiled once.
    export DOCKER_BUILDKIT=1
    local image
    for image in "${images[@]}"; do
        run docker build --target "$image" --build-arg VERSION="$IMAGE_TAG" \
            --build-arg REVISION="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)" \
            -t "$IMAGE_REPO/$image:$IMAGE_TAG" "$root"
        run kind load docker-image "$IMAGE_REPO/$image:$IMAGE_TAG" --name "$CLUSTER_NAME"
    done

    say "Installing Cilium $CILIUM_VERSION (image preloaded, as in the book)"
    run docker pull "quay.io/cilium/cilium:$CILIUM_TAG"
    run kind load docker-image "quay.io/cilium/cilium:$CILIUM_TAG" --name "$CLUSTER_NAME"
    run helm repo add cilium https://helm.cilium.io/ --force-update
    if ! ((dry_run)) && helm --kube-context "$CONTEXT" -n kube-system status cilium >/dev/null 2>&1; then
        echo "Cilium is installed; keeping it"
    else
        run helm install cilium cilium/cilium --version "$CILIUM_VERSION" --kube-context "$CONTEXT" \
            -n kube-system --set image.pullPolicy=IfNotPresent --set ipam.mode=kubernetes
    fi
    run cilium status --wait --context "$CONTEXT"
    say "Enabling Hubble relay and UI"
    run helm upgrade cilium cilium/cilium --version "$CILIUM_VERSION" --kube-context "$CONTEXT" \
        -n kube-system --reuse-values --set hubble.relay.enabled=true --set hubble.ui.enabled=true
    run cilium status --wait --context "$CONTEXT"

    say "Deploying the Death Star and the ships"
    # apply rather than the book's create, so that running `up` twice works.
    k apply -f "$here/starwars.yml"
    k rollout status deployment/estrela-da-morte --timeout=180s
    k wait --for=condition=Ready pod/caca-tie pod/asa-x --timeout=180s
    k get pods -o wide
    k get services
}

restarts() {
    kubectl --context "$CONTEXT" get pods -l org=imperio,class=estrela-da-morte \
        -o jsonpath='{range .items[*]}{.status.containerStatuses[0].restartCount}{"\n"}{end}' |
        awk '{ total += $1 } END { print total + 0 }'
}

steps() {
    local landing=(-s -XPOST "$death_star/v1/request-landing")
    local exhaust=(-s -XPUT "$death_star/v1/exhaust-port")

    say "Starting without policies"
    k delete ciliumnetworkpolicy regra1 visibilidade --ignore-not-found
    expect_output "without policies, caca-tie lands" "Ship landed" caca-tie 10 "${landing[@]}"
    expect_output "without policies, asa-x lands" "Ship landed" asa-x 10 "${landing[@]}"

    say "L3/L4 policy: only org=imperio reaches the Death Star, TCP port 80"
    k create -f "$here/politica_l4.yml"
    k get cnp
    k describe cnp regra1
    expect_output "L4: caca-tie lands" "Ship landed" caca-tie 10 "${landing[@]}"
    # A dropped packet gets no answer at all: curl gives up after -m seconds (exit 28). Retry while
    # the policy reaches the datapath and asa-x still lands.
    local i ok=0
    for ((i = 1; i <= 10; i++)); do
        ship_curl asa-x -m 5 "${landing[@]}"
        if ((dry_run)) || [[ "$status" -ne 0 && "$out" != *"Ship landed"* ]]; then ok=1; break; fi
        sleep 2
    done
    result "$ok" "L4: asa-x gets no answer (curl -m 5 times out)"

    say "The exhaust port: any imperial ship can blow up a Death Star"
    local before=0
    if ! ((dry_run)); then before="$(restarts)"; fi
    expect_output "exhaust port: the Death Star panics" "Panic: deathstar exploded" caca-tie 1 "${exhaust[@]}"
    ok=0
    if ((dry_run)); then
        printf '+ kubectl get pods -l org=imperio,class=estrela-da-morte (restart count)\n'
    else
        for ((i = 1; i <= 30; i++)); do
            if (($(restarts) > before)); then ok=1; break; fi
            sleep 2
        done
    fi
    out="restarts before: $before"
    result "$ok" "exhaust port: a Death Star replica exploded and was restarted"
    k wait --for=condition=Ready pod -l org=imperio,class=estrela-da-morte --timeout=180s

    say "L7 policy: imperial ships may only POST /v1/request-landing"
    k apply -f "$here/politica_l7.yml"
    k describe cnp regra1
    expect_output "L7: the exhaust port gets Access denied" "Access denied" caca-tie 15 "${exhaust[@]}"
    expect_output "L7: caca-tie still lands" "Ship landed" caca-tie 10 "${landing[@]}"

    say "Done: $passed passed, $failed failed"
    echo "Hubble UI: cilium hubble ui --context $CONTEXT"
    echo "Clean up:  k8s/tutorial.sh down"
    ((failed == 0))
}

down() {
    say "Deleting the kind cluster $CLUSTER_NAME"
    run kind delete cluster --name "$CLUSTER_NAME"
}

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

command=all
while (($#)); do
    case "$1" in
        --dry-run) dry_run=1 ;;
        up | steps | down | all) command="$1" ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
    shift
done

case "$command" in
    up) up ;;
    steps) steps ;;
    down) down ;;
    all) up; steps ;;
esac
