"""Instagram messaging at /webhooks/instagram/webhook (Meta webhook, Instagram Messaging API).

Uses the Messenger Platform for Instagram: POST <graph API>/me/messages with the access token
of the Facebook Page linked to the Instagram professional account. Replies: text up to 1,000
characters; up to 13 quick replies with titles up to 20 characters; anything else as a
numbered list with quick replies "1".."N".
Secrets: INSTAGRAM_VERIFY_TOKEN, INSTAGRAM_APP_SECRET, INSTAGRAM_ACCESS_TOKEN;
INSTAGRAM_API_URL overrides the Graph API base URL. See docs/channels.md.
"""

from typing import Any, Dict, Tuple

from channels.social import Limits, MetaChannel, Outgoing

GRAPH_API = "https://graph.facebook.com/v19.0"


class InstagramChannel(MetaChannel):
    platform = "instagram"
    label = "Instagram"
    webhook_object = "instagram"
    secret_names = {
        "verify_token": "INSTAGRAM_VERIFY_TOKEN",
        "app_secret": "INSTAGRAM_APP_SECRET",
        "access_token": "INSTAGRAM_ACCESS_TOKEN",
    }
    api_url_name = "INSTAGRAM_API_URL"
    default_api_url = GRAPH_API
    limits = Limits(text=1000, quick_replies=13, quick_reply_title=20, payload=1000, numbered_quick_replies=True)

    def request_for(self, user_id: str, item: Outgoing) -> Tuple[str, Dict[str, Any], Dict[str, str], Dict[str, str]]:
        body = {"recipient": {"id": user_id}, "message": self.meta_message(item)}
        return f"{self.api_url}/me/messages", body, {}, {"access_token": self.secret("access_token")}
