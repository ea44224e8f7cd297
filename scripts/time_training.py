"""Time a full training and a retrain after adding one NLU example (both `make train`'s command).

Works on a copy of the project's training files in a temporary folder, so nothing is changed.

    python -m scripts.time_training [--project .]
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict

from server import commands
from server.settings import environment

TRAINING_FILES = (
    "config.yml",
    "domain.yml",
    "data",
    "components",
    "core",
    "catalogue",
    "actions",
    "channels",
    "server",
)


def train(workdir: Path) -> float:
    env = environment(RASA_CACHE_DIRECTORY=str(workdir / ".rasa" / "cache"), PYTHONPATH=str(workdir))
    started = time.perf_counter()
    subprocess.run(
        commands.train("models", "timed"),
        cwd=workdir,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def add_example(workdir: Path) -> None:
    path = workdir / "data" / "nlu" / "en" / "routing.yml"
    text = path.read_text(encoding="utf-8")
    marker = "- intent: alerts\n  examples: |\n"
    path.write_text(
        text.replace(marker, marker + "    - any chance of crime updates for my road\n", 1), encoding="utf-8"
    )


def time_training(project: Path) -> Dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="time-training-") as folder:
        workdir = Path(folder)
        for name in TRAINING_FILES:
            source = project / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, workdir / name)
        full = train(workdir)
        add_example(workdir)
        examples_only = train(workdir)
    return {"full_training_s": full, "examples_only_retrain_s": examples_only}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=Path("."))
    args = parser.parse_args()
    result = time_training(args.project.resolve())
    print(f"full training (empty cache): {result['full_training_s']:.1f} s")
    print(f"retrain after adding one NLU example: {result['examples_only_retrain_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
