#!/usr/bin/env bash
# Checks the images that scripts/images.sh built (run it first), with podman, as CI does:
#   - each image is one layer, small (Death Star < 3 MB, others < 5 MB), USER 65532:65532, OCI labels;
#   - the Death Star container answers `Ship landed` on a loopback port, runs as uid 65532, and
#     exits with status 2 after the exhaust port;
#   - `podman run <ship image> curl -s -XPOST http://127.0.0.1:PORT/v1/request-landing` prints
#     `Ship landed`, and so does the image's `curl` link (what `kubectl exec <ship> -- curl` runs);
#   - a ship container started with its default command patrols and lands;
#   - `podman save --format docker-archive` writes the archive that `kind load image-archive` takes.
# Containers use the host network and bind 127.0.0.1 only; all traffic stays on loopback.
# Environment: PODMAN_RUNTIME (default runc), IMAGE_REPO and IMAGE_TAG (default from k8s/env.sh);
# without podman, curl or python3 it prints SKIP and succeeds, unless REQUIRE_ALL=1 (CI).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=SCRIPTDIR/../k8s/env.sh
source k8s/env.sh

for tool in podman curl python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP test-images: $tool not installed (apt install podman runc curl python3)"
        if [[ "${REQUIRE_ALL:-0}" == 1 ]]; then exit 1; fi
        exit 0
    fi
done

# The pods' restricted security context, as podman flags: read-only root, no capabilities, no
# privilege escalation (the images' USER is the numeric 65532).
secure=(--read-only --cap-drop ALL --security-opt no-new-privileges)
base_args=(--runtime "${PODMAN_RUNTIME:-runc}" --ulimit nofile=20000:20000 --ulimit nproc=4096:4096
    "${secure[@]}")
run_args=("${base_args[@]}" --network host)
failures=0
containers=()
tmp="$(mktemp -d)"

