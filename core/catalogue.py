"""Load and validate the catalogue: the official channels and what the assistant says for each route.

`catalogue/channels.yml` is the only place a link or a number is written;
`catalogue/routes.yml` holds the wording, with `{channel_key}` placeholders.
"""

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

import yaml

from core.live_files import LiveContent
from core.translations import TRANSLATIONS_DIR, Translation, TranslationError, parse_translation, translation_files

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "catalogue"
CHANNELS_FILE = "channels.yml"
ROUTES_FILE = "routes.yml"

# Links must be https and on a domain the force uses (or a subdomain of one).
FORCE_DOMAINS = ("west-midlands.police.uk", "wmnow.co.uk", "facebook.com", "instagram.com", "twitter.com", "x.com")
PHONE = re.compile(r"^[0-9][0-9 ]*[0-9]$|^[0-9]$")
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
KEY = re.compile(r"^[a-z][a-z0-9_]*$")
PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)(?:\.([a-z_]+))?\}")
URL_IN_TEXT = re.compile(r"https?://|www\.", re.IGNORECASE)

CHANNEL_FIELDS = {"name", "link", "phone", "description", "use_when", "source", "hours", "aliases"}
CHANNEL_REQUIRED = ("name", "description", "use_when", "source")
ROUTE_FIELDS = {
    "title", "channels", "messages", "when_closed", "pick_by_alias", "buttons", "about_previous", "messages_about_previous",
}  # fmt: skip
ABOUT_PREVIOUS = ("hours", "phone")
EMERGENCY_ROUTE = "emergency"
# Said after the service_unavailable reply (never first), so it may name 999 at once.
IN_DANGER_ROUTE = "in_danger"
EMERGENCY_CHANNEL = "emergency_999"
ROUTE_REQUIRED = ("title", "channels", "messages")
PLACEHOLDER_FIELDS = {None, "name", "hours"}
# {channels.hours} and {channels.phone}: the previous route's channels with hours or a number.
LIST_FIELDS = {None, *ABOUT_PREVIOUS}
# Button titles longer than this are cut by Messenger and Instagram.
MAX_TITLE_CHARS = 20


class CatalogueError(ValueError):
    """A mistake in the catalogue, naming the file, the entry and what is wrong."""


@dataclass(frozen=True)
class Hours:
    timezone: str
    opens: str
    closes: str


@dataclass(frozen=True)
class Channel:
    key: str
    name: str
    description: str
    use_when: str
    source: str
    link: Optional[str] = None
    phone: Optional[str] = None
    hours: Optional[Hours] = None
    aliases: Tuple[str, ...] = ()

    @property
    def contact(self) -> str:
        """The link or the number."""
        return self.link or self.phone or ""


@dataclass(frozen=True)
class Route:
    key: str
    title: str
    channels: Tuple[str, ...]
    messages: Tuple[str, ...]
    when_closed: Tuple[str, ...] = ()
    pick_by_alias: bool = False
    buttons: Tuple[str, ...] = ()
    about_previous: Optional[str] = None
    messages_about_previous: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    channels: Dict[str, Channel]
    routes: Dict[str, Route]
    translations: Dict[str, Translation] = dataclasses.field(default_factory=dict)

    def route(self, key: str) -> Route:
        return self.routes[key]


def is_force_link(link: Any) -> bool:
    if not isinstance(link, str) or any(char.isspace() for char in link):
        return False
    parts = urlsplit(link)
    host = parts.hostname or ""
    return parts.scheme == "https" and any(host == domain or host.endswith("." + domain) for domain in FORCE_DOMAINS)


def _read_yaml(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        raise CatalogueError(f"{path}: file not found") from None
    except yaml.YAMLError as error:
        raise CatalogueError(f"{path}: not valid YAML: {error}") from None


def _section(path: Path, data: Any, name: str) -> Dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get(name), dict) or not data[name]:
        raise CatalogueError(f"{path}: expected a top-level '{name}:' mapping with at least one entry")
    return data[name]


def _text_list(where: str, value: Any, field: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item.strip() for item in value):
        raise CatalogueError(f"{where}: '{field}' must be a list of non-empty texts")
    return tuple(value)


