# The tagraph image: one image for the gateway (default), the import worker and migrations.
#   docker build -t tagraph .
#   docker run tagraph    the gateway (+ in-process worker unless TAGRAPH_IMPORT_WORKER=false)
#   docker run tagraph node --enable-source-maps dist/worker.js    the import worker alone
#   docker run tagraph node --enable-source-maps dist/migrate.js   applies the migrations, exits
# test/integration/runtime-tree.test.ts rebuilds the final stage's tree from this file's COPY lines
# and runs it with plain node, so keep every runtime file a COPY of the final stage.

ARG NODE_IMAGE=node:24-bookworm-slim

# Compiles src/ into dist/ with the dev dependencies (esbuild).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts off: `prepare` would build before the sources are here. esbuild's install script (the
# only dependency with one) then runs by name.
RUN npm ci --ignore-scripts --no-audit --no-fund
RUN npm rebuild esbuild
COPY . .
RUN npm run build

# Production dependencies only, without install scripts.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# What runs: node, production node_modules, dist/, the migrations, package.json. Nothing else.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    TAGRAPH_HOST=0.0.0.0 \
    TAGRAPH_PORT=4000 \
    TAGRAPH_DATA_DIR=/var/lib/tagraph/data
# A fixed numeric user, so Kubernetes' runAsNonRoot can verify it; the application files stay
# owned by root and read-only to it. /var/lib/tagraph is the one writable place: the embedded
# database of a try-out run without DATABASE_URL (mount a volume there to keep it).
RUN groupadd --system --gid 10001 tagraph \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin tagraph \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/tagraph
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/drizzle ./drizzle
COPY --from=build /app/package.json ./package.json
USER 10001:10001
EXPOSE 4000
# No HEALTHCHECK: the worker and migrate commands share the image and serve no HTTP; an
# orchestrator probes the gateway's /healthz and /readyz (see deploy/).
# node is PID 1: every entry point handles SIGTERM and SIGINT itself (drains, then exits 0) and
# starts no child processes, so no init is needed; the exec form delivers signals to node.
CMD ["node", "--enable-source-maps", "dist/main.js"]
