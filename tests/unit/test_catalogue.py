"""The catalogue loads, and every mistake a staff member can make gives an error naming file and entry."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from core.catalogue import CatalogueError, all_contacts, load_catalogue, parse_catalogue

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "catalogue"
# The platforms' API endpoints the social connectors call: configuration, never shown to the public.
PLATFORM_APIS = (
    "https://graph.facebook.com",
    "https://graph.instagram.com",
    "https://api.twitter.com",
    "https://api.x.com",
)
URL = re.compile(r"https?://[^\s\"'<>)]+|www\.[a-z0-9-]+\.[a-z][^\s\"'<>)]*")


def test_catalogue_loads_every_official_channel():
    catalogue = load_catalogue()
    contacts = set(all_contacts(catalogue))
    for official in (
        "https://www.west-midlands.police.uk",
        "https://www.west-midlands.police.uk/contact-us/live-chat",
        "https://www.west-midlands.police.uk/contact-us",
        "https://www.wmnow.co.uk",
        "https://www.facebook.com/westmidlandspolice/",
        "https://www.instagram.com/westmidlandspolice/",
        "https://twitter.com/WMPolice",
        "https://www.west-midlands.police.uk/about-us/privacy-notice/general",
        "101",
        "999",
        "18000",
        "18001 101",
        "55",
    ):
        assert official in contacts
    assert all(channel.source for channel in catalogue.channels.values())


def test_the_catalogue_is_the_only_place_a_link_is_written():
    """No URL in the domain, the data, the config or the Python that is not taken from the catalogue."""
    allowed = set(all_contacts(load_catalogue()))
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    checked = [
        path
        for path in tracked
        if path.endswith((".py", ".yml", ".yaml")) and not path.startswith(("catalogue/channels.yml", "tests/"))
    ]
    assert "domain.yml" in checked and "actions/routing.py" in checked
    for path in checked:
        for url in URL.findall((ROOT / path).read_text(encoding="utf-8")):
            if url.startswith(("http://127.0.0.1", "http://localhost") + PLATFORM_APIS) or "{" in url:
                continue
            assert url.rstrip(".,") in allowed, f"{path}: {url} is not in catalogue/channels.yml"


@pytest.fixture
def broken(tmp_path):
    """A copy of the catalogue to break."""
    for name in ("channels.yml", "routes.yml"):
        shutil.copy(CATALOGUE / name, tmp_path / name)

    def edit(file: str, change):
        path = tmp_path / file
        data = yaml.safe_load(path.read_text())
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return tmp_path

    return edit


@pytest.mark.parametrize(
    "file, change, message",
    [
        (
            "channels.yml",
            lambda d: d["channels"]["wmnow"].pop("source"),
            "channel 'wmnow': missing required field 'source'",
        ),
        (
            "channels.yml",
            lambda d: d["channels"]["wmnow"].update(link="http://www.wmnow.co.uk"),
            "channel 'wmnow': link 'http://www.wmnow.co.uk' must start with https://",
        ),
        (
            "channels.yml",
            lambda d: d["channels"]["wmnow"].update(link="https://wmnow.example.com"),
            "must start with https:// and be on a domain the force uses",
        ),
        (
            "channels.yml",
            lambda d: d["channels"]["wmnow"].update(colour="blue"),
            "channel 'wmnow': unknown field(s) colour",
        ),
        (
            "channels.yml",
            lambda d: d["channels"]["phone_101"].update(link="https://www.wmnow.co.uk/x"),
            "give exactly one of 'link' or 'phone'",
        ),
        ("channels.yml", lambda d: d["channels"]["phone_101"].update(phone=101), "phone must be digits in quotes"),
        (
            "channels.yml",
            lambda d: d["channels"]["instagram"].update(link=d["channels"]["facebook"]["link"]),
            "channel 'instagram' repeats the link of 'facebook'",
        ),
        (
            "channels.yml",
            lambda d: d["channels"]["live_chat"]["hours"].update(opens="8am"),
            "hours 'opens' must be a quoted time HH:MM",
        ),
        (
            "channels.yml",
            lambda d: d["channels"]["live_chat"]["hours"].update(opens="23:00", closes="08:00"),
            "'opens' (23:00) must be before 'closes' (08:00)",
        ),
        (
            "channels.yml",
            lambda d: d["channels"]["live_chat"]["hours"].update(timezone="Mars/Base"),
            "unknown hours timezone",
        ),
        (
            "channels.yml",
            lambda d: d["channels"].update(
                spare={
                    "name": "x",
                    "link": "https://www.wmnow.co.uk/spare",
                    "description": "x",
                    "use_when": "x",
                    "source": "x",
                }
            ),
            "channel 'spare' is not used by any route",
        ),
        ("channels.yml", lambda d: d.pop("channels"), "expected a top-level 'channels:' mapping"),
        (
            "routes.yml",
            lambda d: d["routes"]["alerts"].update(channels=["wmnoww"]),
            "route 'alerts': channel 'wmnoww' is not in channels.yml",
        ),
        (
            "routes.yml",
            lambda d: d["routes"]["alerts"].update(messages=["Sign up: {wmnoww}"]),
            "route 'alerts': {wmnoww} names no channel",
        ),
        (
            "routes.yml",
            lambda d: d["routes"]["alerts"].update(messages=["Sign up: https://www.wmnow.co.uk"]),
            "route 'alerts': write {channel_key} instead of a link",
        ),
        (
            "routes.yml",
            lambda d: d["routes"]["alerts"].update(messages=["Open {wmnow.hours}"]),
            "channel 'wmnow' has no hours",
        ),
        ("routes.yml", lambda d: d["routes"]["alerts"].pop("title"), "route 'alerts': missing required field 'title'"),
        (
            "routes.yml",
            lambda d: d["routes"]["alerts"].update(title="Sign up to the WMNow alerts"),
            "'title' is a button label: at most 20 characters",
        ),
        (
            "routes.yml",
            lambda d: d["routes"]["alerts"].update(buttons=["nowhere"]),
            "route 'alerts': button 'nowhere' names no route",
        ),
        (
            "routes.yml",
            lambda d: d["routes"]["alerts"].update(messages=[]),
            "route 'alerts': 'messages' must be a list of non-empty texts",
        ),
    ],
)
def test_a_broken_catalogue_gives_an_error_naming_file_and_entry(broken, file, change, message):
    directory = broken(file, change)
    with pytest.raises(CatalogueError) as error:
        parse_catalogue(directory)
    assert message in str(error.value)
    assert str(directory) in str(error.value)


def test_invalid_yaml_names_the_file(tmp_path):
    shutil.copy(CATALOGUE / "routes.yml", tmp_path / "routes.yml")
    (tmp_path / "channels.yml").write_text("channels:\n  website: [unclosed\n")
    with pytest.raises(CatalogueError, match="channels.yml: not valid YAML"):
        parse_catalogue(tmp_path)


def test_an_edited_catalogue_is_used_at_once_and_a_broken_edit_keeps_the_last_good_one(tmp_path):
    import shutil
    import time

    shutil.copytree(ROOT / "catalogue", tmp_path / "catalogue")
    channels = tmp_path / "catalogue" / "channels.yml"
    assert load_catalogue(tmp_path / "catalogue").channels["wmnow"].link == "https://www.wmnow.co.uk"
    time.sleep(0.01)
    channels.write_text(channels.read_text().replace("https://www.wmnow.co.uk", "https://alerts.wmnow.co.uk"))
    assert load_catalogue(tmp_path / "catalogue").channels["wmnow"].link == "https://alerts.wmnow.co.uk"
    channels.write_text(channels.read_text().replace("https://alerts.wmnow.co.uk", "http://wrong.example"))
    assert load_catalogue(tmp_path / "catalogue").channels["wmnow"].link == "https://alerts.wmnow.co.uk"
