#!/bin/sh
# The container's entrypoint (deploy/Dockerfile): `assistant rasa` or `assistant actions`.
#   rasa     the Rasa server on 0.0.0.0:${RASA_PORT:-5005} (the pod's address; the Service and the
#            Ingress are in front), with ENDPOINTS (endpoints.production.yml): PostgreSQL and
#            Redis from TRACKER_STORE_* and REDIS_*. Starts only if the model's sha256 matches the
#            one recorded at training. The HTTP API stays off unless RASA_ENABLE_API=true, and then
#            needs RASA_JWT_SECRET (scripts/rasa_server.py refuses to start otherwise).
#   actions  the action server on 127.0.0.1:${ACTION_SERVER_PORT:-5055} only: reachable from the
#            Rasa server in the same pod, from nothing else.
set -eu
cd "${APP_DIR:-/app}"
role="${1:-rasa}"
case "$role" in
  rasa)
    python -m scripts.model_integrity verify "${RASA_MODEL:-models/assistant.tar.gz}"
    exec python -m scripts.rasa_server run \
      --model "${RASA_MODEL:-models/assistant.tar.gz}" \
      --endpoints "${ENDPOINTS:-endpoints.production.yml}" \
      --credentials credentials.yml \
      --interface "${RASA_INTERFACE:-0.0.0.0}" --port "${RASA_PORT:-5005}"
    ;;
  actions)
    SANIC_HOST=127.0.0.1 exec rasa run actions --actions actions --port "${ACTION_SERVER_PORT:-5055}"
    ;;
  *)
    echo "usage: assistant rasa|actions" >&2
    exit 2
    ;;
esac
