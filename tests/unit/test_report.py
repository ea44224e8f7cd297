"""`make report` (scripts/report.py, core/report.py) and the feedback texts of `make review`, on SQLite stores:
one made by scripts/fake_store.py, whose contents are known, and ones written by Rasa's SQLTrackerStore."""

import os
import re
import time
from datetime import datetime

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from core import report as core_report
from core.catalogue import load_catalogue
from core.conversation_store import open_store, stream_events
from scripts import fake_store, report, review

DAY = 86400
PERSONAL = ["jo.bloggs@example.com", "07700 900123", "07700900123", "B33 8TH", "AB12 CDE", "900123", "bloggs"]


@pytest.fixture
def env(tmp_path, monkeypatch):
    db = tmp_path / "conversations.db"
    monkeypatch.setenv("TRACKER_STORE_DIALECT", "sqlite")
    monkeypatch.setenv("TRACKER_STORE_DB", str(db))
    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")
    return db


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    """A fake store of 6,000 events over the last 20 days, and what it holds."""
    db = tmp_path_factory.mktemp("fake") / "conversations.db"
    return db, fake_store.generate(db, 6000, days=20, seed=3)


def figures_of(db, monkeypatch, **period):
    monkeypatch.setenv("TRACKER_STORE_DIALECT", "sqlite")
    monkeypatch.setenv("TRACKER_STORE_DB", str(db))
    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")
    figures, _ = report.figures_from_store("endpoints.yml", period.get("since"), period.get("until"), load_catalogue())
    return figures


