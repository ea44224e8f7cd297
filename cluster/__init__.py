"""The production shape on one machine (make cluster): PostgreSQL, Redis, Rasa replicas with their
action servers, and nginx in front. `python -m cluster up|down|status`; the parts are in local.py."""
