"""`make validate`: check everything staff edit, before Rasa's own `rasa data validate`.

Prints each problem as `file:line: what is wrong -- how to fix it` and exits 1 if there is one:
YAML syntax; the catalogue (channels, routes, hours, links); the emergency patterns; the danger
model's training data; routes against the intents of domain.yml; enough examples per intent; the
same example under two intents; training examples that are also in a held-out or validation set.
"""

import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import yaml

from core.catalogue import CHANNELS_FILE, ROUTES_FILE, Catalogue, CatalogueError, catalogue_dir, parse_catalogue
from core.danger import DangerDataError, read_file
from core.danger import normalise as normalise_danger
from core.emergency import PatternsError, parse_patterns

DOMAIN = Path("domain.yml")
NLU_DIR = Path("data/nlu")
HELD_OUT = Path("tests/nlu_test_set.yml")
HELD_OUT_NLU_DIR = Path("tests/heldout/nlu")
DANGER_DIR = Path("data/danger")
# Never trained on: the held-out sets measure the assistant, the validation split chooses thresholds.
NOT_FOR_TRAINING_DANGER = (Path("tests/heldout/danger"), Path("validation/danger"))
MIN_EXAMPLES = 20
# Routes said by the fallback and the channels rather than for an intent.
NON_INTENT_ROUTES = {
    "fallback_did_you_mean",
    "fallback_final",
    "fallback_final_again",
    "service_unavailable",
    "in_danger",
    "empty_message",
    "feedback",  # "was this helpful?", asked after a routed answer (actions/feedback.py)
}
# Intents only buttons send (Rasa's own restart), which have no route.
RASA_INTENTS = {"restart"}


def staff_files() -> List[Path]:
    return sorted(
        [DOMAIN, Path("config.yml"), HELD_OUT, *catalogue_dir().glob("*.yml"), *Path("data").rglob("*.yml"),
         *HELD_OUT_NLU_DIR.glob("*.yml"), *(path for folder in NOT_FOR_TRAINING_DANGER for path in folder.glob("*.yml"))]
    )  # fmt: skip


def line_of(path: Path, pattern: str) -> Optional[int]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    regex = re.compile(pattern)
    return next((number for number, line in enumerate(lines, 1) if regex.search(line)), None)


def shown(path: Path) -> str:
    """The path relative to the working directory when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def where(path: Path, line: Optional[int]) -> str:
    return f"{shown(path)}:{line}" if line else shown(path)


def yaml_problems() -> List[str]:
    found = []
    for path in staff_files():
        try:
            yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 1 if mark else None
            problem = getattr(error, "problem", None) or str(error)
            found.append(
                f"{where(path, line)}: YAML syntax: {problem} -- check the indentation (spaces, not tabs) "
                "and put text containing ': ' or starting with a special character in double quotes"
            )
        except OSError as error:
            found.append(f"{path}: cannot read: {error}")
    return found


def catalogue_problem(error: CatalogueError) -> str:
    """Add the line number to a catalogue error where the entry can be found."""
    text = str(error)
    match = re.match(r"^(\S+?): (channel|route) '([^']+)'", text)
    if match:
        path, entry = Path(match.group(1)), match.group(3)
        line = line_of(path, rf"^\s{{2}}{re.escape(entry)}:")
        return text.replace(f"{match.group(1)}:", f"{where(path, line)}:", 1)
    path = text.split(":", 1)[0]
    return text.replace(path, shown(Path(path)), 1)


def route_problems(catalogue: Catalogue, intents: set) -> List[str]:
    routes_file = catalogue_dir() / ROUTES_FILE
    found = []
    for intent in sorted(intents - set(catalogue.routes) - RASA_INTENTS):
        domain_line = line_of(DOMAIN, rf"^\s*- {intent}\s*$")
        found.append(
            f"{where(DOMAIN, domain_line)}: intent '{intent}' has no route "
            f"-- add a route named '{intent}' to {routes_file}"
        )
    for key, route in catalogue.routes.items():
        line = line_of(routes_file, rf"^\s{{2}}{key}:")
        if key not in intents | NON_INTENT_ROUTES | RASA_INTENTS:
            found.append(
                f"{where(routes_file, line)}: route '{key}' is not an intent in {DOMAIN} "
                f"-- add the intent to {DOMAIN} or remove the route"
            )
        for button in route.buttons:
            if button not in intents | RASA_INTENTS:
                found.append(
                    f"{where(routes_file, line)}: route '{key}': button '{button}' is not an intent, "
                    "so clicking it would not work -- use an intent name"
                )
    return found


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def examples(path: Path) -> Iterator[Tuple[str, str, int]]:
    """(intent, example, line) for every example of an NLU file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lines = path.read_text(encoding="utf-8").splitlines()
    for block in data.get("nlu", []) or []:
        if "intent" not in block:
            continue
        for example in str(block.get("examples", "")).splitlines():
            example = example.strip()
            if not example.startswith("- "):
                continue
            text = example[2:].strip()
            line = next((n for n, source in enumerate(lines, 1) if source.strip() == example), None)
            yield block["intent"], text, line


