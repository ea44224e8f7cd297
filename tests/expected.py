"""What a reply must contain for each intent, judged on what the person reads: the link or number
of the channel that serves it (from the catalogue, never written here)."""

from typing import Iterable, List

from core.catalogue import load_catalogue

# intent -> the channels any one of which answers it
CHANNELS = {
    "ask_question": ["website"], "live_chat": ["live_chat"], "non_emergency": ["phone_101"], "alerts": ["wmnow"],
    "social_media": ["facebook", "instagram", "twitter"], "contact_us": ["contact_us"], "accessibility": ["relay_101"],
    "emergency_info": ["emergency_999"], "lost_property": ["website"], "fines_and_tickets": ["website"],
    "officer_feedback": ["contact_us"], "careers": ["website"], "licensing": ["website"],
    "request_information": ["website"], "crime_update": ["phone_101"], "road_collision": ["website"],
    "fraud": ["website"], "domestic_abuse": ["live_chat"], "antisocial_behaviour": ["website"], "drugs": ["website"],
    "hate_crime": ["website"], "missing_person_update": ["phone_101"], "local_policing": ["wmnow"],
    "road_incidents": ["twitter"], "privacy": ["privacy_notice"], "ask_hours": ["live_chat"], "ask_number": ["phone_101"],
}  # fmt: skip
TOPICS = [
    "lost_property", "fines_and_tickets", "officer_feedback", "careers", "licensing", "request_information",
    "crime_update", "road_collision", "fraud", "domestic_abuse", "antisocial_behaviour", "drugs", "hate_crime",
    "missing_person_update", "local_policing", "road_incidents", "privacy", "not_police", "ask_hours", "ask_number",
]  # fmt: skip
# The not_police route names no channel: its reply is recognised by the route's own first message.
NO_CHANNEL = {"not_police"}


def contacts(intent: str) -> List[str]:
    channels = load_catalogue().channels
    return [channels[key].contact for key in CHANNELS.get(intent, [])]


def answers(intent: str, reply_texts: Iterable[str], route_first_texts: Iterable[str] = ()) -> bool:
    """The reply gives what serves the intent: one of its channels' links or numbers (or, for a route
    that names no channel, its own first message in one of the given forms)."""
    text = "\n".join(reply_texts)
    if intent in NO_CHANNEL:
        return any(first in text for first in route_first_texts)
    return any(contact in text for contact in contacts(intent))
