"""The command line of every part, in one place: the supervisor (make run), the cluster, the
tests and the benchmark start the parts with these and the environment of server.settings."""

import sys
from pathlib import Path
from typing import List

PYTHON = sys.executable
RASA = str(Path(sys.executable).with_name("rasa"))
CREDENTIALS = "credentials.yml"


def rasa(*args: str) -> List[str]:
    """`rasa ARGS` through the launcher (environment defaults, checks and patches)."""
    return [PYTHON, "-m", "server", "rasa", *args]


def rasa_server(model: str, endpoints: str, interface: str, port: int) -> List[str]:
    return rasa(
        "run", "--model", model, "--endpoints", endpoints, "--credentials", CREDENTIALS,
        "--interface", interface, "--port", str(port),
    )  # fmt: skip


def action_server(port: int) -> List[str]:
    """The action server; it binds SANIC_HOST, which server.processes sets to 127.0.0.1."""
    return [RASA, "run", "actions", "--actions", "actions", "--port", str(port)]


def demo_page(port: int, rasa_url: str) -> List[str]:
    return [
        PYTHON,
        "-m",
        "server.demo_page",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--rasa-url",
        rasa_url,
        "--quiet",
    ]


def train(out: str = "models", name: str = "assistant") -> List[str]:
    """A full training (no cache: the danger and language models read their own data files, which
    Rasa's cache cannot see), without Rasa's data validation, which `make validate` runs; through
    the launcher, whose patches include one for training (fix 13)."""
    return rasa("train", "--force", "--skip-validation", "--fixed-model-name", name, "--out", out)