def nlu_problems(intents: set) -> List[str]:
    found = []
    counts: Dict[str, int] = defaultdict(int)
    seen: Dict[str, Tuple[str, Path, Optional[int]]] = {}
    held_out = {normalise(text) for path in [HELD_OUT, *sorted(HELD_OUT_NLU_DIR.glob("*.yml"))] if path.exists()
                for _, text, _ in examples(path)}  # fmt: skip
    for path in sorted(NLU_DIR.rglob("*.yml")):
        for intent, text, line in examples(path):
            counts[intent] += 1
            if intent not in intents:
                found.append(
                    f"{where(path, line)}: intent '{intent}' is not in {DOMAIN} -- add it there or fix the name"
                )
            key = normalise(text)
            if key in seen and seen[key][0] != intent:
                other_intent, other_path, other_line = seen[key]
                found.append(
                    f"{where(path, line)}: '{text}' is under '{intent}' and also under '{other_intent}' "
                    f"({where(other_path, other_line)}) -- keep it under one intent only"
                )
            seen.setdefault(key, (intent, path, line))
            if key in held_out:
                found.append(
                    f"{where(path, line)}: '{text}' is also in a held-out test set ({HELD_OUT}, {HELD_OUT_NLU_DIR}) "
                    "-- write a different example; the test set must never be trained on"
                )
    for intent in sorted(intents - RASA_INTENTS):
        if counts[intent] < MIN_EXAMPLES:
            found.append(
                f"{NLU_DIR}: intent '{intent}' has {counts[intent]} examples -- add at least "
                f"{MIN_EXAMPLES - counts[intent]} more (at least {MIN_EXAMPLES}, varied, as people write)"
            )
    return found


def danger_problems() -> List[str]:
    """The danger model's training files are well formed and share no message with a held-out or validation set."""
    found, never = [], {}
    for folder in NOT_FOR_TRAINING_DANGER:
        for path in sorted(folder.glob("*.yml")):
            try:
                never.update({normalise_danger(text): path for text, _ in read_file(path)})
            except DangerDataError as error:
                found.append(str(error))
    files = sorted(DANGER_DIR.rglob("*.yml"))
    if not files:
        found.append(f"{DANGER_DIR}: no training files for the danger model -- see docs/staff-guide.md")
    for path in files:
        try:
            training = read_file(path)
        except DangerDataError as error:
            found.append(f"{error} -- see docs/staff-guide.md")
            continue
        for text, _ in training:
            if normalise_danger(text) in never:
                line = line_of(path, r"^\s*- ['\"]?" + re.escape(text[:60]))
                found.append(
                    f"{where(path, line)}: '{text}' is also in {shown(never[normalise_danger(text)])} "
                    "-- write a different message; held-out and validation sets are never trained on"
                )
    return found


def problems() -> List[str]:
    found = yaml_problems()
    if found:
        return found
    try:
        parse_patterns(catalogue_dir() / "emergency.yml")
    except PatternsError as error:
        found.append(str(error))
    found += danger_problems()
    intents = set(yaml.safe_load(DOMAIN.read_text(encoding="utf-8")).get("intents", []))
    try:
        found += route_problems(parse_catalogue(catalogue_dir()), intents)
    except CatalogueError as error:
        found.append(catalogue_problem(error))
    return found + nlu_problems(intents)


def main() -> int:
    found = problems()
    for problem in found:
        print(f"ERROR {problem}", file=sys.stderr)
    print(
        f"{len(found)} problem(s) in the staff-editable files."
        if found
        else f"Catalogue ({CHANNELS_FILE}, {ROUTES_FILE}), emergency patterns, danger data and NLU examples OK."
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
