"""Every kind of staff change goes live through the documented steps, on the real servers, without a
restart: the catalogue and the emergency patterns are read again when a file changes (a broken edit
keeps the last good version); a newly trained model is taken by `make reload` (tests/e2e/test_model_reload.py)."""

import shutil
import time
from pathlib import Path

import pytest

from server.settings import ROOT
from tests.servers import Assistant, all_text


@pytest.fixture(scope="module")
def editable(tmp_path_factory):
    """The real servers reading a copy of the catalogue that the tests edit."""
    folder = tmp_path_factory.mktemp("staff")
    shutil.copytree(ROOT / "catalogue", folder / "catalogue")
    running = Assistant(workdir=folder, env={"CATALOGUE_DIR": str(folder / "catalogue")})
    try:
        yield running.start(), folder / "catalogue"
    finally:
        running.stop()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    time.sleep(0.02)  # a new modification time
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.slow
def test_a_changed_link_is_given_at_the_next_message(editable, sender):
    assistant, catalogue = editable
    assert "https://www.wmnow.co.uk" in all_text(assistant.say(sender, "how do i get crime alerts"))
    edit(catalogue / "channels.yml", "link: https://www.wmnow.co.uk", "link: https://alerts.wmnow.co.uk")
    assert "https://alerts.wmnow.co.uk" in all_text(assistant.say(sender, "how do i get crime alerts"))


@pytest.mark.slow
def test_a_changed_number_wording_and_hours_are_used_at_once(editable, sender):
    assistant, catalogue = editable
    edit(catalogue / "channels.yml", 'phone: "101"', 'phone: "1010"')
    assert "1010" in all_text(assistant.say(sender, "whats the non emergency number to ring"))
    edit(catalogue / "routes.yml", "Sign up to WMNow for free alerts", "Join WMNow for free alerts")
    assert "Join WMNow for free alerts" in all_text(assistant.say(sender, "sign me up for wmnow alerts"))
    edit(catalogue / "channels.yml", 'closes: "24:00"', 'closes: "13:00"')  # the clock is pinned at 14:00
    assert "Live chat is closed right now" in all_text(assistant.say(sender, "is there a live chat"))


@pytest.mark.slow
def test_a_new_emergency_pattern_is_used_at_once_and_a_broken_edit_changes_nothing(editable, sender):
    assistant, catalogue = editable
    message = "code purple at the leisure centre on the ring road"
    assert not assistant.say(sender, message)[0]["text"].startswith("Call 999 now")
    edit(catalogue / "emergency.yml", "danger:\n", "danger:\n  - \\bcode purple\\b\n")
    assert assistant.say(sender, message)[0]["text"].startswith("Call 999 now")
    (catalogue / "emergency.yml").write_text("danger: [\n", encoding="utf-8")  # half saved
    (catalogue / "channels.yml").write_text("channels:\n  website: {}\n", encoding="utf-8")
    assert assistant.say(sender, message)[0]["text"].startswith("Call 999 now")
    assert "https://alerts.wmnow.co.uk" in all_text(assistant.say(sender, "how do i get crime alerts"))
