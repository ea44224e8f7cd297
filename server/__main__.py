"""The one way to start the assistant's parts.

python -m server run            start and supervise everything (make run)
python -m server shell          talk to the assistant in the terminal (make shell)
python -m server rasa ARGS...   `rasa ARGS` with the defaults, checks and patches (the Rasa server
                                of make run and of the cluster, the conversation tests)
python -m server train          train the model and record its sha256 (make train)
"""

import os
import subprocess
import sys
from pathlib import Path

from core.model_integrity import record
from server import commands, processes
from server.settings import ROOT, environment


def train() -> int:
    env = environment()
    model = Path(env["RASA_MODEL"])
    name = model.name.removesuffix(".tar.gz")
    done = subprocess.run(commands.train(str(model.parent), name), cwd=ROOT, env=env)
    if done.returncode != 0:
        return done.returncode
    print(f"{model} sha256 {record(ROOT / model)}")
    return 0


PARTS = {"rasa": processes.rasa_server, "actions": processes.action_server, "demo-page": processes.demo_page}


def start(part_name: str) -> int:
    """Replace this process with one part, with its command and environment."""
    part = PARTS[part_name](environment())
    os.chdir(ROOT)
    os.execvpe(part.command[0], part.command, part.env)


def main(argv: list) -> int:
    if not argv or argv[0] not in ("run", "shell", "rasa", "train", "start"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "start":
        if len(argv) != 2 or argv[1] not in PARTS:
            print(f"usage: python -m server start {'|'.join(PARTS)}", file=sys.stderr)
            return 2
        return start(argv[1])
    if argv[0] == "run":
        from server.supervisor import main as supervise

        return supervise()
    if argv[0] == "train":
        return train()
    from server.launcher import run_rasa

    if argv[0] == "shell":
        env = environment()
        run_rasa(["shell", "--model", env["RASA_MODEL"], "--endpoints", env["ENDPOINTS"], *argv[1:]])
    else:
        run_rasa(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