def without_images(page: str) -> str:
    """The page without its charts' base64 PNG data, where short strings such as "b33" turn up by chance.
    (The charts' labels are topic, channel and catalogue names: no message text is ever drawn.)"""
    stripped, count = re.subn(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,", page)
    assert count == page.count("data:image/png;base64,")
    return stripped


def assert_no_personal_data(page: str) -> None:
    flat = without_images(page).lower()
    for value in PERSONAL:
        assert value.lower() not in flat, value


def test_the_figures_are_what_the_store_holds(fake, monkeypatch):
    db, expected = fake
    figures = figures_of(db, monkeypatch)
    assert (figures.conversations, figures.messages) == (expected.conversations, expected.messages)
    names = {core_report.channel_name(key): count for key, count in expected.channel_messages.items()}
    assert dict(figures.channel_messages) == names and len(names) == 5
    assert dict(figures.topics) == dict(expected.topics)
    assert figures.emergencies == expected.emergencies > 0
    assert figures.not_understood == expected.not_understood > 0
    assert (figures.did_you_mean, figures.handovers) == (expected.did_you_mean, expected.handovers)
    assert figures.handovers > 0
    assert {topic: item.asked for topic, item in figures.helpful.items()} == dict(expected.asked)
    assert {t: i.yes for t, i in figures.helpful.items() if i.yes} == dict(expected.yes)
    assert {t: i.no for t, i in figures.helpful.items() if i.no} == dict(expected.no)
    assert sum(figures.messages_per_day.values()) == sum(figures.messages_per_hour.values()) == expected.messages
    assert sum(figures.conversations_per_day.values()) == expected.conversations
    # every routed answer named its route's channels; the emergency reply 999 first
    catalogue = load_catalogue()
    assert figures.sent_to["emergency_999"] >= expected.emergencies
    assert figures.sent_to["silent_solution"] == expected.emergencies
    assert figures.routes["fallback_final"] == expected.handovers
    assert set(figures.sent_to) <= set(catalogue.channels)


def test_the_page_is_self_contained_has_its_charts_and_no_personal_data(fake, monkeypatch, tmp_path, capsys):
    db, expected = fake
    monkeypatch.setenv("TRACKER_STORE_DIALECT", "sqlite")
    monkeypatch.setenv("TRACKER_STORE_DB", str(db))
    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")
    out = tmp_path / "report.html"
    assert report.main(["--days", "30", "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    assert not re.search(r"""(src|href)\s*=\s*(?!["']?data:)""", page), "nothing may be fetched"
    assert "url(" not in page.split("</style>")[0]
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) >= 7
    assert f'<div data-key="messages"><dt>Messages from the public</dt><dd>{expected.messages}</dd>' in page
    assert "[email]" in page and "[postcode]" in page and "[vehicle reg]" in page and "[phone]" in page
    assert "version: &quot;3.1&quot;" in page and "- intent: " in page
    assert_no_personal_data(page)
    assert "fake-0" not in page  # no conversation ids


def test_the_misunderstood_messages_are_redacted_and_grouped_exactly_as_make_review_does(fake, monkeypatch, capsys):
    db, _ = fake
    figures = figures_of(db, monkeypatch)
    assert review.main(["--days", "60", "--limit", "1000"]) == 0
    out = capsys.readouterr().out
    table = out.split("# Ready to paste")[0]
    listed = {line[69:].strip(): int(line.split()[0]) for line in table.splitlines()[2:] if line.strip()}
    assert {group.text: group.count for group in figures.misunderstood} == listed
    assert any(group.reason.startswith("not helpful: ") for group in figures.misunderstood)
    assert_no_personal_data(out)


def test_a_period_keeps_only_its_days(fake, monkeypatch):
    db, expected = fake
    whole = figures_of(db, monkeypatch)
    days = sorted(whole.messages_per_day)
    middle = days[len(days) // 2]
    since, until = report.period(None, middle.isoformat(), middle.isoformat(), time.time())
    one_day = figures_of(db, monkeypatch, since=since, until=until)
    assert one_day.messages == whole.messages_per_day[middle] > 0
    assert set(one_day.messages_per_day) == {middle}
    assert one_day.first_day == one_day.last_day == middle


def test_periods_are_london_days():
    now = datetime(2026, 7, 10, 12, tzinfo=core_report.TIMEZONE).timestamp()
    since, until = report.period(7, None, None, now)
    assert datetime.fromtimestamp(since, core_report.TIMEZONE).isoformat() == "2026-07-04T00:00:00+01:00"
    assert until == now
    since, until = report.period(None, "2026-01-01", "2026-01-31", now)
    assert datetime.fromtimestamp(since, core_report.TIMEZONE).isoformat() == "2026-01-01T00:00:00+00:00"
    assert datetime.fromtimestamp(until, core_report.TIMEZONE).isoformat() == "2026-02-01T00:00:00+00:00"
    since, _ = report.period(None, "2026-07-01T09:30", None, now)
    assert datetime.fromtimestamp(since, core_report.TIMEZONE).isoformat() == "2026-07-01T09:30:00+01:00"
    with pytest.raises(SystemExit):
        report.main(["--since", "yesterday"])


def test_the_events_are_streamed_in_batches_not_loaded_at_once(fake, monkeypatch):
    db, expected = fake
    monkeypatch.setenv("TRACKER_STORE_DIALECT", "sqlite")
    monkeypatch.setenv("TRACKER_STORE_DB", str(db))
    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")
    rows = stream_events(open_store(), actions=core_report.ACTIONS, slots=core_report.SLOTS, batch=50)
    assert iter(rows) is rows  # a generator
    first = next(rows)
    assert first[1] in ("user", "action", "slot")
    seen = 1 + sum(1 for _ in rows)
    assert 0 < seen < expected.events  # the bot replies and action_listen are never read
    assert core_report.collect(iter([]), load_catalogue()).messages == 0


def test_an_empty_store_and_a_missing_one_give_a_page_of_zeros(env, tmp_path, capsys):
    out = tmp_path / "missing.html"
    assert report.main(["--out", str(out)]) == 0  # no store file yet
    page = out.read_text()
    assert "No conversations in this period." in page and "<dd>0</dd>" in page
    SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(env))  # the table, no events
    assert report.main(["--out", str(out)]) == 0
    assert "No conversations in this period." in out.read_text()
    assert "0 conversations, 0 messages" in capsys.readouterr().out


def user(text, intent, confidence, when, channel="rest"):
    parse_data = {"text": text, "intent": {"name": intent, "confidence": confidence},
                  "intent_ranking": [{"name": intent, "confidence": confidence}], "entities": []}  # fmt: skip
    return UserUttered(text, parse_data["intent"], parse_data=parse_data, timestamp=when, input_channel=channel)


async def save(store, sender, *events):
    tracker = DialogueStateTracker.from_events(sender, [])
    for event in events:
        tracker.update(event)
    await store.save(tracker)


def action(name, when):
    return ActionExecuted(name, timestamp=when)


async def test_a_store_from_before_feedback_existed_and_the_text_after_a_no(env, tmp_path):
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(env))
    now = time.time()
    # before issue 17: no feedback events at all
    await save(store, "old", user("how do i get crime alerts", "alerts", 0.97, now - 3 * DAY, "facebook"),
               action("action_route_to_channel", now - 3 * DAY), SlotSet("last_route", "alerts", timestamp=now - 3 * DAY),
               action("action_listen", now - 3 * DAY))  # fmt: skip
    figures = core_report.collect(stream_events(open_store(), actions=core_report.ACTIONS, slots=core_report.SLOTS),
                                  load_catalogue())  # fmt: skip
    assert figures.helpful == {} and figures.messages == 1 and dict(figures.sent_to) == {"wmnow": 1}
    assert dict(figures.channel_messages) == {"Messenger": 1}
    out = tmp_path / "old.html"
    assert report.main(["--out", str(out)]) == 0
    assert 'No "was this helpful?" in this period' in out.read_text()
    # with feedback: a no, then what they were looking for (understood well, yet listed for review)
    t = now - DAY
    await save(store, "new", user("whats the non emergency number", "non_emergency", 0.95, t),
               action("action_route_to_channel", t), SlotSet("last_route", "non_emergency", timestamp=t),
               SlotSet("feedback_asked", ["non_emergency"], timestamp=t), action("action_listen", t),
               user("/feedback_no", "feedback_no", 1.0, t + 5), action("action_feedback", t + 5),
               SlotSet("feedback", {"topic": "non_emergency", "helpful": False}, timestamp=t + 5),
               action("action_listen", t + 5),
               user("I wanted to report a car AB12 CDE, email jo.bloggs@example.com", "road_incidents", 0.93, t + 30),
               action("action_route_to_channel", t + 30), action("action_listen", t + 30),
               user("thanks", "thank", 0.99, t + 40))  # fmt: skip
    figures = core_report.collect(stream_events(open_store(), actions=core_report.ACTIONS, slots=core_report.SLOTS),
                                  load_catalogue())  # fmt: skip
    helpful = figures.helpful["non_emergency"]
    assert (helpful.asked, helpful.yes, helpful.no, helpful.rate) == (1, 0, 1, 0.0)
    texts = {group.text: group.reason for group in figures.misunderstood}
    assert texts == {"i wanted to report a car [vehicle reg], email [email]": "not helpful: non_emergency"}
    assert report.main(["--out", str(out)]) == 0
    assert_no_personal_data(out.read_text())


async def test_review_lists_the_text_after_a_no_redacted(env, capsys):
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(env))
    t = time.time() - 60
    await save(store, "a", user("/feedback_no", "feedback_no", 1.0, t),
               SlotSet("feedback", {"topic": "alerts", "helpful": False}, timestamp=t),
               user("where do I ring about B33 8TH, 0121 626 5000", "contact_us", 0.97, t + 20),
               user("how do i get crime alerts", "alerts", 0.97, t + 40))  # fmt: skip
    assert review.main([]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.split("# Ready to paste")[0].splitlines()[2:] if line.strip()]
    assert len(rows) == 1
    assert "not helpful: alerts" in rows[0] and "where do i ring about [postcode], [phone]" in rows[0]
    assert "B33" not in out and "626" not in out and "crime alerts" not in out


def test_every_chart_is_drawn_by_matplotlib_with_a_title_axis_labels_and_units(fake, monkeypatch, tmp_path):
    """Each chart in the page: a matplotlib figure with a title, both axes labelled, the count or
    percentage axis naming its unit, tick labels on both axes; embedded as a PNG that decodes."""
    import base64
    import io

    from PIL import Image

    db, _ = fake
    drawn = []
    real_png = report._png

    def capture(figure):
        figure.canvas.draw()  # places the ticks
        (axes,) = figure.axes
        drawn.append({"title": axes.get_title(), "x": axes.get_xlabel(), "y": axes.get_ylabel(),
                      "xticks": [t.get_text() for t in axes.get_xticklabels()],
                      "yticks": [t.get_text() for t in axes.get_yticklabels()]})  # fmt: skip
        return real_png(figure)

    monkeypatch.setattr(report, "_png", capture)
    monkeypatch.setenv("TRACKER_STORE_DIALECT", "sqlite")
    monkeypatch.setenv("TRACKER_STORE_DB", str(db))
    out = tmp_path / "report.html"
    assert report.main(["--days", "30", "--out", str(out)]) == 0
    titles = [chart["title"] for chart in drawn]
    assert titles == ["Conversations and messages per day", "Conversations and messages by hour of day",
                      "Messages by channel", "Topics asked about (top 15)", "Official channels in the answers",
                      "Emergency replies, fallbacks and hand-overs", "Helpful rate per topic"]  # fmt: skip
    units = ("count", "times", "%", "(europe/london")
    for chart in drawn:
        assert chart["x"] and chart["y"], chart
        assert any(unit in (chart["x"] + chart["y"]).lower() for unit in units), chart
        assert any(chart["xticks"]) and any(chart["yticks"]), chart
    assert "Web chat" in drawn[2]["yticks"] and "X" in drawn[2]["yticks"]
    page = out.read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)">', page)
    assert len(images) == len(drawn)
    for data, alt in images:
        picture = Image.open(io.BytesIO(base64.b64decode(data)))
        assert picture.format == "PNG" and picture.width >= 800 and picture.height >= 150 and alt


