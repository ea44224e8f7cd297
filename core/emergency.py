"""The emergency patterns (catalogue/emergency.yml, and catalogue/emergency/<code>.yml for the other
languages, each adding to the same sections): what they find in a message.

Sections (each a list of regular expressions, matched without regard to case with the `regex`
module, whose word edges work in every script):
- danger:       clear descriptions of danger; danger now unless a `not_now` pattern says otherwise;
- maybe_danger: words that mean danger in some messages and not in others; danger now when the
                danger model leans that way too and nothing says it is past (core/danger.py);
- urgent:       says it is happening now; overrides `not_now`;
- not_now:      says it is past, hypothetical, a question or a joke;
- escalation:   says someone is arriving, present or getting worse ("he's outside my door now"):
                after a worrying message, danger now (core/danger.py, `escalates`).
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import regex
import yaml

from core.catalogue import DEFAULT_DIR, catalogue_dir
from core.literals import Prefilter
from core.live_files import LiveContent

PATTERNS_FILE = "emergency.yml"
DEFAULT_PATTERNS_FILE = DEFAULT_DIR / PATTERNS_FILE
SECTIONS = ("danger", "maybe_danger", "urgent", "not_now", "escalation")

Pattern = Any  # a compiled regex.Pattern


class PatternsError(ValueError):
    """A mistake in the emergency patterns file, naming the file, the section and the pattern."""


@dataclass(frozen=True)
class EmergencyPatterns:
    danger: Tuple[Pattern, ...]
    maybe_danger: Tuple[Pattern, ...]
    urgent: Tuple[Pattern, ...]
    not_now: Tuple[Pattern, ...]
    escalation: Tuple[Pattern, ...]
    # Every pattern with its section's number, and which of them can match a text (core/literals.py).
    _numbered: Tuple[Tuple[int, Pattern], ...] = field(init=False, repr=False, compare=False)
    _prefilter: Prefilter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        numbered = tuple((number, pattern) for number, name in enumerate(SECTIONS) for pattern in getattr(self, name))
        object.__setattr__(self, "_numbered", numbered)
        object.__setattr__(self, "_prefilter", Prefilter([pattern.pattern for _, pattern in numbered]))

    def found(self, text: str) -> "Found":
        """Which sections have a pattern in the (normalised) text; only patterns that can match are run."""
        hits = [False] * len(SECTIONS)
        for index in sorted(self._prefilter.candidates(text)):
            number, pattern = self._numbered[index]
            if not hits[number] and pattern.search(text):
                hits[number] = True
        return Found(*hits)


@dataclass(frozen=True)
class Found:
    """Which sections have a pattern in the message."""

    danger: bool
    maybe_danger: bool
    urgent: bool
    not_now: bool
    escalation: bool


def language_files(path: Path) -> List[Path]:
    """The patterns of other languages: emergency/<code>.yml beside the English file."""
    return sorted((path.parent / path.stem).glob("*.yml"))


def parse_patterns(path: Path) -> EmergencyPatterns:
    """The English file's patterns with those of every language file (each language adds to the sections)."""
    english = _parse_file(path, required=True)
    for other in language_files(path):
        for section, patterns in _parse_file(other, required=False).items():
            english[section] += patterns
    return EmergencyPatterns(**english)


def _parse_file(path: Path, required: bool) -> Dict[str, Tuple[Pattern, ...]]:
    try:
        with open(path, encoding="utf-8") as handle:
            raw: Any = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as error:
        raise PatternsError(f"{path}: cannot read emergency patterns: {error}") from None
    if not isinstance(raw, dict) or set(raw) != set(SECTIONS):
        raise PatternsError(f"{path}: expected exactly the sections {', '.join(SECTIONS)}")
    compiled: Dict[str, Tuple[Pattern, ...]] = {}
    for section in SECTIONS:
        entries = raw[section] if raw[section] is not None else []
        if not isinstance(entries, list) or (required and not entries):
            raise PatternsError(f"{path}: '{section}' must be a list of at least one pattern"
                                if required else f"{path}: '{section}' must be a list (it may be empty: [])")  # fmt: skip
        patterns = []
        for entry in entries:
            if not isinstance(entry, str) or not entry.strip():
                raise PatternsError(f"{path}: '{section}' has an empty or non-text pattern: {entry!r}")
            try:
                patterns.append(regex.compile(entry, regex.IGNORECASE))
            except regex.error as error:
                raise PatternsError(
                    f"{path}: '{section}' pattern {entry!r} is not a valid regular expression: {error}"
                ) from None
        compiled[section] = tuple(patterns)
    return compiled


_LIVE: LiveContent[EmergencyPatterns] = LiveContent(
    lambda path: [path, *language_files(path)],
    parse_patterns,
    folders=lambda path: [path.parent, path.parent / path.stem],
)


def patterns_file() -> Path:
    """catalogue/emergency.yml, or emergency.yml in CATALOGUE_DIR when that is set."""
    return catalogue_dir() / PATTERNS_FILE


def load_patterns(path: Optional[Path] = None) -> EmergencyPatterns:
    """The patterns, read again whenever the file changes (core/live_files.py)."""
    return _LIVE.get(path or patterns_file())


def _normalise(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").split())


def matches(text: str, patterns: EmergencyPatterns) -> Found:
    return patterns.found(_normalise(text))


def is_emergency(text: str, patterns: EmergencyPatterns) -> bool:
    """The patterns alone (no model) see danger now: what the reply guarantee uses when the assistant cannot answer."""
    found = matches(text, patterns)
    # Without the model, an ambiguous word counts when the message also says it is happening now.
    clear = found.danger and (found.urgent or not found.not_now)
    return clear or (found.maybe_danger and found.urgent and not found.not_now)
