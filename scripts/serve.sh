#!/usr/bin/env bash
# Start the action server (loopback only), the Rasa server and the chat widget's demo page
# (scripts/serve_web.py, loopback only); Ctrl-C stops them all.
set -euo pipefail
model="${1:?usage: serve.sh MODEL}"
bin=.venv/bin
web_port="${WEB_PORT:-8080}"
mkdir -p var

# Only a model whose sha256 matches the one recorded at training is loaded.
"$bin/python" -m scripts.model_integrity verify "$model"
# make reload authenticates with this token; a new one for each start unless given.
if [ -z "${RASA_RELOAD_TOKEN:-}" ]; then
  (umask 077 && "$bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))' > var/reload-token)
  RASA_RELOAD_TOKEN=$(cat var/reload-token)
  export RASA_RELOAD_TOKEN
fi

SANIC_HOST=127.0.0.1 "$bin/rasa" run actions --actions actions --port "$ACTION_SERVER_PORT" &
actions_pid=$!
"$bin/python" -m scripts.rasa_server run --model "$model" --endpoints "${ENDPOINTS:-endpoints.yml}" --credentials credentials.yml \
  --interface "$RASA_INTERFACE" --port "$RASA_PORT" &
rasa_pid=$!
# The demo page talks to the Rasa server from the browser; its origin must be in SOCKETIO_CORS_ORIGINS.
"$bin/python" scripts/serve_web.py --host 127.0.0.1 --port "$web_port" \
  --rasa-url "http://localhost:$RASA_PORT" --quiet &
web_pid=$!

stop() { kill "$rasa_pid" "$actions_pid" "$web_pid" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT

for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$RASA_PORT/webhooks/rest/" >/dev/null; then break; fi
  if ! kill -0 "$rasa_pid" 2>/dev/null; then echo "The Rasa server stopped; see the messages above." >&2; exit 1; fi
  sleep 1
done
if ! kill -0 "$web_pid" 2>/dev/null; then
  echo "The demo page server stopped (is port $web_port in use? set WEB_PORT); see the messages above." >&2
  exit 1
fi
case ",${SOCKETIO_CORS_ORIGINS:-}," in
  *",http://localhost:$web_port,"*) ;;
  *) echo "Note: http://localhost:$web_port is not in SOCKETIO_CORS_ORIGINS, so the chat on the demo page cannot connect." >&2 ;;
esac
cat <<MSG

  The assistant is running.
    Chat widget demo page:  http://localhost:$web_port/
    Rasa server:            http://localhost:$RASA_PORT  (REST webhook: /webhooks/rest/webhook, socket.io: /socket.io)
    Try:  curl -s localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender": "me", "message": "how do I get crime alerts"}'
    Or, in another terminal:  make shell
  Press Ctrl-C to stop.

MSG
wait -n "$rasa_pid" "$actions_pid" "$web_pid"
