"""Intent macro-F1 of a trained model on the held-out NLU test set (never trained on).

    python -m scripts.evaluate_nlu [--model models/assistant.tar.gz] [--min-f1 0.90]

Prints per-intent F1 and the macro-F1; exits 1 when macro-F1 is below --min-f1.
"""

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml
from sklearn.metrics import classification_report, f1_score

TEST_SET = Path("tests/nlu_test_set.yml")
# The English held-out sets: the first one, and those written for later topics (tests/heldout/nlu/en*.yml).
ENGLISH_SETS = (TEST_SET, "tests/heldout/nlu/en*.yml")


def held_out_files(patterns: Sequence[Any] = ENGLISH_SETS) -> List[Path]:
    return [path for pattern in patterns for path in sorted(Path().glob(str(pattern)))]


def read_examples(paths: Optional[Sequence[Path]] = None) -> List[Tuple[str, str]]:
    examples = []
    for path in held_out_files() if paths is None else paths:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        examples += [
            (line.strip()[2:].strip(), block["intent"])
            for block in data["nlu"]
            for line in block["examples"].splitlines()
            if line.strip().startswith("- ")
        ]
    return examples


async def predict(model: str, texts: List[str]) -> List[str]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    return [(await agent.parse_message(text))["intent"]["name"] for text in texts]


def evaluate(model: str) -> Dict[str, float]:
    examples = read_examples()
    texts, expected = [text for text, _ in examples], [intent for _, intent in examples]
    predicted = asyncio.run(predict(model, texts))
    print(classification_report(expected, predicted, zero_division=0))
    labels = sorted(set(expected))
    return {
        "macro_f1": f1_score(expected, predicted, labels=labels, average="macro", zero_division=0),
        "examples": len(examples),
        "fallbacks": predicted.count("nlu_fallback"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="models/assistant.tar.gz")
    parser.add_argument("--min-f1", type=float, default=0.90)
    args = parser.parse_args()
    result = evaluate(args.model)
    print(f"held-out examples: {result['examples']}  fallbacks: {result['fallbacks']}", end="  ")
    print(f"intent macro-F1: {result['macro_f1']:.3f} (bar {args.min_f1:.2f})")
    return 0 if result["macro_f1"] >= args.min_f1 else 1


if __name__ == "__main__":
    sys.exit(main())
