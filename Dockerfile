# syntax=docker/dockerfile:1
#
# Images of the Star Wars demo: one FROM scratch final stage per binary, named after it.
#
#   docker build --target estrela-da-morte -t jornada/estrela-da-morte:0.1.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 --target caca-tie -t jornada/caca-tie:0.1.0 .
#
# Multi-arch without emulation: the build stage always runs on the builder's own platform
# ($BUILDPLATFORM) and cross-compiles to $TARGETPLATFORM with tonistiigi/xx: `xx-cargo` picks the Rust
# musl target (x86_64- or aarch64-unknown-linux-musl), adds its standard library with rustup and links
# with clang + lld; `xx-verify --static` then checks each binary's architecture and that it is static.
# Only the final scratch stages are per-platform, and they run nothing.
#
# BINARIES chooses where the binaries come from:
#   build    (default) compile them here;
#   prebuilt copy static binaries from the build context, dist/<arch>/<image>/bin/ (TARGETARCH naming:
#            amd64, arm64), as laid out by scripts/images.sh; for machines without a registry, so that
#            they build the very same final stages (buildah/podman: pass --build-arg explicitly).
# Each image's files sit under /out/<image>/ in both stages, so a final stage is one COPY: one layer.

ARG BINARIES=build
# The toolchain the workspace is developed with; Cargo.toml's rust-version is the minimum.
ARG RUST_VERSION=1.95
ARG XX_VERSION=1.6.1

FROM --platform=$BUILDPLATFORM tonistiigi/xx:${XX_VERSION} AS xx

FROM --platform=$BUILDPLATFORM rust:${RUST_VERSION}-alpine AS build
COPY --from=xx / /
# musl-dev for build scripts and proc macros compiled for the builder itself.
RUN apk add --no-cache clang lld musl-dev
WORKDIR /src
COPY . .
# Fetching is platform independent: done once, before TARGETPLATFORM splits the build per platform.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git/db \
    cargo fetch --locked
ARG TARGETPLATFORM
ARG TARGETARCH
# The target's musl and libgcc in xx's sysroot, so that clang links the target binary exactly as xx's
# C examples do (when not cross-compiling, these are the packages the build stage already has).
RUN xx-apk add --no-cache musl-dev gcc
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git/db \
    --mount=type=cache,target=/src/target,id=cargo-target-${TARGETARCH} \
    set -eu; \
    xx-cargo build --release --locked --offline \
        --bin estrela-da-morte --bin caca-tie --bin asa-x --bin loadtest; \
    release="target/$(xx-cargo --print-target-triple)/release"; \
    for bin in estrela-da-morte caca-tie asa-x loadtest; do \
        mkdir -p "/out/$bin/bin"; \
        cp "$release/$bin" "/out/$bin/bin/$bin"; \
        xx-verify --static "/out/$bin/bin/$bin"; \
    done; \
    ln -s caca-tie /out/caca-tie/bin/curl; \
    ln -s asa-x /out/asa-x/bin/curl

FROM scratch AS prebuilt
ARG TARGETARCH
COPY dist/${TARGETARCH}/ /out/

FROM ${BINARIES} AS binaries

# The Death Star: listens on 80 (upstream's port) and 9090 (probes and metrics). As uid 65532 without
# capabilities it needs the pod sysctl net.ipv4.ip_unprivileged_port_start=80 (k8s/starwars.yml) or
# `--sysctl net.ipv4.ip_unprivileged_port_start=80` with podman/docker; see k8s/starwars.yml for why.
FROM scratch AS estrela-da-morte
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="estrela-da-morte" \
      org.opencontainers.image.description="The Death Star of Cilium's Star Wars demo: HTTP server on port 80, wire-compatible with quay.io/cilium/starwars" \
      org.opencontainers.image.source="https://github.com/jornada-k8s/estrela-da-morte" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=binaries /out/estrela-da-morte/ /
ENV PATH=/bin
USER 65532:65532
EXPOSE 80 9090
ENTRYPOINT ["/bin/estrela-da-morte"]

# The ships: by default they patrol the Death Star (upstream's ships only slept). `curl` is a link to
# the ship binary, whose curl front end answers `kubectl exec <ship> -- curl ...`; `docker run <image>
# curl ...` reaches the same front end as the ship's `curl` subcommand.
FROM scratch AS caca-tie
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="caca-tie" \
      org.opencontainers.image.description="Imperial TIE fighter (org=imperio) of Cilium's Star Wars demo: patrols the Death Star and answers curl" \
      org.opencontainers.image.source="https://github.com/jornada-k8s/estrela-da-morte" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=binaries /out/caca-tie/ /
ENV PATH=/bin
USER 65532:65532
EXPOSE 9090
ENTRYPOINT ["/bin/caca-tie"]
CMD ["patrol"]

FROM scratch AS asa-x
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="asa-x" \
      org.opencontainers.image.description="Rebel X-wing (org=alianca) of Cilium's Star Wars demo: patrols the Death Star and answers curl" \
      org.opencontainers.image.source="https://github.com/jornada-k8s/estrela-da-morte" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=binaries /out/asa-x/ /
ENV PATH=/bin
USER 65532:65532
EXPOSE 9090
ENTRYPOINT ["/bin/asa-x"]
CMD ["patrol"]

FROM scratch AS loadtest
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="loadtest" \
      org.opencontainers.image.description="Load generator for the Death Star of Cilium's Star Wars demo, with outcomes per request kind" \
      org.opencontainers.image.source="https://github.com/jornada-k8s/estrela-da-morte" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=binaries /out/loadtest/ /
ENV PATH=/bin
USER 65532:65532
# Only with --prometheus-port 9090 (as k8s/loadtest-job.yml runs it).
EXPOSE 9090
ENTRYPOINT ["/bin/loadtest"]
