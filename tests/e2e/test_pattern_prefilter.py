"""The prefilter of the emergency patterns (core/literals.py) on every text in the project: what
they find is what running every pattern finds (about 40 s: every pattern on 20,000 texts)."""

from typing import Iterator, List

import pytest
import yaml

from core import emergency
from tests.servers import ROOT
from tests.unit.test_literals import every_pattern

TEXT_FOLDERS = ("data", "validation", "tests/heldout", "tests/test_stories.yml")


def project_texts() -> Iterator[str]:
    """Every text in the project's data, validation and held-out files (and each line of a block)."""

    def strings(node: object) -> Iterator[str]:
        if isinstance(node, str):
            for line in node.splitlines() or [node]:
                yield line.strip().removeprefix("- ").strip()
        elif isinstance(node, dict):
            for value in node.values():
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)

    for folder in TEXT_FOLDERS:
        path = ROOT / folder
        for file in [path] if path.is_file() else sorted(path.rglob("*.yml")):
            yield from strings(yaml.safe_load(file.read_text(encoding="utf-8")))


@pytest.mark.slow
def test_on_every_text_in_the_project_the_patterns_find_what_running_every_pattern_finds():
    patterns = emergency.load_patterns()
    texts = sorted(set(project_texts()))
    assert len(texts) > 20_000, len(texts)
    differing: List[str] = [
        text for text in texts if emergency.matches(text, patterns) != every_pattern(text, patterns)
    ]
    assert not differing, differing[:10]