cleanup() {
    local c
    for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until an HTTP GET on a loopback URL answers 200.
wait_ready() {
    local url="$1" i
    for ((i = 0; i < 100; i++)); do
        if curl -fs -m 1 "$url" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    return 1
}

uid_of_container() {
    local pid
    pid="$(podman inspect --format '{{.State.Pid}}' "$1")"
    awk '/^Uid:/ { print $2 }' "/proc/$pid/status"
}

ref() { echo "docker.io/$IMAGE_REPO/$1:$IMAGE_TAG"; }

echo "== image metadata"
printf '%-20s %10s %7s %s\n' image bytes layers user
for name in estrela-da-morte caca-tie asa-x loadtest; do
    image="$(ref "$name")"
    if ! podman image exists "$image"; then
        fail "$image missing: run scripts/images.sh first"
        continue
    fi
    size="$(podman image inspect --format '{{.Size}}' "$image")"
    layers="$(podman image inspect --format '{{len .RootFS.Layers}}' "$image")"
    user="$(podman image inspect --format '{{.Config.User}}' "$image")"
    printf '%-20s %10s %7s %s\n' "$name" "$size" "$layers" "$user"
    limit=$((5 * 1000 * 1000))
    if [[ "$name" == estrela-da-morte ]]; then limit=$((3 * 1000 * 1000)); fi
    if ((size < limit)); then pass "$name: $size bytes < $limit"; else fail "$name: $size bytes >= $limit"; fi
    if [[ "$layers" == 1 ]]; then pass "$name: one layer"; else fail "$name: $layers layers"; fi
    if [[ "$user" == 65532:65532 ]]; then pass "$name: USER 65532:65532"; else fail "$name: USER '$user'"; fi
    for label in source version revision licenses description; do
        value="$(podman image inspect --format "{{index .Config.Labels \"org.opencontainers.image.$label\"}}" "$image")"
        if [[ -n "$value" ]]; then pass "$name: label $label=$value"; else fail "$name: no OCI label $label"; fi
    done
done

echo "== the Death Star container"
port="$(free_port)"
admin="$(free_port)"
ds="jornada-test-ds-$$"
containers+=("$ds")
if ! podman run -d --name "$ds" "${run_args[@]}" "$(ref estrela-da-morte)" \
    --host 127.0.0.1 --port "$port" --admin-port "$admin" --explode-after 200ms >/dev/null; then
    fail "podman run -d estrela-da-morte failed"
fi
if wait_ready "http://127.0.0.1:$admin/readyz"; then
    pass "estrela-da-morte ready on 127.0.0.1:$admin/readyz"
else
    podman logs "$ds" | tail -n 20
    fail "estrela-da-morte never became ready"
fi
body="$(curl -s -m 5 -XPOST "http://127.0.0.1:$port/v1/request-landing" || true)"
if [[ "$body" == "Ship landed" ]]; then pass "estrela-da-morte: Ship landed"; else fail "estrela-da-morte answered '$body'"; fi
uid="$(uid_of_container "$ds" || true)"
if [[ "$uid" == 65532 ]]; then pass "estrela-da-morte runs as uid 65532"; else fail "estrela-da-morte runs as uid '$uid'"; fi

echo "== ship images"
for ship in caca-tie asa-x; do
    image="$(ref "$ship")"
    out="$(podman run --rm "${run_args[@]}" "$image" curl -s -XPOST "http://127.0.0.1:$port/v1/request-landing" 2>&1 || true)"
    if [[ "$out" == "Ship landed" ]]; then pass "podman run $ship curl: Ship landed"; else fail "podman run $ship curl: '$out'"; fi
    # What `kubectl exec <ship> -- curl` runs: the curl link, found through PATH.
    out="$(podman run --rm "${run_args[@]}" --entrypoint curl "$image" -s -XPOST "http://127.0.0.1:$port/v1/request-landing" 2>&1 || true)"
    if [[ "$out" == "Ship landed" ]]; then pass "$ship: the curl link on PATH lands"; else fail "$ship: curl link: '$out'"; fi

    ship_admin="$(free_port)"
    patrol="jornada-test-$ship-$$"
    containers+=("$patrol")
    if ! podman run -d --name "$patrol" "${run_args[@]}" -e DEATH_STAR_URL="http://127.0.0.1:$port" \
        -e ADMIN_HOST=127.0.0.1 -e ADMIN_PORT="$ship_admin" -e PATROL_RATE=20 "$image" >/dev/null; then
        fail "$ship: podman run -d (default command) failed"
        continue
    fi
    landed=0
    for ((i = 0; i < 100; i++)); do
        landed="$({ curl -s -m 1 "http://127.0.0.1:$ship_admin/metrics" 2>/dev/null || true; } |
            awk '/^ship_requests_total\{/ && /kind="land"/ && /outcome="landed"/ { n += $NF } END { print n + 0 }')"
        if ((landed > 0)); then break; fi
        sleep 0.1
    done
    if ((landed > 0)); then
        pass "$ship patrols with its default command: $landed landed"
    else
        podman logs "$patrol" 2>&1 | tail -n 20
        fail "$ship: no landing counted by its default command"
    fi
    uid="$(uid_of_container "$patrol" || true)"
    if [[ "$uid" == 65532 ]]; then pass "$ship runs as uid 65532"; else fail "$ship runs as uid '$uid'"; fi
    podman rm -f -t 0 "$patrol" >/dev/null
done

echo "== the exhaust port ends the Death Star with status 2"
code="$(curl -s -m 5 -o /dev/null -w '%{http_code}' -XPUT "http://127.0.0.1:$port/v1/exhaust-port" || true)"
status="$(timeout 20 podman wait "$ds" || echo timeout)"
if [[ "$code" == 503 && "$status" == 2 ]]; then
    pass "exhaust port: 503, then exit status 2"
else
    fail "exhaust port: HTTP $code, exit status $status"
fi

echo "== the Death Star as its pod runs it: port 80, uid 65532, no capabilities"
# Its own network namespace with nothing but loopback (--network none), the default command (port
# 80 on every address of that namespace), and the sysctl of k8s/starwars.yml; a ship joins the
# namespace to land. Without the sysctl the bind must fail, which is why the manifest sets it.
pod="jornada-test-pod-$$"
containers+=("$pod")
if podman run -d --name "$pod" "${base_args[@]}" --network none \
    --sysctl net.ipv4.ip_unprivileged_port_start=80 "$(ref estrela-da-morte)" >/dev/null; then
    out=""
    for ((i = 0; i < 50; i++)); do
        out="$(podman run --rm "${base_args[@]}" --network "container:$pod" "$(ref caca-tie)" \
            curl -s -XPOST http://127.0.0.1/v1/request-landing 2>&1 || true)"
        if [[ "$out" == "Ship landed" ]]; then break; fi
        sleep 0.2
    done
    if [[ "$out" == "Ship landed" ]]; then
        pass "port 80 as uid 65532 with net.ipv4.ip_unprivileged_port_start=80: Ship landed"
    else
        podman logs "$pod" 2>&1 | tail -n 5
        fail "port 80 with the sysctl: '$out'"
    fi
else
    fail "podman run --network none --sysctl ... estrela-da-morte failed"
fi
podman rm -f -t 0 "$pod" >/dev/null 2>&1 || true
if podman run --rm "${base_args[@]}" --network none "$(ref estrela-da-morte)" >"$tmp/nosysctl.log" 2>&1; then
    fail "without the sysctl the Death Star bound port 80: the manifest's sysctl may be unneeded"
elif grep -q 'Permission denied' "$tmp/nosysctl.log"; then
    pass "without the sysctl, port 80 is refused to uid 65532 (why k8s/starwars.yml sets it)"
else
    tail -n 5 "$tmp/nosysctl.log"
    fail "without the sysctl the Death Star failed for another reason"
fi

echo "== docker-archive for kind load image-archive"
archive="$tmp/estrela-da-morte.tar"
# The tag inside must be what the manifests name (jornada/... is docker.io/jornada/...), or the
# nodes would hold an image that no pod asks for.
if podman save -q --format docker-archive -o "$archive" "$(ref estrela-da-morte)" >/dev/null &&
    tar -xOf "$archive" manifest.json | grep -q "\"$(ref estrela-da-morte)\""; then
    pass "podman save --format docker-archive: $(stat -c %s "$archive") bytes, tagged $(ref estrela-da-morte)"
else
    tar -xOf "$archive" manifest.json || true
    fail "podman save --format docker-archive"
fi

if ((failures)); then
    echo "test-images: $failures failed"
    exit 1
fi
echo "test-images: all passed"
