"""Share a py-spy profile of the Rasa server out over the stages of a message (docs/profiling.md).

    python bench/profile_stages.py rasa.raw [MS_PER_MESSAGE]

rasa.raw is `py-spy record -f raw` output (one line per distinct stack: frames joined by ";",
then the sample count). Each sample goes to the first stage whose marker is in its stack; with
MS_PER_MESSAGE (the server's CPU time per message, from /proc/PID/stat over the same run) each
share is also given in milliseconds. Standard library only.
"""

import sys
from collections import Counter
from typing import Dict, Iterable, List, Optional, Tuple

STAGES: List[Tuple[str, Tuple[str, ...]]] = [
    (
        "reading the conversation from the store",
        ("get_tracker (rasa/core/processor.py", "fetch_tracker_and_update_session"),
    ),
    ("storing the turn", ("save_tracker (rasa/core/processor.py",)),
    ("understanding the message (NLU graph)", ("_parse_message_with_graph",)),
    ("choosing the next action (policy graph)", ("_predict_next_with_tracker", "predict_next_with_tracker_if_should")),
    ("calling the action server", ("run (rasa/core/actions/action.py",)),
    ("conversation lock", ("lock (rasa/core/lock_store.py",)),
    ("rest of Rasa's message handling", ("handle_message (rasa/core/processor.py",)),
]
OTHER = "HTTP server, channel, event loop"


def stage_of(stack: str) -> str:
    return next((name for name, markers in STAGES if any(marker in stack for marker in markers)), OTHER)


def shares(lines: Iterable[str]) -> Dict[str, float]:
    """Each stage's share of the samples, in the order of STAGES, OTHER last."""
    counts: Counter = Counter()
    for line in lines:
        line = line.rstrip()
        if line:
            stack, samples = line.rsplit(" ", 1)
            counts[stage_of(stack)] += int(samples)
    total = sum(counts.values())
    if not total:
        raise ValueError("no samples in the profile")
    return {name: counts[name] / total for name in [name for name, _ in STAGES] + [OTHER]}


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    ms_per_message = float(args[1]) if len(args) > 1 else None
    with open(args[0], encoding="utf-8") as profile:
        result = shares(profile)
    for name, share in result.items():
        print(f"{name:45s} {share:6.1%}" + (f"  {share * ms_per_message:5.2f} ms" if ms_per_message else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