def test_a_period_starting_long_before_the_first_message_shows_days_from_that_message():
    """SINCE=2000-01-01: the header says the period asked for, the day-by-day table starts at the first
    message; days with no message inside the stored range are kept (as zeros)."""
    catalogue = load_catalogue()
    now = datetime(2026, 7, 10, 12, tzinfo=core_report.TIMEZONE).timestamp()
    since, until = report.period(None, "2000-01-01", None, now)
    rows = [("a", "user", now - 3 * DAY, "greet", None, '{"text": "hi", "input_channel": "rest"}'),
            ("b", "user", now - DAY, "greet", None, '{"text": "hi", "input_channel": "rest"}')]  # fmt: skip
    figures = core_report.collect(rows, catalogue, since=since, until=until)
    assert report.chart_days(figures, now) == (datetime(2026, 7, 7).date(), datetime(2026, 7, 10).date())
    page = report.render_html(figures, catalogue, "sqlite test.db", now)
    assert "01 Jan 2000 to 10 Jul 2026" in page
    days = re.findall(r'<tr data-key="(\d{4}-\d\d-\d\d)">', page)
    assert days == ["2026-07-07", "2026-07-08", "2026-07-09", "2026-07-10"]
    empty = core_report.collect([], catalogue, since=since, until=until)
    assert report.chart_days(empty, now) == (None, None)
    assert not re.findall(r'<tr data-key="(\d{4}-\d\d-\d\d)">', report.render_html(empty, catalogue, "x", now))


