"""X (Twitter) direct messages at /webhooks/twitter/webhook (Account Activity API webhook).

Answers X's CRC challenge, checks x-twitter-webhooks-signature, and replies with the X API v2
endpoint POST /2/dm_conversations/with/:participant_id/messages, signed with OAuth 1.0a
(HMAC-SHA1) as the force's account. Replies: plain text with links, up to 10,000 characters;
buttons always as a numbered list ("Reply with a number: 1. ...").
Secrets: TWITTER_CONSUMER_KEY, TWITTER_CONSUMER_SECRET, TWITTER_ACCESS_TOKEN,
TWITTER_ACCESS_TOKEN_SECRET; TWITTER_API_URL overrides https://api.twitter.com. See docs/channels.md.
"""

from typing import Any, Dict, List, Optional, Tuple

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.social import (
    Incoming,
    Limits,
    Outgoing,
    SocialChannel,
    crc_response_token,
    oauth1_header,
    valid_twitter_signature,
    valid_user_id,
)

X_API = "https://api.twitter.com"


class TwitterChannel(SocialChannel):
    platform = "twitter"
    label = "X direct messages"
    secret_names = {
        "consumer_key": "TWITTER_CONSUMER_KEY",
        "consumer_secret": "TWITTER_CONSUMER_SECRET",
        "access_token": "TWITTER_ACCESS_TOKEN",
        "access_token_secret": "TWITTER_ACCESS_TOKEN_SECRET",
    }
    api_url_name = "TWITTER_API_URL"
    default_api_url = X_API
    limits = Limits(text=10_000)  # no native buttons: always a numbered list

    def handshake(self, request: Request) -> HTTPResponse:
        crc_token = request.args.get("crc_token")
        if not crc_token:
            return response.json({"error": "crc_token is required"}, status=400)
        return response.json({"response_token": crc_response_token(self.secret("consumer_secret"), crc_token)})

    def signed(self, request: Request) -> bool:
        return valid_twitter_signature(
            self.secret("consumer_secret"), request.body or b"", request.headers.get("x-twitter-webhooks-signature")
        )

    def messages(self, payload: Dict[str, Any]) -> List[Incoming]:
        account = str(payload.get("for_user_id") or "")
        found = []
        events = payload.get("direct_message_events")
        for event in events if isinstance(events, list) else []:
            message = self.read_event(event, account) if isinstance(event, dict) else None
            if message is not None:
                found.append(message)
        return found  # typing indicators, read receipts, follows, tweets...: nothing to answer

    @staticmethod
    def read_event(event: Dict[str, Any], account: str) -> Optional[Incoming]:
        create = event.get("message_create")
        if event.get("type") != "message_create" or not isinstance(create, dict):
            return None
        sender = valid_user_id(create.get("sender_id"))
        if sender is None or sender == account:  # our own DMs (the replies) come back too
            return None
        data = create.get("message_data") if isinstance(create.get("message_data"), dict) else {}
        message_id = str(event["id"]) if isinstance(event.get("id"), (str, int)) else None
        quick_reply = data.get("quick_reply_response")
        if isinstance(quick_reply, dict) and isinstance(quick_reply.get("metadata"), str) and quick_reply["metadata"]:
            return Incoming(sender, message_id, quick_reply["metadata"], is_payload=True)
        text = data.get("text")
        return Incoming(sender, message_id, text if isinstance(text, str) else "")

    def request_for(self, user_id: str, item: Outgoing) -> Tuple[str, Dict[str, Any], Dict[str, str], Dict[str, str]]:
        url = f"{self.api_url}/2/dm_conversations/with/{user_id}/messages"
        authorization = oauth1_header(
            "POST",
            url,
            self.secret("consumer_key"),
            self.secret("consumer_secret"),
            self.secret("access_token"),
            self.secret("access_token_secret"),
        )
        return url, {"text": item.text}, {"Authorization": authorization}, {}
