#!/usr/bin/env bash
# Start the action server (loopback only) and the Rasa server; Ctrl-C stops both.
set -euo pipefail
model="${1:?usage: serve.sh MODEL}"
bin=.venv/bin
mkdir -p var

SANIC_HOST=127.0.0.1 "$bin/rasa" run actions --actions actions --port "$ACTION_SERVER_PORT" &
actions_pid=$!
"$bin/rasa" run --model "$model" --endpoints endpoints.yml --credentials credentials.yml \
  --interface "$RASA_INTERFACE" --port "$RASA_PORT" &
rasa_pid=$!

stop() { kill "$rasa_pid" "$actions_pid" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT

for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$RASA_PORT/webhooks/rest/" >/dev/null; then break; fi
  if ! kill -0 "$rasa_pid" 2>/dev/null; then echo "The Rasa server stopped; see the messages above." >&2; exit 1; fi
  sleep 1
done
cat <<MSG

  The assistant is running.
    REST webhook:  http://localhost:$RASA_PORT/webhooks/rest/webhook
    Try:  curl -s localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender": "me", "message": "how do I get crime alerts"}'
    Or, in another terminal:  make shell
  Press Ctrl-C to stop.

MSG
wait -n "$rasa_pid" "$actions_pid"