def test_a_thanks_or_goodbye_after_a_no_is_not_what_they_were_looking_for():
    collector = core_report.Misunderstood()
    parse = lambda intent, confidence: {"intent": {"name": intent, "confidence": confidence}}  # noqa: E731
    for sender, text, intent, confidence in [
        ("a", "thanks", "thank", 0.98),
        ("b", "ok bye then", "goodbye", 0.95),
        ("c", "thnks i gues", "thank", 0.4),
        ("d", "the bins", "contact_us", 0.9),
    ]:
        collector.feedback(sender, {"topic": "alerts", "helpful": False})
        collector.user(sender, 1.0, {"text": text, "parse_data": parse(intent, confidence)})  # fmt: skip
    reasons = {group.text: group.reason for group in collector.groups()}
    assert reasons == {"thnks i gues": "not helpful: alerts", "the bins": "not helpful: alerts"}


def test_make_report_and_make_review_need_no_variables_set(monkeypatch):
    """`make report` / `make review` run with a bare environment: endpoints.yml's ${VARIABLES} take
    server/settings.py's defaults (the store of `make run`), and the environment is left as it was."""
    from core.conversation_store import store_settings

    for name in ("TRACKER_STORE_DIALECT", "TRACKER_STORE_DB", "ACTION_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = store_settings("endpoints.yml")
    assert (settings["dialect"], settings["db"]) == ("sqlite", "var/conversations.db")
    assert "TRACKER_STORE_DB" not in os.environ and "ACTION_SERVER_URL" not in os.environ
    monkeypatch.setenv("TRACKER_STORE_DB", "elsewhere.db")
    assert store_settings("endpoints.yml")["db"] == "elsewhere.db"
