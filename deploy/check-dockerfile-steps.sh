#!/usr/bin/env bash
# The Dockerfile's steps run by hand in a clean directory, for machines without a Docker daemon
# (a documented manual check, not part of `npm test`: `npm ci` downloads every dependency and
# compiles the native modules, minutes on a small machine). Exit 0 = the image would build and run.
#
#   bash deploy/check-dockerfile-steps.sh [COMMIT]     (default HEAD; needs the npm registry)
#
# Steps, as in the Dockerfile: the committed tree (minus .dockerignore's entries, which git
# archive leaves out anyway: node_modules, web/dist, data) → npm ci → node web/build.mjs →
# npm prune --omit=dev → rm test bench web/src → start as ENTRYPOINT does with CONTINUUM_DATA_DIR
# → the HEALTHCHECK command answers 0 → `continuum backup` while it runs → SIGTERM → exit 0 →
# `continuum restore` into a fresh data dir.
set -euo pipefail
cd "$(dirname "$0")/.."
COMMIT=${1:-HEAD}
WORK=$(mktemp -d /tmp/continuum-dockerfile-XXXXXX)
APP=$WORK/opt/continuum
DATA=$WORK/data
mkdir -p "$APP" "$DATA" && chmod 0700 "$DATA"
trap 'rm -rf "$WORK"' EXIT
step() { printf '\n== %s (%ss)\n' "$*" "$SECONDS"; }

step "COPY . (git archive $COMMIT)"
git archive "$COMMIT" | tar -x -C "$APP"
cd "$APP"
step "RUN npm ci"
npm ci --no-audit --no-fund
step "RUN node web/build.mjs"
node web/build.mjs
test -f web/dist/index.html
step "RUN npm prune --omit=dev"
npm prune --omit=dev --no-audit --no-fund
rm -rf test bench web/src web/node_modules
test ! -e node_modules/vite && test -e node_modules/tsx

step "ENTRYPOINT node bin/continuum.mjs start (ports 0, CONTINUUM_DATA_DIR=$DATA)"
export NODE_ENV=production CONTINUUM_DATA_DIR=$DATA CONTINUUM_HOST=127.0.0.1 \
  CONTINUUM_HTTP_PORT=0 CONTINUUM_MQTT_PORT=0 CONTINUUM_MQTT_TLS_PORT=0 CONTINUUM_COAP_PORT=0 \
  CONTINUUM_ADMIN_PASSWORD=dockerfile-check-1
node bin/continuum.mjs start >"$WORK/server.log" 2>&1 &
PID=$!
HEALTH="const p=JSON.parse(require('fs').readFileSync(process.env.CONTINUUM_DATA_DIR+'/ports.json','utf8')).http;fetch('http://127.0.0.1:'+p+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
for _ in $(seq 1 120); do
  if [ -f "$DATA/ports.json" ] && node -e "$HEALTH"; then break; fi
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/server.log"; echo "server exited during start" >&2; exit 1; }
  sleep 0.5
done
step "HEALTHCHECK"
node -e "$HEALTH" && echo "healthy: $(cat "$DATA/ports.json")"
PORT=$(node -p "JSON.parse(require('fs').readFileSync('$DATA/ports.json','utf8')).http")
curl -fsS "http://127.0.0.1:$PORT/" | grep -qi '<html' && echo "dashboard served"
step "continuum backup (as in the container: docker compose exec continuum node bin/continuum.mjs backup ...)"
node bin/continuum.mjs backup "$WORK/backup.tar"
tar tf "$WORK/backup.tar"
step "STOPSIGNAL SIGTERM"
kill -TERM "$PID"
wait "$PID" && echo "server exited 0"
step "continuum restore into a fresh data dir"
node bin/continuum.mjs restore "$WORK/backup.tar" --data-dir "$WORK/restored"
step "done"
