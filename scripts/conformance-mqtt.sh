#!/usr/bin/env bash
# Runs the Eclipse Paho MQTT interoperability client tests (3.1.1 and 5.0) against the embedded
# broker in its conformance profile. The suite is another project's code and is not in this
# repository: check out eclipse/paho.mqtt.testing somewhere and pass PAHO_DIR.
#   PAHO_DIR=/path/to/paho.mqtt.testing scripts/conformance-mqtt.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PAHO_DIR:?set PAHO_DIR to a checkout of eclipse/paho.mqtt.testing}"
RUNNER="${PAHO_RUNNER:-../shared/peers/run_paho.py}"
PORT="${PORT:-18830}"
node --import tsx src/apps/mqtt-standalone.ts --port "$PORT" --profile conformance &
BROKER=$!
trap 'kill $BROKER 2>/dev/null' EXIT
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.2; done
status=0
PAHO_DIR="$PAHO_DIR" /usr/bin/python3 "$RUNNER" 3 127.0.0.1 "$PORT" --timeout=40 || status=1
PAHO_DIR="$PAHO_DIR" /usr/bin/python3 "$RUNNER" 5 127.0.0.1 "$PORT" --timeout=40 || status=1
exit $status
