# The Continuum platform in a container: `docker build -t continuum .`, then see compose.yaml.
# The server is the container's first process (no npm, no shell in between), so `docker stop`
# delivers SIGTERM to it and it shuts down cleanly: acknowledgements drained, store closed.
FROM node:20-bookworm-slim AS build
WORKDIR /opt/continuum
# better-sqlite3 and serialport build from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY web ./web
RUN npm ci --no-audit --no-fund
COPY . .
RUN node web/build.mjs

FROM node:20-bookworm-slim
WORKDIR /opt/continuum
COPY --from=build /opt/continuum /opt/continuum
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
ENV CONTINUUM_DATA_DIR=/data
VOLUME ["/data"]
# HTTP (API, dashboard, device API, MQTT over WebSocket), MQTT, MQTT over TLS, CoAP.
EXPOSE 8080 1883 8883 5683/udp
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/continuum.mjs", "start"]
