"""What a chat endpoint answers when it refuses a request instead of answering it.

A refused request still helps: the body is the assistant's own reply, in the shape of a REST reply
(a list of {recipient_id, text, lang, dir}): the catalogue's `service_unavailable` reply (101 and
the contact-us page), then `in_danger` ("If a life is in danger ... call 999"), the same two
messages the reply guarantee sends when it cannot tell whether the person is in danger
(channels/reply_guarantee.py). The wording and the numbers come only from the catalogue.

Used by nginx (cluster/local.py writes refusal_reply() to refused.json for every status nginx
answers itself on a chat endpoint: 429, 413, 502/503/504 ...), by the Kubernetes Ingress's
default backend (server/refusals.py), and by the Rasa server itself: the
REST webhook answers a body over the server's size limit (REQUEST_MAX_BYTES, Sanic's
REQUEST_MAX_SIZE, set by server/processes.py), a request too slow to arrive, or an overloaded
server, with the same body and the matching status (refuse_with_the_reply).
"""

from typing import Any, Dict, List

from core.catalogue import load_catalogue
from core.hours import current_time
from core.replies import render

# The largest body the Rasa server reads (Sanic's REQUEST_MAX_SIZE): the largest nginx lets through
# (1 MiB, the social webhooks' limit: Meta batches up to 1,000 events in one call).
REQUEST_MAX_BYTES = 1024 * 1024
ROUTES = ("service_unavailable", "in_danger")
# Every status a refusal may have: what nginx itself answers on a chat endpoint instead of an answer
# (rate limited 429, too large 413, malformed 400/405/408/411/414/494/501/505, no replica answering
# 500/502/503/504), each with the reply as its body.
REFUSED_STATUSES = (400, 405, 408, 411, 413, 414, 429, 494, 500, 501, 502, 503, 504, 505)


def refusal_messages() -> List[Dict[str, Any]]:
    """The bot messages of a refusal (text, lang, dir), from the catalogue."""
    catalogue, now = load_catalogue(), current_time()
    return [message for route in ROUTES for message in render(catalogue, route, now)]


def refusal_reply(recipient_id: str = "") -> List[Dict[str, Any]]:
    """A refusal in the shape of a REST reply; recipient_id is empty when the sender is not known."""
    return [{"recipient_id": recipient_id, **message} for message in refusal_messages()]


def refuse_with_the_reply(blueprint: Any) -> None:
    """Make the Sanic errors that refuse a request on this blueprint's routes answer with the reply:
    413 (body over REQUEST_MAX_SIZE), 408 (the request did not arrive in time), 503 (the server
    gave up on the response), each keeping its status."""
    from sanic import response
    from sanic.exceptions import PayloadTooLarge, RequestTimeout, ServiceUnavailable

    @blueprint.exception(PayloadTooLarge, RequestTimeout, ServiceUnavailable)
    async def refused(request: Any, exception: Exception) -> Any:
        status = int(getattr(exception, "status_code", 503) or 503)
        return response.json(refusal_reply(), status=status, headers={"Cache-Control": "no-store"})
