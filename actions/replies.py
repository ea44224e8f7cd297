"""Turn a route of the catalogue into bot messages: text with the official links, and buttons."""

import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence

from actions.catalogue import PLACEHOLDER, Catalogue, Channel, Route
from actions.hours import describe, is_open

Message = Dict[str, Any]


def _channel_line(channel: Channel) -> str:
    return f"{channel.name}: {channel.contact}"


def _fill(text: str, catalogue: Catalogue, listed: Sequence[Channel]) -> str:
    def replace(match: "re.Match[str]") -> str:
        key, field = match.group(1), match.group(2)
        if key == "channels" and field is None:
            return "\n".join(_channel_line(channel) for channel in listed)
        channel = catalogue.channels[key]
        if field == "name":
            return channel.name
        if field == "hours" and channel.hours is not None:
            return describe(channel.hours)
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


def buttons(route_keys: Sequence[str], catalogue: Catalogue) -> List[Dict[str, str]]:
    return [{"title": catalogue.routes[key].title, "payload": f"/{key}"} for key in route_keys]


def render(
    catalogue: Catalogue,
    route_key: str,
    now: datetime,
    user_text: str = "",
    extra_buttons: Optional[List[Dict[str, str]]] = None,
) -> List[Message]:
    """The messages for one route, buttons on the last one."""
    route = catalogue.route(route_key)
    texts = route.when_closed if route.when_closed and is_closed(route, catalogue, now) else route.messages
    listed = channels_for(route, catalogue, user_text)
    messages: List[Message] = [{"text": _fill(text, catalogue, listed)} for text in texts]
    route_buttons = buttons(route.buttons, catalogue) + (extra_buttons or [])
    if route_buttons:
        messages[-1]["buttons"] = route_buttons
    return messages
