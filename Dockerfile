# The Continuum platform in a container: `docker build -t continuum .`, then compose.yaml (one node)
# or deploy/compose.cluster.yaml (NATS JetStream + nodes). deploy/check-dockerfile-steps.sh runs the
# same steps by hand in a clean directory, where no Docker daemon is available.
#
# The server is the container's first process (no npm, no shell in between), so `docker stop`
# delivers SIGTERM to it and it shuts down cleanly: acknowledgements drained, store closed.

# --- build: compilers for the native modules, dev dependencies for the dashboard build ----------
FROM node:20-bookworm-slim AS build
WORKDIR /opt/continuum
# better-sqlite3 and serialport build from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
# Dependencies first (a layer that changes only with the lock file). `npm ci` runs the package's
# prepare script, which builds the dashboard from web/: copy web/ before it.
COPY package.json package-lock.json ./
COPY web ./web
RUN npm ci --no-audit --no-fund
COPY . .
# A no-op when prepare's build is newer than web/ (the usual case); rebuilds otherwise.
RUN node web/build.mjs
# The runtime needs the production dependencies only (tsx, which runs the TypeScript sources, is
# one of them); vite, eslint, typescript and the test tools stay behind in this stage.
RUN npm prune --omit=dev --no-audit --no-fund && rm -rf test bench web/src web/node_modules

# --- runtime: no compilers, no dev dependencies, not root ------------------------------------------
FROM node:20-bookworm-slim
WORKDIR /opt/continuum
ENV NODE_ENV=production \
    CONTINUUM_DATA_DIR=/data
COPY --from=build --chown=root:root /opt/continuum /opt/continuum
# The data dir (database, credential key, OTA packages) belongs to the unprivileged `node` user
# (uid 1000) and nobody else; the code stays owned by root, read-only to the server.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
VOLUME ["/data"]
# HTTP (API, dashboard, device API, MQTT over WebSocket), MQTT, MQTT over TLS, CoAP.
EXPOSE 8080 1883 8883 5683/udp
STOPSIGNAL SIGTERM
# Liveness from the port the server really bound (written to <data-dir>/ports.json once every
# listener is up), so a changed CONTINUUM_HTTP_PORT needs no second edit here.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const p=JSON.parse(require('fs').readFileSync(process.env.CONTINUUM_DATA_DIR+'/ports.json','utf8')).http;fetch('http://127.0.0.1:'+p+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/continuum.mjs", "start"]
