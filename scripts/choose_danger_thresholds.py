"""Choose the danger model's thresholds on the validation split (validation/danger/, never trained on).

    python -m scripts.choose_danger_thresholds [--write]

Trains the danger model as `make train` does (data/danger/ and the NLU examples), scores the
validation messages, and chooses:
- the gate of the quick stage: GATE_MARGIN times the lowest quick score of a validation emergency
  (below it a message is not scored with its embedding);
- the thresholds: for each pair (model alone; a `maybe_danger` pattern with the model) it measures
  what the decision of core/danger.py does (danger now caught, near-misses and everyday chat
  alarmed), picks among the pairs that catch every validation emergency the one with the fewest
  false alarms (chat counting three times: it is most of what people send), then lowers both by
  MARGIN: a message never seen can score lower than every validation message did;
- the calm threshold: the model alone decides danger now though a `not_now` pattern says past or
  hypothetical ("my daughter didn't come home last night") only when it is near certain.
Prints the choice (--table every pair); --write puts it in config.yml.
"""

import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import yaml

from core.danger import DangerModel, Thresholds, decide_from, read_file, read_training_data
from core.emergency import Found, load_patterns, matches
from core.encoder import EmbeddingCache

ROOT = Path(__file__).resolve().parent.parent
VALIDATION_DIR = ROOT / "validation" / "danger"
CONFIG = ROOT / "config.yml"
MARGIN = 0.7
GATE_MARGIN = 0.3
GRID = [round(value, 3) for value in np.arange(0.05, 0.951, 0.025)]
# The calm threshold is near certainty already and not lowered by MARGIN: lower, it lets past events alarm.
# Never above 0.99: a stray `not_now` word must not silence a near-certain model (on 2026-12-03, 12 of the
# 1,394 validation emergencies had one, "the last night for both of us", "off licence"; all scored >= 0.82).
CALM_GRID = [0.8, 0.85, 0.9, 0.95, 0.99]


def danger_config(config_path: Path = CONFIG) -> Dict[str, float]:
    pipeline = yaml.safe_load(config_path.read_text(encoding="utf-8"))["pipeline"]
    return next(step for step in pipeline if step["name"] == "components.danger.DangerDetector")


def nlu_examples(data_dir: Path = ROOT / "data") -> List[Tuple[str, int]]:
    """(text, 1 for `emergency`) of every NLU example, as the DangerDetector gets them at training."""
    from rasa.shared.nlu.training_data.loading import load_data

    training = load_data(str(data_dir / "nlu"))
    return [(message.get("text"), int(message.get("intent") == "emergency")) for message in training.intent_examples]


def nlu_texts() -> List[str]:
    return [text for text, _ in nlu_examples()]


def train_model(config: Dict[str, float], cache: EmbeddingCache) -> DangerModel:
    texts, labels = zip(*(read_training_data() + nlu_examples()), strict=True)
    return DangerModel.train(texts, labels, cache.embeddings, c_quick=float(config["c_quick"]),
                             c_full=float(config["c_full"]), gate=0.0)  # fmt: skip


def read_validation(directory: Path = VALIDATION_DIR) -> Dict[str, List[str]]:
    sets: Dict[str, List[str]] = {"danger_now": [], "near_misses": [], "everyday_chat": []}
    for path in sorted(directory.glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        read_file(path)  # the same checks as the training files
        for section, texts in raw.items():
            sets[section] += texts
    return sets


Scored = Dict[str, List[Tuple[Found, float]]]


def rates(scored: Scored, thresholds: Thresholds) -> Dict[str, float]:
    """The share of each section decided danger now."""
    return {
        section: float(np.mean([decide_from(found, score, thresholds).now for found, score in pairs]))
        for section, pairs in scored.items()
    }


def choose(scored: Scored) -> Tuple[Thresholds, Dict[str, float], List[str]]:
    table, best = [], None
    for model in GRID:
        for maybe in [value for value in GRID if value <= model]:
            for calm in CALM_GRID:
                found = rates(scored, Thresholds(model, maybe, maybe, calm))
                alarms = found["near_misses"] + found["everyday_chat"] * 3
                if found["danger_now"] == 1.0 and (best is None or alarms < best[0] - 1e-9):
                    best = (alarms, model, maybe, calm)
                table.append(f"  model {model:.3f} maybe {maybe:.3f} calm {calm:.3f}: caught {found['danger_now']:.3f} "
                             f"near-misses {found['near_misses']:.3f} chat {found['everyday_chat']:.3f}")  # fmt: skip
    if best is None:
        raise SystemExit("No thresholds catch every validation emergency: add training data or patterns.")
    _, model, maybe, calm = best
    chosen = Thresholds(round(model * MARGIN, 3), round(maybe * MARGIN, 3), round(maybe * MARGIN, 3), calm)
    return chosen, rates(scored, chosen), table


def write_config(thresholds: Thresholds, gate: float, config_path: Path = CONFIG) -> None:
    text = config_path.read_text(encoding="utf-8")
    start = text.index("components.danger.DangerDetector")
    end = text.find("\n  - name:", start)
    block = text[start:] if end < 0 else text[start:end]
    for key, value in (("gate", gate), ("threshold", thresholds.model), ("maybe_threshold", thresholds.maybe),
                       ("concern_threshold", thresholds.concern), ("calm_threshold", thresholds.calm)):  # fmt: skip
        block, count = re.subn(rf"(\n    {key}: )[0-9.]+", rf"\g<1>{value}", block)
        if count != 1:
            raise SystemExit(f"{config_path}: expected one '{key}:' under components.danger.DangerDetector")
    config_path.write_text(text[:start] + block + ("" if end < 0 else text[end:]), encoding="utf-8")


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the chosen thresholds into config.yml")
    parser.add_argument("--table", action="store_true", help="print every pair of thresholds tried")
    args = parser.parse_args(argv)
    cache = EmbeddingCache()
    model = train_model(danger_config(), cache)
    sets = read_validation()
    patterns = load_patterns()
    gate = round(float(model.quick_scores(sets["danger_now"]).min()) * GATE_MARGIN, 4)
    model.gate = gate
    scored = {
        section: list(
            zip(
                [matches(text, patterns) for text in texts],
                map(float, model.scores(texts, cache.embeddings)),
                strict=True,
            )
        )
        for section, texts in sets.items()
    }
    chosen, found, table = choose(scored)
    passed = {section: float(np.mean(model.quick_scores(texts) >= gate)) for section, texts in sets.items()}
    if args.table:
        print("\n".join(table))
    print(f"validation: {', '.join(f'{len(texts)} {section}' for section, texts in sets.items())}")
    print(f"gate {gate} (x{GATE_MARGIN} the lowest quick score of a validation emergency); embedded: "
          + ", ".join(f"{section} {share:.0%}" for section, share in passed.items()))  # fmt: skip
    print(f"chosen (x{MARGIN} below the best pair that catches every validation emergency): "
          f"threshold {chosen.model}, maybe_threshold {chosen.maybe}, concern_threshold {chosen.concern}, "
          f"calm_threshold {chosen.calm}")  # fmt: skip
    print(f"on validation with them: danger now caught {found['danger_now']:.1%}, "
          f"near-misses alarmed {found['near_misses']:.1%}, everyday chat alarmed {found['everyday_chat']:.1%}")  # fmt: skip
    if args.write:
        write_config(chosen, gate)
        print(f"wrote them to {CONFIG.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
