"""Run a `rasa` command the way the public gets it: environment defaults, security settings, the
model's integrity check and the patches of server/patches.py, all in this process.

    python -m server rasa run --model ... (the same arguments as `rasa run`; also shell, test, ...)

Start-up checks (security_arguments): Rasa's HTTP API is off unless RASA_ENABLE_API=true, and
then it needs a JWT signed with RASA_JWT_SECRET (HS256, or RASA_JWT_METHOD): the launcher refuses
to start with the API on and no secret, or with --auth-token (a token in the query string ends
up in logs). The secret is handed to Rasa inside this process, so it is never on a command line.
CORS for the API: only the origins in RASA_CORS_ORIGINS (comma-separated, no "*"). `run` and
`shell` load a model only if its sha256 matches the one recorded at training.
"""

import os
import sys
from pathlib import Path
from typing import List, Mapping, Optional, Sequence

from core.model_integrity import ModelIntegrityError, verify
from server.settings import environment

# Commands that serve a model to people: the model must be the one `make train` recorded.
SERVING_COMMANDS = ("run", "shell")


class StartupRefused(SystemExit):
    pass


def _has(argv: Sequence[str], option: str) -> bool:
    return any(arg == option or arg.startswith(option + "=") for arg in argv)


def _value(argv: Sequence[str], option: str) -> Optional[str]:
    for index, arg in enumerate(argv):
        if arg == option and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
    return None


def security_arguments(argv: Sequence[str], environ: Mapping[str, str]) -> List[str]:
    """The `rasa run` arguments with the API, JWT and CORS settings from the environment, or StartupRefused."""
    argv = list(argv)
    if len(argv) < 2 or argv[1] != "run" or (len(argv) > 2 and argv[2] == "actions"):
        return argv
    if _has(argv, "--auth-token") or _has(argv, "-t"):
        raise StartupRefused(
            "Refusing to start: --auth-token is not allowed; the HTTP API takes a JWT (RASA_JWT_SECRET)."
        )
    if environ.get("RASA_ENABLE_API", "").strip().lower() == "true" and not _has(argv, "--enable-api"):
        argv.append("--enable-api")
    if _has(argv, "--enable-api"):
        secret = environ.get("RASA_JWT_SECRET", "").strip()
        if not secret and not _has(argv, "--jwt-secret"):
            raise StartupRefused(
                "Refusing to start: the HTTP API is on (RASA_ENABLE_API=true) but RASA_JWT_SECRET is not set."
            )
        if secret and not _has(argv, "--jwt-secret"):
            argv += ["--jwt-secret", secret, "--jwt-method", environ.get("RASA_JWT_METHOD", "").strip() or "HS256"]
    origins = [origin.strip() for origin in environ.get("RASA_CORS_ORIGINS", "").split(",") if origin.strip()]
    if "*" in origins or any(arg == "*" for arg in argv):
        raise StartupRefused("Refusing to start: CORS must name the allowed origins (RASA_CORS_ORIGINS), not '*'.")
    if origins and not _has(argv, "--cors"):
        argv += ["--cors", *origins]
    return argv


def check_model(argv: Sequence[str]) -> None:
    """StartupRefused unless a serving command's --model is the model recorded at training."""
    if len(argv) < 2 or argv[1] not in SERVING_COMMANDS or (len(argv) > 2 and argv[2] == "actions"):
        return
    model = _value(argv, "--model") or _value(argv, "-m")
    if model is None:
        raise StartupRefused("Refusing to start: give the model with --model (make run does).")
    try:
        verify(Path(model))
    except ModelIntegrityError as error:
        raise StartupRefused(f"Refusing to start: {error}") from None


def run_rasa(args: Sequence[str]) -> None:
    """`rasa ARGS` in this process, with the defaults, the checks and the patches."""
    os.environ.update(environment())
    argv = security_arguments(["rasa", *args], os.environ)
    check_model(argv)
    from server import patches  # before anything imports Rasa: fix 8 must come first

    try:
        patches.apply()
    except patches.UncheckedRasaVersion as error:
        raise StartupRefused(f"Refusing to start: {error}") from None
    from rasa.__main__ import main as rasa_main

    sys.argv = argv
    rasa_main()
