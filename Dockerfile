# syntax=docker/dockerfile:1
#
# Keel's production image: the compiled dist/ on Node 20 with production dependencies only, run as
# the unprivileged `node` user under tini. One image serves both roles; the command picks one:
#
#   docker build -t keel .
#   docker run … keel serve --role api         # the GraphQL API on PORT (4000): /graphql, /health, /ready, /metrics
#   docker run … keel serve --role projector   # projectors + process manager; /health, /ready, /metrics on PROJECTOR_PORT (4001)
#   docker run … keel projections status       # any other `keel` command
#
# Production mode needs JWT_SECRET (at least 32 characters) for the API role, and DATABASE_URL
# (without it Keel would keep its data in an embedded PGlite under /app/.keel, inside the
# container). docs/operations/docker.md says how it is used and what has (not) been checked.

# The one base image of every stage, pinned to Node 20 on Debian 12 (bookworm), slim variant.
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: every dependency, tsc, the inspector's assets → /app/dist ------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# The lockfile first, so the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/build.mjs
COPY src/ src/
RUN npm run build

# --- production dependencies only ---------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime --------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: it forwards SIGTERM/SIGINT to node (Keel closes gracefully on them, within 10 s)
# and reaps zombies. Node as PID 1 would get no default signal handling from the kernel.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    PROJECTOR_PORT=4001
WORKDIR /app
# Owned by root and read-only to the `node` user: the process cannot change its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY --from=build /app/dist ./dist
# The embedded PGlite's default directory (KEEL_DATA_DIR=./.keel), the only place Keel writes to
# disk, and only when DATABASE_URL is unset: writable by `node`, so that mode works too.
RUN mkdir -p /app/.keel && chown node:node /app/.keel
# uid/gid 1000 in the official Node images (Kubernetes' runAsUser: 1000 names it by number).
USER node
EXPOSE 4000 4001
# Liveness: /health on the API's PORT or, for the projector role, on PROJECTOR_PORT (whichever
# the process serves), with Node's own fetch: the slim image has no curl. Readiness (/ready) is
# the orchestrator's business (docker-compose.yml, deploy/kubernetes/).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const ports = [process.env.PORT || '4000', process.env.PROJECTOR_PORT || '4001']; Promise.any(ports.map((port) => fetch('http://127.0.0.1:' + port + '/health').then((r) => (r.ok ? r : Promise.reject(new Error(String(r.status))))))).then(() => process.exit(0), () => process.exit(1));"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli/main.js"]
CMD ["serve", "--role", "api"]
