"""The per-step timings of docs/profiling.md's fourth round, each Rasa's way and ours, in one process.

    .venv/bin/python -m bench.micro [--repeats N] [--model models/assistant.tar.gz]

Prints microseconds (milliseconds for the whole-file steps) per call, before and after, the
median of N rounds:
checking an action server reply (fix 1), copying a tracker of 100 turns (fix 15), deep-copying a
turn's events for a debug log line (fix 14), reading the danger training data (core/yaml_data.py)
and writing the trained model's archive (fix 13; skipped without the model).
"""

import argparse
import copy
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

import jsonschema
import yaml
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker

from core import yaml_data
from core.danger import DATA_DIR
from server import patches

ROOT = Path(__file__).resolve().parent.parent
Row = Tuple[str, str, float, float]  # what, unit, before (Rasa's way), after (ours)

REPLY = {
    "events": [SlotSet("language", "en").as_dict(), SlotSet("last_route", "live_chat").as_dict()],
    "responses": [
        {"text": "You can chat with us live on our website.", "buttons": [{"title": "Live chat", "payload": "/x"}]}
    ],
}


def turn(text: str) -> List[Any]:
    """A turn as this assistant's conversations store it."""
    return [
        UserUttered(text, {"name": "live_chat", "confidence": 0.9}),
        DefinePrevUserUtteredFeaturization(False),
        ActionExecuted("action_route_to_channel"),
        SlotSet("last_route", "live_chat"),
        BotUttered("You can chat with us live on our website."),
        ActionExecuted("action_listen"),
    ]


def conversation(turns: int) -> DialogueStateTracker:
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for number in range(turns):
        events += turn(f"message {number}")
    slots = [TextSlot(name, mappings=[{"type": "custom"}]) for name in ("language", "last_route")]
    return DialogueStateTracker.from_events("someone", events, slots)


def per_call(function: Callable[[], Any], repeats: int, calls: int) -> float:
    """The median over `repeats` rounds of the time of one call, in seconds."""
    rounds = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            function()
        rounds.append((time.perf_counter() - started) / calls)
    return statistics.median(rounds)


def write_archive(source: Path, target: Path, level: int) -> None:
    with tarfile.open(target, "w:gz", compresslevel=level) as tar:
        tar.add(source, arcname="")


def timings(repeats: int = 5, model: Optional[Path] = None) -> List[Row]:
    action, schema = RemoteAction("action_route_to_channel", None), RemoteAction.action_response_format_spec()
    tracker, events = conversation(100), turn("hi")
    danger_files = sorted(DATA_DIR.rglob("*.yml"))
    texts = [path.read_text(encoding="utf-8") for path in danger_files]
    rows: List[Row] = [
        (
            "action reply checked (jsonschema.validate, Rasa's call / fix 1)",
            "µs",
            per_call(lambda: jsonschema.validate(REPLY, schema), repeats, 20) * 1e6,
            per_call(lambda: patches.validate_action_result(action, REPLY), repeats, 200) * 1e6,
        ),
        (
            "action reply checked (the validator built once, fix 1 until this round / fix 1 now)",
            "µs",
            per_call(lambda: patches._action_reply_validator().validate(REPLY), repeats, 200) * 1e6,
            per_call(lambda: patches.validate_action_result(action, REPLY), repeats, 200) * 1e6,
        ),
        (
            "tracker of 100 turns copied (fix 15)",
            "µs",
            per_call(lambda: patches._original_tracker_copy(tracker), repeats, 50) * 1e6,
            per_call(lambda: patches.tracker_copy_from_latest_events(tracker), repeats, 50) * 1e6,
        ),
        (
            "a turn's events copied for a dropped debug line (fix 14)",
            "µs",
            per_call(lambda: copy.deepcopy(events), repeats, 500) * 1e6,
            per_call(lambda: patches.COPY_FOR_DEBUG_LOGS.deepcopy(events), repeats, 500) * 1e6,
        ),
        (
            f"danger training data read ({len(danger_files)} files, yaml.safe_load / core.yaml_data)",
            "ms",
            per_call(lambda: [yaml.safe_load(text) for text in texts], repeats, 1) * 1e3,
            per_call(lambda: [yaml_data.load(text) for text in texts], repeats, 1) * 1e3,
        ),
    ]
    if model is not None and model.is_file():
        with tempfile.TemporaryDirectory(prefix="micro-") as folder:
            unpacked, archive = Path(folder) / "model", Path(folder) / "model.tar.gz"
            with tarfile.open(model, "r:gz") as tar:
                tar.extractall(unpacked)  # noqa: S202 (our own trained model)
            rows.append(
                (
                    "model archive written (gzip level 9 / fix 13's level 6)",
                    "ms",
                    per_call(lambda: write_archive(unpacked, archive, 9), min(repeats, 3), 1) * 1e3,
                    per_call(lambda: write_archive(unpacked, archive, patches.MODEL_GZIP_LEVEL), min(repeats, 3), 1)
                    * 1e3,
                )
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "assistant.tar.gz")
    args = parser.parse_args()
    print("| step | before | after |\n|---|---|---|")
    for what, unit, rasas, ours in timings(args.repeats, args.model):
        print(f"| {what} | {rasas:.1f} {unit} | {ours:.1f} {unit} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
