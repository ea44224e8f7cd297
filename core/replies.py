"""Turn a route of the catalogue into bot messages: text with the official links, and buttons."""

import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence

from core.catalogue import EMERGENCY_ROUTE, PLACEHOLDER, Catalogue, Channel, Route
from core.hours import describe, is_open

Message = Dict[str, Any]
ENGLISH = "en"


def _channel_line(channel: Channel) -> str:
    return f"{channel.name}: {channel.contact}"


def _fill(text: str, catalogue: Catalogue, listed: Sequence[Channel], language: str = ENGLISH) -> str:
    def hours(channel: Channel) -> str:
        assert channel.hours is not None
        return describe(channel.hours) if language == ENGLISH else f"{channel.hours.opens}-{channel.hours.closes}"

    def replace(match: "re.Match[str]") -> str:
        key, field = match.group(1), match.group(2)
        if key == "channels" and field == "hours":
            return "\n".join(f"{channel.name}: {hours(channel)}" for channel in listed if channel.hours)
        if key == "channels":
            return "\n".join(_channel_line(channel) for channel in listed)
        channel = catalogue.channels[key]
        if field == "name":
            return channel.name
        if field == "hours" and channel.hours is not None:
            return hours(channel)
        return channel.contact

    return PLACEHOLDER.sub(replace, text)


def _mentioned(channel: Channel, user_text: str) -> bool:
    words = user_text.lower()
    return any(re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?![a-z0-9])", words) for alias in channel.aliases)


def channels_for(route: Route, catalogue: Catalogue, user_text: str = "") -> List[Channel]:
    """The route's channels; for pick_by_alias routes only those the person named, if they named any."""
    channels = [catalogue.channels[key] for key in route.channels]
    if route.pick_by_alias:
        named = [channel for channel in channels if _mentioned(channel, user_text)]
        return named or channels
    return channels


def is_closed(route: Route, catalogue: Catalogue, now: datetime) -> bool:
    return any(not is_open(catalogue.channels[key].hours, now) for key in route.channels)


def title(catalogue: Catalogue, route_key: str, language: str = ENGLISH) -> str:
    translated = catalogue.translations.get(language)
    if translated and route_key in translated.routes:
        return translated.routes[route_key].title
    return catalogue.routes[route_key].title


def buttons(route_keys: Sequence[str], catalogue: Catalogue, language: str = ENGLISH) -> List[Dict[str, str]]:
    return [{"title": title(catalogue, key, language), "payload": f"/{key}"} for key in route_keys]


def direction(catalogue: Catalogue, language: str) -> str:
    translated = catalogue.translations.get(language)
    return translated.direction if translated else "ltr"


def _texts(route: Route, translated: Any, closed: bool, follow_up: bool) -> Sequence[str]:
    """The route's texts for its state (closed hours, a follow-up), from the translation when given."""
    source = translated or route
    if follow_up:
        return source.messages_about_previous
    if closed and route.when_closed:
        return source.when_closed
    return source.messages


def about_previous(route: Route, catalogue: Catalogue, previous_route: Optional[str]) -> List[Channel]:
    """For a follow-up route, the previous route's channels it is about (with hours, or with a number)."""
    if route.about_previous is None or previous_route not in catalogue.routes:
        return []
    channels = [catalogue.channels[key] for key in catalogue.routes[previous_route].channels]
    return [channel for channel in channels if (channel.hours if route.about_previous == "hours" else channel.phone)]


def render(
    catalogue: Catalogue,
    route_key: str,
    now: datetime,
    user_text: str = "",
    extra_buttons: Optional[List[Dict[str, str]]] = None,
    previous_route: Optional[str] = None,
    language: str = ENGLISH,
) -> List[Message]:
    """The messages for one route in a language, buttons on the last one; each message says its
    language and direction (`lang`, `dir`). A route with no translation is said in English after
    the language's note; the emergency reply opens with "Call 999 now" in the language, then in
    English, then how to get an interpreter on 999."""
    route = catalogue.route(route_key)
    translation = catalogue.translations.get(language)
    translated = translation.routes.get(route_key) if translation else None
    listed = channels_for(route, catalogue, user_text)
    follow_up = about_previous(route, catalogue, previous_route)
    if follow_up:
        listed = follow_up
    closed = bool(route.when_closed) and is_closed(route, catalogue, now)
    speaks = language if translated else ENGLISH

    def message(text: str, in_language: str) -> Message:
        return {"text": _fill(text, catalogue, listed, in_language), "lang": in_language,
                "dir": direction(catalogue, in_language)}  # fmt: skip

    messages = [message(text, speaks) for text in _texts(route, translated, closed, bool(follow_up))]
    if translation and not translated:
        messages.insert(0, message(translation.untranslated_note, language))
    if translation and route_key == EMERGENCY_ROUTE:
        first, interpreter = translation.emergency
        english = [message(text, ENGLISH) for text in route.messages]
        rest = [message(text, language) for text in translated.messages[1:]] if translated else english[1:]
        messages = [message(first, language), english[0], message(interpreter, language)] + rest
    route_buttons = buttons(route.buttons, catalogue, language) + (extra_buttons or [])
    if route_buttons:
        messages[-1]["buttons"] = route_buttons
    return messages
