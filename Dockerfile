# eds-kafka container image: `eds-kafka publish` once, as a Kubernetes CronJob runs it.
#   docker build -t eds-kafka .          (or: buildah bud -t eds-kafka .)
#   docker run --rm eds-kafka publish --dry-run
# Build stage: rdkafka builds the bundled librdkafka from source (gcc, make) and
# links the system OpenSSL (the `ssl` feature: libssl-dev, pkg-config).
FROM docker.io/library/rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc make libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, in a layer of their own: a change to src/ does not rebuild librdkafka.
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --profile dist --locked \
 && rm -rf src
COPY src ./src
# COPY keeps the context's mtimes, which can be older than the placeholder build: touch.
RUN touch src/main.rs src/lib.rs \
 && cargo build --profile dist --locked \
 && install -m 0755 target/dist/eds-kafka /eds-kafka

# Runtime: the binary needs libssl3/libcrypto3 (librdkafka's TLS), zlib (in the
# base image) and CA certificates (HTTPS to the API, TLS to the brokers).
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 eds-kafka \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin eds-kafka
COPY --from=build /eds-kafka /usr/local/bin/eds-kafka
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
ENTRYPOINT ["eds-kafka"]
CMD ["publish"]
