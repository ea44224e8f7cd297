"""The environment defaults of every part, in one place.

`make run`, `make shell`, the conversation tests, the cluster, the tests and the benchmark all start
the parts through `environment()`, so endpoints.yml and credentials.yml always find their
variables. Set any of them in the environment to override.
"""

import os
from pathlib import Path
from typing import Dict, Mapping, Optional

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"

# In order: a default may refer to an earlier one as {NAME}.
DEFAULTS: Dict[str, str] = {
    "ENDPOINTS": "endpoints.yml",
    "RASA_MODEL": "models/assistant.tar.gz",
    "RASA_INTERFACE": "127.0.0.1",
    "RASA_PORT": "5005",
    "ACTION_SERVER_PORT": "5055",
    "ACTION_SERVER_URL": "http://127.0.0.1:{ACTION_SERVER_PORT}/webhook",
    "WEB_PORT": "8080",
    "SOCKETIO_CORS_ORIGINS": "http://localhost:{WEB_PORT},http://127.0.0.1:{WEB_PORT}",
    "TRACKER_STORE_DIALECT": "sqlite",
    "TRACKER_STORE_DB": "var/conversations.db",
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore::DeprecationWarning",
    # One thread for the numerical libraries: a server answers one message at a time, and OpenBLAS's
    # second thread spun between the small products of each message, taking half a core from the
    # action server (docs/profiling.md).
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
}


def environment(base: Optional[Mapping[str, str]] = None, **overrides: str) -> Dict[str, str]:
    """`base` (the process environment by default) with `overrides`, and a default for every unset variable."""
    env = dict(os.environ if base is None else base)
    env.update(overrides)
    for name, default in DEFAULTS.items():
        if not env.get(name):
            env[name] = default.format(**env)
    return env
