"""What each language costs: the time to understand a message (the NLU pipeline, in this process)
and the memory its patterns and model features take. `make bench` puts the table in
docs/performance.md; on its own:

    .venv/bin/python -m bench.language_cost

Time: every held-out message of the language (tests/heldout/nlu/<code>.yml and
tests/heldout/danger/<code>.yml: what people write, never trained on), parsed by the trained model
as the server parses it, with the caches of recent embeddings and n-gram counts emptied before each
message, so each is paid in full as if new; "embedded" is the share that needed the sentence
encoder (the quick stages were not sure).

Memory: the language's emergency patterns compiled (tracemalloc), and the n-gram features of the
three models (language, intent, danger) that occur only in that language's training examples
(data/nlu/<code>/, data/danger/), at the measured bytes per feature (vocabulary entry and weights).
Everything else (Rasa, the encoder, features shared with other languages) is shared by all.
"""

import asyncio
import logging
import statistics
import sys
import tarfile
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any, Dict, List, Set

import yaml

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "assistant.tar.gz"
HELD_OUT = ROOT / "tests" / "heldout"


def held_out_texts(code: str) -> List[str]:
    texts: List[str] = []
    routing_file = HELD_OUT / "nlu" / (f"{code}.yml" if code != "en" else "en_topics.yml")
    for block in (yaml.safe_load(routing_file.read_text(encoding="utf-8")) or {}).get("nlu", []) or []:
        texts += [line.strip()[2:].strip() for line in str(block.get("examples", "")).splitlines() if line.strip()]
    danger = yaml.safe_load((HELD_OUT / "danger" / f"{code}.yml").read_text(encoding="utf-8")) or {}
    for section in danger.values():
        texts += list(section or [])
    return [text for text in texts if text]


def parse_times(agent: Any, texts: List[str], loop: asyncio.AbstractEventLoop) -> Dict[str, float]:
    from core import encoder, text_models

    embedded = 0
    calls = []
    original = encoder._load

    def counting_load() -> Any:
        calls.append(1)
        return original()

    encoder._load = counting_load
    seconds = []
    try:
        for text in texts:
            encoder._recent.clear()
            text_models._term_counts.cache_clear()
            before = len(calls)
            started = time.perf_counter()
            loop.run_until_complete(agent.parse_message(text))
            seconds.append(time.perf_counter() - started)
            embedded += len(calls) > before
    finally:
        encoder._load = original
    ordered = sorted(seconds)
    return {
        "messages": len(texts),
        "mean_ms": statistics.fmean(seconds) * 1000,
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))] * 1000,
        "embedded": embedded / len(texts),
    }


def pattern_bytes(path: Path) -> int:
    from core.emergency import _parse_file

    tracemalloc.start()
    kept = _parse_file(path, required=path.name == "emergency.yml")
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    return size


def model_parts(directory: Path) -> Dict[str, Any]:
    """Each model's n-gram features and the bytes each feature takes (vocabulary entry and weights)."""
    from core.text_models import load_parts

    parts = {}
    for model, names in (("language", ("features", "classifier")), ("intent", ("features", "quick", "full")),
                         ("danger", ("features", "quick", "full"))):  # fmt: skip
        found = next(path.parent for path in directory.rglob("*.json") if _is(path.parent, model))
        tracemalloc.start()
        loaded = load_parts(found, names)
        size = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        features = loaded["features"]
        parts[model] = {"features": features, "bytes_per_feature": size / max(1, features.width)}
    return parts


def _is(folder: Path, model: str) -> bool:
    marker = {"language": "vocabulary.json", "intent": "confident_at.txt", "danger": "gate.txt"}[model]
    return (folder / marker).is_file()


def exclusive_features(features: Any, texts_by_language: Dict[str, List[str]]) -> Dict[str, int]:
    """For each language, how many of the features occur in its examples and in no other language's."""
    from core.text_models import normalise

    seen: Dict[str, Set[int]] = {}
    for code, texts in texts_by_language.items():
        columns: Set[int] = set()
        for text in texts:
            columns.update(int(column) for column in features.vector(normalise(text))[0])
        seen[code] = columns
    result = {}
    for code, columns in seen.items():
        others = set().union(*(other for name, other in seen.items() if name != code))
        result[code] = len(columns - others)
    return result


def training_texts() -> Dict[str, List[str]]:
    from core.language import LANGUAGES, training_examples

    texts: Dict[str, List[str]] = {code: [] for code in LANGUAGES}
    for text, code in training_examples(ROOT / "data" / "nlu", ROOT / "data" / "danger", per_language=None):
        texts[code].append(text)
    return texts


def measure() -> Dict[str, Dict[str, float]]:
    from rasa.utils.log_utils import configure_structlog

    from core.emergency import DEFAULT_PATTERNS_FILE, language_files
    from core.language import LANGUAGES
    from server import patches

    configure_structlog(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    patches.apply()
    from rasa.core.agent import Agent

    agent = Agent.load(str(MODEL))
    loop = asyncio.new_event_loop()
    for text in ["warm up", "hello", "how do i get crime alerts"]:
        loop.run_until_complete(agent.parse_message(text))
    pattern_files = {path.stem: path for path in language_files(DEFAULT_PATTERNS_FILE)}
    pattern_files["en"] = DEFAULT_PATTERNS_FILE
    texts_by_language = training_texts()
    with tempfile.TemporaryDirectory() as unpacked:
        with tarfile.open(MODEL) as archive:
            archive.extractall(unpacked)  # our own model, its sha256 checked by `make train`
        parts = model_parts(Path(unpacked))
        exclusive = {name: exclusive_features(part["features"], texts_by_language) for name, part in parts.items()}
    result = {}
    for code in LANGUAGES:
        features_bytes = sum(exclusive[name][code] * part["bytes_per_feature"] for name, part in parts.items())
        result[code] = {
            **parse_times(agent, held_out_texts(code), loop),
            "patterns_mib": pattern_bytes(pattern_files[code]) / 2**20,
            "features": sum(exclusive[name][code] for name in parts),
            "features_mib": features_bytes / 2**20,
        }
    return result


def markdown(result: Dict[str, Dict[str, float]]) -> str:
    lines = [
        "| language | held-out messages | understanding a message, mean / p95 (ms) | needed the encoder "
        "| memory: its patterns (MiB) | its own model features | their memory (MiB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for code, row in result.items():
        lines.append(
            f"| {code} | {row['messages']} | {row['mean_ms']:.1f} / {row['p95_ms']:.1f} | {row['embedded']:.0%} "
            f"| {row['patterns_mib']:.1f} | {row['features']:,} | {row['features_mib']:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    print(markdown(measure()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
