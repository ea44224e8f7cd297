"""The assistant's replies in other languages: catalogue/translations/<code>.yml, one file per
language beside the English routes (catalogue/routes.yml), validated against them.

Each file translates routes (the same `{channel}` placeholders as the English message, the same
number of messages, titles within button limits), the two messages the emergency reply adds in the
language ("Call 999 now", and how to get an interpreter on 999), the widget's labels, and says
whether a qualified translator has reviewed it. A route it does not translate is said in English,
after the file's `untranslated_note`.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

TRANSLATIONS_DIR = "translations"
ROUTE_TEXTS = ("messages", "when_closed", "messages_about_previous")
WIDGET_LABELS = (
    "title", "launcher", "close", "conversation", "suggested", "you_said", "assistant", "typing", "connecting",
    "online", "offline", "offline_title", "offline_text", "input_label", "placeholder", "send", "quick_exit", "language",
)  # fmt: skip
FIELDS = {"language", "name", "english_name", "direction", "reviewed", "reviewed_by", "untranslated_note", "switched",
          "emergency", "widget", "routes"}  # fmt: skip
PLACEHOLDERS = re.compile(r"\{[a-z0-9_]+(?:\.[a-z_]+)?\}")
MAX_TITLE_CHARS = 20


class TranslationError(ValueError):
    """A mistake in a translation file, naming the file, the entry and what is wrong."""


@dataclass(frozen=True)
class TranslatedRoute:
    title: str
    messages: Tuple[str, ...]
    when_closed: Tuple[str, ...] = ()
    messages_about_previous: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Translation:
    code: str
    name: str
    english_name: str
    direction: str
    reviewed: bool
    reviewed_by: str
    untranslated_note: str
    switched: str
    emergency: Tuple[str, str]
    widget: Dict[str, str]
    routes: Dict[str, TranslatedRoute] = field(default_factory=dict)


def _texts(where: str, value: Any, name: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item.strip() for item in value):
        raise TranslationError(f"{where}: '{name}' must be a list of non-empty texts")
    return tuple(value)


def _same_placeholders(where: str, english: str, translated: str) -> None:
    if sorted(PLACEHOLDERS.findall(english)) != sorted(PLACEHOLDERS.findall(translated)):
        raise TranslationError(
            f"{where}: the placeholders must be those of the English message, "
            f"{sorted(PLACEHOLDERS.findall(english))} (found {sorted(PLACEHOLDERS.findall(translated))}); "
            "never write a link or number in a translation"
        )


def parse_translation(path: Path, english: Dict[str, Any]) -> Translation:
    """Read and validate one translation file against the English routes (core.catalogue.Route by key)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise TranslationError(f"{path}: cannot read it: {error}") from None
    if not isinstance(raw, dict):
        raise TranslationError(f"{path}: expected the fields {', '.join(sorted(FIELDS))}")
    missing, unknown = FIELDS - set(raw), set(raw) - FIELDS
    if missing or unknown:
        raise TranslationError(f"{path}: missing {sorted(missing)}, unknown {sorted(unknown)}")
    if raw["language"] != path.stem:
        raise TranslationError(f"{path}: 'language' must be the file's name, {path.stem!r}")
    if raw["direction"] not in ("ltr", "rtl"):
        raise TranslationError(f"{path}: 'direction' must be ltr or rtl")
    if not isinstance(raw["reviewed"], bool):
        raise TranslationError(f"{path}: 'reviewed' must be true or false (true only once a qualified translator has)")
    for name in ("name", "english_name", "untranslated_note", "switched"):
        if not isinstance(raw[name], str) or not raw[name].strip():
            raise TranslationError(f"{path}: '{name}' must be a non-empty text")
    emergency = _texts(f"{path}: emergency", raw["emergency"], "emergency")
    if len(emergency) != 2 or "{emergency_999}" not in emergency[0]:
        raise TranslationError(f"{path}: 'emergency' is two messages, the first naming {{emergency_999}}")
    if "interpreter" not in emergency[1] or raw["english_name"] not in emergency[1]:
        raise TranslationError(
            f"{path}: the second 'emergency' message must keep the English words 'interpreter' and "
            f"{raw['english_name']!r}: they are what the caller says to the 999 operator"
        )
    widget = raw["widget"]
    if not isinstance(widget, dict) or set(widget) != set(WIDGET_LABELS):
        raise TranslationError(f"{path}: 'widget' needs exactly the labels {', '.join(WIDGET_LABELS)}")
    routes: Dict[str, TranslatedRoute] = {}
    for key, entry in (raw["routes"] or {}).items():
        where = f"{path}: route '{key}'"
        if key not in english:
            raise TranslationError(f"{where}: there is no such route in the English routes")
        if not isinstance(entry, dict) or not isinstance(entry.get("title"), str) or not entry["title"].strip():
            raise TranslationError(f"{where}: needs a 'title' and its messages")
        if len(entry["title"].strip()) > MAX_TITLE_CHARS:
            raise TranslationError(f"{where}: 'title' is a button label: at most {MAX_TITLE_CHARS} characters")
        texts: Dict[str, Tuple[str, ...]] = {}
        for name in ROUTE_TEXTS:
            source: Tuple[str, ...] = getattr(english[key], name)
            if not source:
                continue
            texts[name] = _texts(where, entry.get(name), name)
            if len(texts[name]) != len(source):
                raise TranslationError(f"{where}: '{name}' must have {len(source)} message(s), as in English")
            for number, (original, translated) in enumerate(zip(source, texts[name], strict=True), 1):
                _same_placeholders(f"{where}: {name} {number}", original, translated)
        routes[key] = TranslatedRoute(entry["title"].strip(), **texts)
    return Translation(
        code=path.stem, name=raw["name"], english_name=raw["english_name"], direction=raw["direction"],
        reviewed=raw["reviewed"], reviewed_by=str(raw["reviewed_by"] or ""), untranslated_note=raw["untranslated_note"],
        switched=raw["switched"], emergency=(emergency[0], emergency[1]), widget={k: str(v) for k, v in widget.items()},
        routes=routes,
    )  # fmt: skip


def translation_files(directory: Path) -> List[Path]:
    return sorted((directory / TRANSLATIONS_DIR).glob("*.yml"))