def _parse_hours(where: str, raw: Any) -> Hours:
    if not isinstance(raw, dict) or set(raw) != {"timezone", "opens", "closes"}:
        raise CatalogueError(f"{where}: 'hours' needs exactly timezone, opens and closes, e.g. opens: \"08:00\"")
    for field in ("opens", "closes"):
        if not isinstance(raw[field], str) or not HHMM.match(raw[field]):
            raise CatalogueError(
                f"{where}: hours '{field}' must be a quoted time HH:MM, e.g. \"08:00\" (got {raw[field]!r})"
            )
    if raw["opens"] >= raw["closes"]:
        raise CatalogueError(f"{where}: hours 'opens' ({raw['opens']}) must be before 'closes' ({raw['closes']})")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(str(raw["timezone"]))
    except Exception:
        raise CatalogueError(f"{where}: unknown hours timezone {raw['timezone']!r}, e.g. Europe/London") from None
    return Hours(str(raw["timezone"]), raw["opens"], raw["closes"])


def _check_entry(where: str, key: Any, raw: Any, allowed: set, expected: str) -> None:
    """The key is lower_case_with_underscores and the entry a mapping of known fields."""
    if not isinstance(key, str) or not KEY.match(key):
        raise CatalogueError(f"{where}: keys are lower_case_with_underscores")
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: expected {expected}")
    unknown = set(raw) - allowed
    if unknown:
        raise CatalogueError(
            f"{where}: unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}"
        )


def _parse_channel(path: Path, key: Any, raw: Any) -> Channel:
    where = f"{path}: channel '{key}'"
    _check_entry(where, key, raw, CHANNEL_FIELDS, "name, link or phone, description, use_when, source")
    for field in CHANNEL_REQUIRED:
        if not isinstance(raw.get(field), str) or not raw[field].strip():
            raise CatalogueError(f"{where}: missing required field '{field}'")
    if ("link" in raw) == ("phone" in raw):
        raise CatalogueError(f"{where}: give exactly one of 'link' or 'phone'")
    link, phone = raw.get("link"), raw.get("phone")
    if link is not None and not is_force_link(link):
        raise CatalogueError(f"{where}: link {link!r} must start with https:// and be on a domain the force uses")
    if phone is not None and (not isinstance(phone, str) or not PHONE.match(phone)):
        raise CatalogueError(f'{where}: phone must be digits in quotes, e.g. phone: "101" (got {phone!r})')
    for field in ("name", "description", "use_when"):
        if URL_IN_TEXT.search(raw[field]):
            raise CatalogueError(f"{where}: '{field}' must not contain a link; put it in 'link'")
    hours = _parse_hours(where, raw["hours"]) if "hours" in raw else None
    aliases = _text_list(where, raw["aliases"], "aliases") if "aliases" in raw else ()
    return Channel(
        key=key,
        name=raw["name"].strip(),
        description=raw["description"].strip(),
        use_when=raw["use_when"].strip(),
        source=raw["source"].strip(),
        link=link,
        phone=phone,
        hours=hours,
        aliases=tuple(alias.lower() for alias in aliases),
    )


def _check_placeholders(where: str, text: str, channels: Dict[str, Channel]) -> None:
    if URL_IN_TEXT.search(text):
        raise CatalogueError(f"{where}: write {{channel_key}} instead of a link: {text!r}")
    for match in PLACEHOLDER.finditer(text):
        key, field = match.group(1), match.group(2)
        if key == "channels":
            if field not in LIST_FIELDS:
                raise CatalogueError(f"{where}: {match.group(0)}: after 'channels' only .hours or .phone can follow")
            continue
        if key not in channels:
            raise CatalogueError(f"{where}: {match.group(0)} names no channel in {CHANNELS_FILE}")
        if field not in PLACEHOLDER_FIELDS:
            raise CatalogueError(f"{where}: {match.group(0)}: only .name and .hours can follow a channel key")
        if field == "hours" and channels[key].hours is None:
            raise CatalogueError(f"{where}: {match.group(0)}: channel '{key}' has no hours")


