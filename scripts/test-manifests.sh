#!/usr/bin/env bash
# Checks of k8s/ and of every shell script that need tools outside Rust (the Rust part is
# `cargo test -p galaxia --test k8s_manifests`):
#   - kubernetes-validate -k 1.31 --strict on the Kubernetes objects (pip install kubernetes-validate)
#   - the CiliumNetworkPolicies against Cilium 1.15.10's CRD schema, unknown fields rejected
#     (python3 with PyYAML and jsonschema; the CRD is read from ../shared/cilium/)
#   - `kubectl kustomize k8s/` renders, and what it renders validates too
#   - shellcheck on every shell script of the repository (apt install shellcheck)
#   - k8s/tutorial.sh --dry-run prints the book's commands without running them
# A missing tool skips its part with a SKIP line; REQUIRE_ALL=1 (CI) turns skips into failures.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
crd="${CILIUM_CRD:-$root/../shared/cilium/ciliumnetworkpolicies-v1.15.10.yaml}"
failures=0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

skip() {
    echo "SKIP $*"
    if [[ "${REQUIRE_ALL:-0}" == 1 ]]; then failures=$((failures + 1)); fi
}
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# The Kubernetes object files of k8s/: everything YAML except kind's config, the kustomization and
# the Cilium policies.
k8s_objects=()
cnp_files=()
for f in k8s/*.yml k8s/*.yaml; do
    [[ -e "$f" ]] || continue
    case "$f" in
        k8s/cluster.yml | k8s/kustomization.yaml) ;;
        *) if grep -q '^kind: CiliumNetworkPolicy' "$f"; then cnp_files+=("$f"); else k8s_objects+=("$f"); fi ;;
    esac
done

if command -v kubernetes-validate >/dev/null; then
    if kubernetes-validate -k 1.31 --strict "${k8s_objects[@]}" >"$tmp/kv.log" 2>&1; then
        pass "kubernetes-validate -k 1.31 --strict ${k8s_objects[*]}"
    else
        cat "$tmp/kv.log"
        fail "kubernetes-validate -k 1.31 --strict ${k8s_objects[*]}"
    fi
else
    skip "kubernetes-validate not installed (pip install kubernetes-validate)"
fi

if [[ ! -f "$crd" ]]; then
    # The CRD lives only beside this checkout (../shared), never in it: no install can provide it,
    # so its absence is a skip even in CI.
    echo "SKIP CNP schema check: $crd absent (set CILIUM_CRD to Cilium 1.15.10's CRD file)"
elif ! python3 -c 'import jsonschema, yaml' 2>/dev/null; then
    skip "CNP schema check: python3 lacks jsonschema or PyYAML (pip install jsonschema pyyaml)"
elif python3 scripts/validate-cnp.py "$crd" "${cnp_files[@]}"; then
    pass "CiliumNetworkPolicies valid against $(basename "$crd")"
else
    fail "CiliumNetworkPolicies against $(basename "$crd")"
fi

if command -v kubectl >/dev/null; then
    if kubectl kustomize k8s/ >"$tmp/rendered.yaml" 2>"$tmp/kustomize.err"; then
        pass "kubectl kustomize k8s/"
        if command -v kubernetes-validate >/dev/null; then
            if kubernetes-validate -k 1.31 --strict "$tmp/rendered.yaml" >"$tmp/kv2.log" 2>&1; then
                pass "kubernetes-validate on the kustomize output"
            else
                cat "$tmp/kv2.log"
                fail "kubernetes-validate on the kustomize output"
            fi
        fi
    else
        cat "$tmp/kustomize.err"
        fail "kubectl kustomize k8s/"
    fi
else
    skip "kubectl not installed"
fi

if command -v shellcheck >/dev/null; then
    # Every shell script: *.sh files and files whose first line names a shell, outside build output.
    scripts=()
    while IFS= read -r -d '' f; do
        if [[ "$f" == *.sh ]] || head -n1 "$f" 2>/dev/null | grep -Eq '^#!.*\b(ba|da|k)?sh\b'; then
            scripts+=("$f")
        fi
    done < <(find . \( -path ./target -o -path ./.git -o -path ./dist -o -name node_modules \) -prune \
        -o -type f ! -name '*.rs' ! -name '*.md' ! -name '*.py' -print0)
    if shellcheck -x "${scripts[@]}"; then
        pass "shellcheck on ${#scripts[@]} scripts: ${scripts[*]}"
    else
        fail "shellcheck"
    fi
else
    skip "shellcheck not installed (apt install shellcheck)"
fi

if [[ -x k8s/tutorial.sh ]]; then
    if k8s/tutorial.sh --dry-run >"$tmp/dry.log" 2>&1 &&
        grep -q 'kubectl .*create -f .*k8s/politica_l4.yml' "$tmp/dry.log" &&
        grep -q 'helm .*install cilium cilium/cilium --version 1.15.10' "$tmp/dry.log"; then
        pass "k8s/tutorial.sh --dry-run prints the book's steps"
    else
        cat "$tmp/dry.log"
        fail "k8s/tutorial.sh --dry-run"
    fi
fi

if ((failures)); then
    echo "test-manifests: $failures failed"
    exit 1
fi
echo "test-manifests: all passed"
