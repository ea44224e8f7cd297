"""Remove personal data from what the public typed before staff see it."""

import re
from typing import List, Pattern, Tuple

# Order matters: long digit runs (cards) before phone numbers, postcodes before vehicle registrations.
REDACTIONS: List[Tuple[str, Pattern[str]]] = [
    ("[email]", re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")),
    ("[card number]", re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")),
    ("[phone]", re.compile(r"(?<![\w+])(?:(?:\+|00)44[\s-]?(?:\(0\)[\s-]?)?|\(?0)\d{2,4}\)?(?:[\s-]?\d){6,8}(?!\d)")),
    ("[postcode]", re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s?[0-9][A-Z]{2}\b", re.IGNORECASE)),
    (
        "[vehicle reg]",
        re.compile(
            r"\b(?:[A-Z]{2}[0-9]{2}\s?[A-Z]{3}|[A-Z][0-9]{1,3}\s?[A-Z]{3}|[A-Z]{3}\s?[0-9]{1,3}[A-Z])\b", re.IGNORECASE
        ),
    ),
]


def redact(text: str) -> str:
    for placeholder, pattern in REDACTIONS:
        text = pattern.sub(placeholder, text)
    return text
