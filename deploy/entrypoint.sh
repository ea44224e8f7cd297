#!/bin/sh
# The container's entrypoint (deploy/Dockerfile): `assistant rasa`, `assistant actions` or
# `assistant refusals`.
#   rasa     the Rasa server on ${RASA_INTERFACE}:${RASA_PORT} (0.0.0.0:5005 in the image: the pod's
#            address; the Service and the Ingress are in front), with ENDPOINTS
#            (endpoints.production.yml): PostgreSQL and Redis from TRACKER_STORE_* and REDIS_*.
#            Starts only if the model's sha256 matches the one recorded at training. The HTTP API
#            stays off unless RASA_ENABLE_API=true, and then needs RASA_JWT_SECRET (the launcher,
#            server/launcher.py, refuses to start otherwise).
#   actions  the action server on 127.0.0.1:${ACTION_SERVER_PORT} only: reachable from the Rasa
#            server in the same pod, from nothing else.
#   refusals the Ingress's default backend on 0.0.0.0:${REFUSALS_PORT:-8080}: the assistant's reply
#            with 101 and 999 for every request the Ingress refuses (server/refusals.py,
#            deploy/k8s/refusals.yaml).
# The commands and the defaults are those of `make run`: server/commands.py, server/settings.py.
set -eu
cd "${APP_DIR:-/app}"
case "${1:-rasa}" in
  rasa|actions) exec python -m server start "${1:-rasa}" ;;
  refusals) exec python -m server.refusals --port "${REFUSALS_PORT:-8080}" ;;
  *) echo "usage: assistant rasa|actions|refusals" >&2; exit 2 ;;
esac
