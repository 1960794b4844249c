# syntax=docker/dockerfile:1
# The Airlock gateway: `docker build -t <registry>/airlock:<version> .`
# Runs `airlock serve` as a non-root user on a read-only root filesystem; the only writable place it
# needs is the audit volume (set audit.path in the config, or AIRLOCK_AUDIT_PATH, to a file in it).
ARG NODE_IMAGE=node:20-bookworm-slim

# Build: full install (compiler included), compile src/ and tools/ to dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY tools ./tools
RUN npm run build

# Production dependencies only: no compiler, no tsx/esbuild, nothing of the sandbox.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
# tini reaps children and forwards SIGTERM, so `airlock serve` drains on pod termination.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 10001 airlock \
 && useradd --uid 10001 --gid airlock --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin airlock \
 && mkdir -p /etc/airlock/policies /var/lib/airlock/audit \
 && chown airlock:airlock /var/lib/airlock/audit
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/tools ./dist/tools
COPY package.json ./
COPY bin ./bin
COPY policies ./policies
ENV NODE_ENV=production
USER 10001:10001
EXPOSE 8080
# No curl in the image: Node's fetch asks /healthz. AIRLOCK_HEALTH_URL overrides where it asks.
HEALTHCHECK --interval=20s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.AIRLOCK_HEALTH_URL ?? 'http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/airlock.js"]
CMD ["serve", "--config", "/etc/airlock/airlock.json"]
