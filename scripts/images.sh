#!/usr/bin/env bash
# Builds static release binaries of the four programs and, from them, the four images of the Dockerfile
# (--build-arg BINARIES=prebuilt), with podman, buildah or docker. For machines without a registry
# (CI) and for users who want images without the Rust-in-Docker build.
#
#   scripts/images.sh                 binaries + images jornada/<name>:$IMAGE_TAG (k8s/env.sh)
#   scripts/images.sh --save DIR      also writes DIR/<name>.tar (docker-archive, for kind load image-archive)
#   scripts/images.sh --no-images     binaries only, laid out in dist/<arch>/<name>/bin/
#   scripts/images.sh --no-binaries   images from an existing dist/
#
# Environment: ENGINE (podman|buildah|docker, default: the first found), CARGO_TARGET_DIR (default
# target/images-static), IMAGE_REPO and IMAGE_TAG (default from k8s/env.sh).
#
# Static binaries: musl when the Rust target x86_64-unknown-linux-musl is installed (or `rustup target
# add` gets it), otherwise glibc with +crt-static. Either runs on FROM scratch because nothing here needs
# NSS: names are resolved by hickory, not getaddrinfo.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=SCRIPTDIR/../k8s/env.sh
source k8s/env.sh

binaries=(estrela-da-morte caca-tie asa-x loadtest)
ships=(caca-tie asa-x)
build_binaries=1
build_images=1
save_dir=""

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

while (($#)); do
    case "$1" in
        --save) save_dir="${2:?--save needs a directory}"; shift 2 ;;
        --no-images) build_images=0; shift ;;
        --no-binaries) build_binaries=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "images.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done

case "$(uname -m)" in
    x86_64) arch=amd64; triple_arch=x86_64 ;;
    aarch64 | arm64) arch=arm64; triple_arch=aarch64 ;;
    *) echo "images.sh: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
dist="dist/$arch"

static_build() {
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/images-static}"
    local triple bin_args=()
    for b in "${binaries[@]}"; do bin_args+=(--bin "$b"); done
    triple="$triple_arch-unknown-linux-musl"
    if rustup target list --installed 2>/dev/null | grep -qx "$triple" ||
        rustup target add "$triple" >/dev/null 2>&1; then
        echo "images.sh: building static musl binaries ($triple)" >&2
        cargo build --release --locked --target "$triple" "${bin_args[@]}"
    else
        triple="$triple_arch-unknown-linux-gnu"
        echo "images.sh: musl target unavailable; building static glibc binaries ($triple, +crt-static)" >&2
        RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
            cargo build --release --locked --target "$triple" "${bin_args[@]}"
    fi
    rm -rf "$dist"
    local b
    for b in "${binaries[@]}"; do
        mkdir -p "$dist/$b/bin"
        cp "$CARGO_TARGET_DIR/$triple/release/$b" "$dist/$b/bin/$b"
        # A dynamic binary would start nowhere in a scratch image: refuse it here, not at run time.
        if file "$dist/$b/bin/$b" 2>/dev/null | grep -q 'dynamically linked'; then
            echo "images.sh: $b is dynamically linked" >&2
            exit 1
        fi
    done
    for b in "${ships[@]}"; do ln -s "$b" "$dist/$b/bin/curl"; done
    # dist/ is build output; keep it out of git without touching the root .gitignore.
    printf '*\n' > dist/.gitignore
}

pick_engine() {
    if [[ -n "${ENGINE:-}" ]]; then echo "$ENGINE"; return; fi
    local e
    for e in podman buildah docker; do
        if command -v "$e" >/dev/null; then echo "$e"; return; fi
    done
    echo "images.sh: none of podman, buildah, docker is installed" >&2
    exit 1
}

build_image() {
    # Fully qualified: podman would otherwise name it localhost/jornada/..., and after `kind load
    # image-archive` the nodes would not match the manifests' jornada/... (docker.io/jornada/...).
    local engine="$1" name="$2" ref="docker.io/$IMAGE_REPO/$2:$IMAGE_TAG" revision
    revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
    # buildah and podman do not fill TARGETARCH for us everywhere: pass every argument explicitly.
    local args=(--target "$name" -t "$ref" -f Dockerfile
        --build-arg BINARIES=prebuilt --build-arg TARGETARCH="$arch" --build-arg TARGETPLATFORM="linux/$arch"
        --build-arg VERSION="$IMAGE_TAG" --build-arg REVISION="$revision")
    echo "images.sh: building $ref" >&2
    case "$engine" in
        buildah) buildah build "${args[@]}" . ;;
        *) "$engine" build "${args[@]}" . ;;
    esac
    if [[ -n "$save_dir" ]]; then
        mkdir -p "$save_dir"
        rm -f "$save_dir/$name.tar"
        case "$engine" in
            buildah) podman save --format docker-archive -o "$save_dir/$name.tar" "$ref" ;;
            docker) docker save -o "$save_dir/$name.tar" "$ref" ;;
            *) "$engine" save --format docker-archive -o "$save_dir/$name.tar" "$ref" ;;
        esac
        echo "images.sh: wrote $save_dir/$name.tar" >&2
    fi
}

if ((build_binaries)); then static_build; fi
if ((build_images)); then
    for b in "${binaries[@]}"; do
        [[ -x "$dist/$b/bin/$b" ]] || { echo "images.sh: $dist/$b/bin/$b missing; run without --no-binaries" >&2; exit 1; }
    done
    engine="$(pick_engine)"
    for b in "${binaries[@]}"; do build_image "$engine" "$b"; done
fi
