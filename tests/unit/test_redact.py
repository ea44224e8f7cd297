"""Personal data is redacted before staff see what the public typed."""

import pytest

from core.redaction import redact


@pytest.mark.parametrize(
    "text, expected",
    [
        ("email me at jo.bloggs+police@example.co.uk please", "email me at [email] please"),
        ("my number is 07700 900123", "my number is [phone]"),
        ("ring me on +44 7700 900123", "ring me on [phone]"),
        ("call 0121 496 0000 after 6", "call [phone] after 6"),
        ("landline (0121) 4960000", "landline [phone]"),
        ("i live at B15 2TT near the uni", "i live at [postcode] near the uni"),
        ("postcode ws10 8ab", "postcode [postcode]"),
        ("a silver car AB12 CDE drove off", "a silver car [vehicle reg] drove off"),
        ("reg was ab12cde", "reg was [vehicle reg]"),
        ("old plate P123 ABC", "old plate [vehicle reg]"),
        ("card 4111 1111 1111 1111 was used", "card [card number] was used"),
        ("card 4111-1111-1111-1111", "card [card number]"),
    ],
)
def test_each_kind_of_personal_data_is_redacted(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "whats the non emergency number 101",
        "call 999 now",
        "text 18000",
        "18001 101",
        "open 8am to midnight",
        "my bike got nicked last week",
        "i need help with a b and b booking",
    ],
)
def test_ordinary_text_and_police_numbers_are_left_alone(text):
    assert redact(text) == text
