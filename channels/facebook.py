"""Facebook Messenger at /webhooks/facebook/webhook (Meta webhook, Messenger Send API).

Replies: text up to 2,000 characters; up to 3 buttons with titles up to 20 characters (and a
text up to 640) as a button template of postback buttons; up to 13 with titles up to 20 as
quick replies; anything else as a numbered list with quick replies "1".."N".
Secrets: FACEBOOK_VERIFY_TOKEN, FACEBOOK_APP_SECRET, FACEBOOK_PAGE_ACCESS_TOKEN;
FACEBOOK_API_URL overrides the Graph API base URL. See docs/channels.md.
"""

from typing import Any, Dict, Tuple

from channels.social import Limits, MetaChannel, Outgoing

GRAPH_API = "https://graph.facebook.com/v19.0"


class FacebookChannel(MetaChannel):
    platform = "facebook"
    label = "Facebook Messenger"
    webhook_object = "page"
    secret_names = {
        "verify_token": "FACEBOOK_VERIFY_TOKEN",
        "app_secret": "FACEBOOK_APP_SECRET",
        "page_access_token": "FACEBOOK_PAGE_ACCESS_TOKEN",
    }
    api_url_name = "FACEBOOK_API_URL"
    default_api_url = GRAPH_API
    limits = Limits(
        text=2000,
        quick_replies=13,
        quick_reply_title=20,
        template_buttons=3,
        template_title=20,
        template_text=640,
        payload=1000,
        numbered_quick_replies=True,
    )

    def request_for(self, user_id: str, item: Outgoing) -> Tuple[str, Dict[str, Any], Dict[str, str], Dict[str, str]]:
        body = {"recipient": {"id": user_id}, "messaging_type": "RESPONSE", "message": self.meta_message(item)}
        return f"{self.api_url}/me/messages", body, {}, {"access_token": self.secret("page_access_token")}
