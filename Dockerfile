# syntax=docker/dockerfile:1

# ---------------------------------------------------------------------------
# Builder
# ---------------------------------------------------------------------------
FROM rust:1-bookworm AS builder

WORKDIR /build

# sqlx must never try to reach a database at compile time.
ENV SQLX_OFFLINE=true \
    CARGO_TERM_COLOR=never

# Dependency cache layer: build the dependency graph against a dummy main so
# that this layer is only invalidated when Cargo.toml / Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && cargo build --release --locked \
    && rm -rf src

# Real sources. Templates, static files and migrations are embedded into the
# binary at compile time, so they are needed here and nowhere else.
COPY src/ src/
COPY templates/ templates/
COPY static/ static/
COPY migrations/ migrations/

# COPY keeps the files' original mtimes, which may be older than the dummy
# build's artifacts; touch them so cargo rebuilds the crate itself.
RUN find src -type f -exec touch {} + \
    && cargo build --release --locked --bin agentdesk \
    && install -m 0755 target/release/agentdesk /agentdesk

# ---------------------------------------------------------------------------
# Runtime
# ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

# Only CA certificates: templates, static files and migrations are inside the
# binary. pg_dump is deliberately not shipped (the server's own image has the
# matching one: `docker compose exec db pg_dump ...`); `agentdesk backup` says
# so clearly when it is missing.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 agentdesk \
    && useradd --system --uid 10001 --gid agentdesk --home-dir /app \
       --no-create-home --shell /usr/sbin/nologin agentdesk \
    && mkdir -p /app/data \
    && chown -R agentdesk:agentdesk /app

COPY --from=builder /agentdesk /usr/local/bin/agentdesk

WORKDIR /app

ENV AGENTDESK_BIND=0.0.0.0:8080

EXPOSE 8080

USER agentdesk

# The binary probes its own /health/ready endpoint; no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["agentdesk", "healthcheck"]

ENTRYPOINT ["agentdesk"]
CMD ["serve"]