def _parse_route(path: Path, key: Any, raw: Any, channels: Dict[str, Channel]) -> Route:
    where = f"{path}: route '{key}'"
    _check_entry(where, key, raw, ROUTE_FIELDS, "title, channels and messages")
    missing = [field for field in ROUTE_REQUIRED if field not in raw]
    if missing:
        raise CatalogueError(f"{where}: missing required field '{missing[0]}'")
    if not isinstance(raw["title"], str) or not raw["title"].strip():
        raise CatalogueError(f"{where}: 'title' must be a non-empty text")
    if len(raw["title"].strip()) > MAX_TITLE_CHARS:
        raise CatalogueError(
            f"{where}: 'title' is a button label: at most {MAX_TITLE_CHARS} characters (got {len(raw['title'].strip())})"
        )
    route_channels = raw["channels"]
    if not isinstance(route_channels, list) or not all(isinstance(item, str) for item in route_channels):
        raise CatalogueError(f"{where}: 'channels' must be a list of channel keys (it may be empty: [])")
    for channel_key in route_channels:
        if channel_key not in channels:
            raise CatalogueError(f"{where}: channel '{channel_key}' is not in {CHANNELS_FILE}")
    messages = _text_list(where, raw["messages"], "messages")
    when_closed = _text_list(where, raw["when_closed"], "when_closed") if "when_closed" in raw else ()
    about_previous = raw.get("about_previous")
    if about_previous is not None and about_previous not in ABOUT_PREVIOUS:
        raise CatalogueError(f"{where}: 'about_previous' must be one of {', '.join(ABOUT_PREVIOUS)}")
    if (about_previous is None) != ("messages_about_previous" not in raw):
        raise CatalogueError(f"{where}: give 'about_previous' and 'messages_about_previous' together")
    about = _text_list(where, raw["messages_about_previous"], "messages_about_previous") if about_previous else ()
    for text in messages + when_closed + about:
        _check_placeholders(where, text, channels)
    if key not in (EMERGENCY_ROUTE, IN_DANGER_ROUTE):
        for first in messages[:1] + when_closed[:1] + about[:1]:
            if "{" + EMERGENCY_CHANNEL + "}" in first:
                raise CatalogueError(
                    f"{where}: only the '{EMERGENCY_ROUTE}' route may name {{{EMERGENCY_CHANNEL}}} in its first "
                    "message (it would read as an alarm); move it to a later message"
                )
    buttons = raw.get("buttons", [])
    if not isinstance(buttons, list) or not all(isinstance(item, str) for item in buttons):
        raise CatalogueError(f"{where}: 'buttons' must be a list of route keys")
    return Route(
        key=key,
        title=raw["title"].strip(),
        channels=tuple(route_channels),
        messages=messages,
        when_closed=when_closed,
        pick_by_alias=bool(raw.get("pick_by_alias", False)),
        buttons=tuple(buttons),
        about_previous=about_previous,
        messages_about_previous=about,
    )


def parse_catalogue(directory: Path) -> Catalogue:
    """Read and validate both files; raise CatalogueError naming the file and entry at the first mistake."""
    channels_path, routes_path = directory / CHANNELS_FILE, directory / ROUTES_FILE
    raw_channels = _section(channels_path, _read_yaml(channels_path), "channels")
    channels = {key: _parse_channel(channels_path, key, raw) for key, raw in raw_channels.items()}
    seen: Dict[str, str] = {}
    for channel in channels.values():
        if channel.contact in seen:
            raise CatalogueError(
                f"{channels_path}: channel '{channel.key}' repeats the {'link' if channel.link else 'number'} "
                f"of '{seen[channel.contact]}'; each link or number is written once"
            )
        seen[channel.contact] = channel.key
    raw_routes = _section(routes_path, _read_yaml(routes_path), "routes")
    routes = {key: _parse_route(routes_path, key, raw, channels) for key, raw in raw_routes.items()}
    for route in routes.values():
        for button in route.buttons:
            if button not in routes:
                raise CatalogueError(f"{routes_path}: route '{route.key}': button '{button}' names no route")
    used = {key for route in routes.values() for key in route.channels}
    texts = [text for r in routes.values() for text in r.messages + r.when_closed + r.messages_about_previous]
    used |= {m.group(1) for text in texts for m in PLACEHOLDER.finditer(text)}
    unused = sorted(set(channels) - used)
    if unused:
        raise CatalogueError(f"{channels_path}: channel '{unused[0]}' is not used by any route in {ROUTES_FILE}")
    try:
        translations = {path.stem: parse_translation(path, routes) for path in translation_files(directory)}
    except TranslationError as error:
        raise CatalogueError(str(error)) from None
    return Catalogue(channels=channels, routes=routes, translations=translations)


def catalogue_dir() -> Path:
    return Path(os.environ.get("CATALOGUE_DIR", DEFAULT_DIR))


def catalogue_files(directory: Path) -> List[Path]:
    return [directory / CHANNELS_FILE, directory / ROUTES_FILE, *translation_files(directory)]


_LIVE: LiveContent[Catalogue] = LiveContent(
    catalogue_files, parse_catalogue, folders=lambda directory: [directory, directory / TRANSLATIONS_DIR]
)


def load_catalogue(directory: Optional[Path] = None) -> Catalogue:
    """The validated catalogue, read again whenever one of its files changes (core/live_files.py)."""
    return _LIVE.get(Path(directory or catalogue_dir()))


def all_contacts(catalogue: Catalogue) -> List[str]:
    return [channel.contact for channel in catalogue.channels.values()]
