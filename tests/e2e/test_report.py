"""End to end: conversations played through the real servers, then `make report` on the assistant's store.

REST, Messenger, Instagram and X (signed webhooks, fake platforms): routed topics, feedback yes
and no (buttons, a typed "no", a numbered choice), an emergency, two misses in a row (did you
mean, then the hand-over), and a "what were you looking for" text full of personal data. The
report, built from the events stored since the script started, must count exactly what was
played, open in Chromium without a console error or a request, and show none of the personal data.
"""

import os
import shutil
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Dict, List

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet

from core.catalogue import load_catalogue
from core.replies import channels_for
from scripts import fake_store, report
from server.settings import ROOT
from tests.browser import chromium
from tests.e2e.test_feedback import QUESTION, stored_events, wait_stored, warm_up
from tests.e2e.test_social_channels import fake, has, say  # noqa: F401 (fixture)
from tests.e2e.test_web_widget import WRITE_DOC_SCREENSHOTS
from tests.servers import all_text
from tests.unit.test_report import action, assert_no_personal_data, figures_of, save, user, without_images

EMAIL, PHONE, POSTCODE, REG = "jo.bloggs@example.com", "07700 900123", "B33 8TH", "AB12 CDE"
LOOKING_FOR_TEXT = (
    f"I was after how to report my bike being nicked, email me at {EMAIL} or ring {PHONE}, "
    f"I live at {POSTCODE} and my car is {REG}"
)
REDACTED = (
    "i was after how to report my bike being nicked, email me at [email] or ring [phone], "
    "i live at [postcode] and my car is [vehicle reg]"
)
MISSES = ["zzkq vorbl jxxt", "plimf quazzle drox"]
PERSONAL = [EMAIL, PHONE, PHONE.replace(" ", ""), POSTCODE, REG, "900123", "bloggs", "B33", "AB12"]
_ids = iter(range(10**6))


def platform_user() -> str:
    return f"{int(time.time())}{next(_ids):05d}"


@pytest.fixture(scope="module")
def played(assistant, fake):  # noqa: F811
    """Play the script; its conversation ids, and when it started (the report's period)."""
    warm_up(assistant)
    time.sleep(2)  # anything earlier tests sent is stored by now
    started = time.time()
    rest = {name: f"report-{name}-{time.time_ns()}" for name in ("alerts", "no", "hello")}
    social = {"facebook": platform_user(), "instagram": platform_user(), "twitter": platform_user()}
    tw2 = platform_user()

    # REST: alerts, then "Yes"
    assert assistant.say(rest["alerts"], "how do i sign up for crime alerts")[-1]["text"] == QUESTION
    assert "Thank you" in all_text(assistant.say(rest["alerts"], "/feedback_yes"))
    # REST: 101, then "No", then what they were looking for, with personal data
    assert assistant.say(rest["no"], "whats the non emergency number")[-1]["text"] == QUESTION
    assert "what were you looking for" in all_text(assistant.say(rest["no"], "/feedback_no"))
    assert assistant.say(rest["no"], LOOKING_FOR_TEXT)
    # REST: a greeting
    assert "automated assistant" in all_text(assistant.say(rest["hello"], "hello"))
    # Messenger: careers, a typed "no", thanks
    fb = social["facebook"]
    say(assistant, "facebook", fb, "how do i become a police officer")
    fake.wait_for("facebook", fb, has(QUESTION))
    say(assistant, "facebook", fb, "no")
    fake.wait_for("facebook", fb, has("what were you looking for"))
    say(assistant, "facebook", fb, "thanks")
    fake.wait_for("facebook", fb, has("welcome"))
    # Instagram: danger now
    ig = social["instagram"]
    say(assistant, "instagram", ig, "theres a man with a knife outside my house")
    fake.wait_for("instagram", ig, has("Call 999 now"))
    # X: two misses in a row (did you mean, then the hand-over)
    x = social["twitter"]
    # (waiting for a reply, in whatever language the assistant took the gibberish for)
    say(assistant, "twitter", x, MISSES[0])
    first = len(fake.wait_for("twitter", x, lambda sent: len(sent) >= 1))
    say(assistant, "twitter", x, MISSES[1])
    fake.wait_for("twitter", x, lambda sent: len(sent) > first)
    # X: social media, then "1" (Yes)
    say(assistant, "twitter", tw2, "are you on facebook")
    fake.wait_for("twitter", tw2, has(QUESTION))
    say(assistant, "twitter", tw2, "1")
    fake.wait_for("twitter", tw2, has("Thank you"))

    senders = {**{f"rest-{k}": v for k, v in rest.items()}, **{k: f"{k}:{v}" for k, v in social.items()}}
    senders["twitter-2"] = f"twitter:{tw2}"
    counts = {"rest-alerts": 2, "rest-no": 3, "rest-hello": 1, "facebook": 3, "instagram": 1, "twitter": 2,
              "twitter-2": 2}  # fmt: skip
    for key, sender in senders.items():  # every turn stored (it is stored just after its replies)
        wait_stored(assistant, sender, lambda events, n=counts[key]: sum(e["event"] == "user" for e in events) >= n)
    return {"since": started, "senders": senders}


def build(assistant, played, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_STORE_DIALECT", "sqlite")
    monkeypatch.setenv("TRACKER_STORE_DB", str(assistant.workdir / "conversations.db"))
    since = datetime.fromtimestamp(played["since"], timezone.utc).isoformat()
    out = tmp_path / "report.html"
    assert report.main(["--since", since, "--out", str(out)]) == 0
    figures, _ = report.figures_from_store("endpoints.yml", played["since"], None, load_catalogue())
    return out, figures


def stored_intent(assistant, sender: str, text: str) -> str:
    return next(e["parse_data"]["intent"]["name"] for e in stored_events(assistant, sender)
                if e["event"] == "user" and e["text"] == text)  # fmt: skip


@pytest.mark.slow
def test_the_report_counts_exactly_what_was_played(assistant, played, tmp_path, monkeypatch):
    _, figures = build(assistant, played, tmp_path, monkeypatch)
    catalogue = load_catalogue()
    looking_for = stored_intent(assistant, played["senders"]["rest-no"], LOOKING_FOR_TEXT)
    assert (figures.conversations, figures.messages) == (7, 14)
    assert dict(figures.channel_messages) == {"REST": 6, "Messenger": 3, "Instagram": 1, "X": 4}
    assert dict(figures.channel_conversations) == {"REST": 3, "Messenger": 1, "Instagram": 1, "X": 2}
    topics = Counter({"alerts": 1, "feedback_yes": 2, "non_emergency": 1, "feedback_no": 1, "greet": 1,
                      "careers": 1, "something_else": 1, "thank": 1, "emergency": 1, "nlu_fallback": 2,
                      "social_media": 1})  # fmt: skip
    topics[looking_for] += 1  # whatever the model made of it (it may be one of the above)
    assert figures.topics == topics
    assert figures.emergencies == 1 and dict(figures.emergencies_by_channel) == {"Instagram": 1}
    assert (figures.not_understood, figures.did_you_mean, figures.handovers) == (2, 1, 1)
    helpful = {topic: (h.asked, h.yes, h.no) for topic, h in figures.helpful.items()}
    expected = {"alerts": (1, 1, 0), "non_emergency": (1, 0, 1), "careers": (1, 0, 1), "social_media": (1, 1, 0)}
    if looking_for in catalogue.routes and looking_for not in expected:
        from actions.feedback import asks_after

        if asks_after(looking_for, looking_for, catalogue):
            expected[looking_for] = (1, 0, 0)
    assert helpful == expected
    given = ["alerts", "non_emergency", "greet", "careers", "emergency", "fallback_final", "social_media", looking_for]
    sent: Counter = Counter()
    texts: Dict[str, str] = {"social_media": "are you on facebook", looking_for: LOOKING_FOR_TEXT}
    for route in given:
        if route in catalogue.routes:
            sent.update(c.key for c in channels_for(catalogue.routes[route], catalogue, texts.get(route, "")))
    assert figures.sent_to == sent
    assert sent["facebook"] >= 1 and "instagram" not in sent  # "are you on facebook": that network only
    groups = {group.text: (group.count, group.reason) for group in figures.misunderstood}
    assert groups[REDACTED] == (1, "not helpful: non_emergency")
    assert {MISSES[0], MISSES[1]} <= set(groups)


@pytest.mark.slow
def test_the_page_opens_in_chromium_shows_those_figures_and_no_personal_data(assistant, played, tmp_path, monkeypatch):
    out, figures = build(assistant, played, tmp_path, monkeypatch)
    html = out.read_text(encoding="utf-8")
    flat = without_images(html).lower()
    for value in PERSONAL:
        assert value.lower() not in flat, value
    for sender in played["senders"].values():
        assert sender.split(":")[-1] not in without_images(html)  # no conversation ids
    assert REDACTED in html
    problems: List[str] = []
    requests: List[str] = []
    with chromium() as browser:
        page = browser.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(out.as_uri())
        page.wait_for_load_state("load")
        summary = dict(zip(page.locator("#summary dt").all_inner_texts(),
                           page.locator("#summary dd").all_inner_texts(), strict=True))  # fmt: skip
        channels = {row.get_attribute("data-key"): [int(n) for n in row.locator("td.num").all_inner_texts()]
                    for row in page.locator("#by-channel tbody tr").all()}  # fmt: skip
        helpful = {row.get_attribute("data-key"): row.locator("td").all_inner_texts()[1:]
                   for row in page.locator("#helpful-table tbody tr").all()}  # fmt: skip
        safety = {row.get_attribute("data-key"): int(row.locator("td.num").inner_text())
                  for row in page.locator("#safety-table tbody tr").all()}  # fmt: skip
        images = page.locator("img").evaluate_all("all => all.map(i => [i.naturalWidth, i.alt])")
        text = page.locator("body").inner_text()
    assert not problems, problems
    assert [url for url in requests if not url.startswith(("file://", "data:"))] == []
    assert summary["Conversations"] == "7" and summary["Messages from the public"] == "14"
    assert summary["Emergency replies (999)"] == "1" and summary["Handed over to people"] == "1"
    assert summary["Found the answer helpful"] == "50%"
    assert channels == {"REST": [3, 6, 0], "Messenger": [1, 3, 0], "Instagram": [1, 1, 1], "X": [2, 4, 0]}
    assert helpful["alerts"] == ["1", "1", "1", "0", "100%"] and helpful["careers"] == ["1", "1", "0", "1", "0%"]
    assert safety == {"emergencies": 1, "not_understood": 2, "did_you_mean": 1, "handovers": 1}
    assert len(images) >= 7 and all(width > 0 and alt for width, alt in images)
    for value in PERSONAL:
        assert value.lower() not in text.lower(), value


@pytest.mark.slow
def test_the_staff_guide_screenshots_are_of_a_real_report(tmp_path, monkeypatch):
    """docs/report-screenshot.png (the top of the page) and docs/report-screenshot-helpful.png (the
    "was this helpful?" section): `make report`'s page for a generated store of four weeks
    (scripts/fake_store.py), in Chromium; written with WRITE_DOC_SCREENSHOTS=1. The store is
    var/conversations.db under a temporary directory, so that the header names it as `make run`'s."""
    fake_store.generate(tmp_path / "var" / "conversations.db", 60_000, days=28, seed=17)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKER_STORE_DIALECT", "sqlite")
    monkeypatch.setenv("TRACKER_STORE_DB", "var/conversations.db")
    out = tmp_path / "report.html"
    assert report.main(["--days", "28", "--endpoints", str(ROOT / "endpoints.yml"), "--out", str(out)]) == 0
    assert "from sqlite var/conversations.db;" in out.read_text(encoding="utf-8")
    write = os.environ.get(WRITE_DOC_SCREENSHOTS) == "1"
    top, helpful = (ROOT / "docs" / name if write else tmp_path / name
                    for name in ("report-screenshot.png", "report-screenshot-helpful.png"))  # fmt: skip
    problems: List[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 1500})
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.goto(out.as_uri())
        page.screenshot(path=str(top))
        page.locator("#helpful").screenshot(path=str(helpful))
    assert not problems, problems
    assert top.stat().st_size > 50_000 and helpful.stat().st_size > 30_000


# --------------------------------------------------------------------------- PostgreSQL (the cluster's store)


@pytest.fixture(scope="module")
def postgres():
    """PostgreSQL alone, as `make cluster` runs it (tests/cluster.py), on a free port; removed after."""
    from cluster.packages import ensure_packages
    from tests.cluster import make_cluster, remove_abandoned_clusters

    ensure_packages()
    remove_abandoned_clusters("report-pg")
    cluster = make_cluster("report-pg")
    try:
        cluster.start_postgres()
        yield cluster
    finally:
        cluster.stop_postgres()
        shutil.rmtree(cluster.directory, ignore_errors=True)


def production_env(monkeypatch, cluster) -> None:
    """endpoints.production.yml's variables, pointing at this PostgreSQL (Redis is not used by the report)."""
    password = cluster.secrets()["TRACKER_STORE_PASSWORD"]
    for name, value in {"TRACKER_STORE_DIALECT": "postgresql", "TRACKER_STORE_HOST": "127.0.0.1",
                        "TRACKER_STORE_PORT": str(cluster.pg_port), "TRACKER_STORE_DB": "rasa",
                        "TRACKER_STORE_USERNAME": "rasa", "TRACKER_STORE_PASSWORD": password,
                        "TRACKER_STORE_SSLMODE": "disable", "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379",
                        "REDIS_PASSWORD": "unused", "REDIS_DB": "1", "REDIS_USE_SSL": "false",
                        "ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)


@pytest.mark.slow
async def test_postgresql_and_sqlite_holding_the_same_events_give_the_same_report(postgres, tmp_path, monkeypatch):
    """The same conversations in SQLite and in PostgreSQL: the same figures, and a page that names the
    store by its dialect and database only (no host, no password)."""
    import sqlalchemy as sa

    from core.conversation_store import EVENTS

    db = tmp_path / "conversations.db"
    expected = fake_store.generate(db, 4000, days=10, seed=5)
    password = postgres.secrets()["TRACKER_STORE_PASSWORD"]
    # Rasa's own store makes the table in PostgreSQL and writes a conversation with feedback in both
    stores = [SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db)),
              SQLTrackerStore(Domain.empty(), dialect="postgresql", host="127.0.0.1", port=postgres.pg_port,
                              db="rasa", username="rasa", password=password)]  # fmt: skip
    columns = [c for c in EVENTS.columns if c.name != "id"]
    source = sa.create_engine(f"sqlite:///{db}")
    target = stores[1].engine
    with source.connect() as reading, target.begin() as writing:
        writing.execute(EVENTS.delete())
        rows = [dict(row) for row in reading.execute(sa.select(*columns).order_by(EVENTS.c.id)).mappings()]
        writing.execute(EVENTS.insert(), rows)
    source.dispose()
    t = time.time() - 3600
    for store in stores:
        await save(store, "pg-and-sqlite", user("how do i report fraud", "fraud", 0.96, t, "instagram"),
                   action("action_route_to_channel", t), SlotSet("last_route", "fraud", timestamp=t),
                   SlotSet("feedback_asked", ["fraud"], timestamp=t), action("action_listen", t),
                   user("/feedback_no", "feedback_no", 1.0, t + 5), action("action_feedback", t + 5),
                   SlotSet("feedback", {"topic": "fraud", "helpful": False}, timestamp=t + 5),
                   user("ring me on 07700 900123 about B33 8TH", "contact_us", 0.9, t + 20))  # fmt: skip

    figures_sqlite = figures_of(db, monkeypatch)
    production_env(monkeypatch, postgres)
    figures_pg, label = report.figures_from_store("endpoints.production.yml", None, None, load_catalogue())
    assert label == "postgresql rasa"
    assert figures_pg.messages == expected.messages + 3 and figures_pg.conversations == expected.conversations + 1
    assert figures_pg == figures_sqlite
    assert figures_pg.helpful["fraud"].no == expected.no["fraud"] + 1
    out = tmp_path / "pg.html"
    assert report.main(["--endpoints", "endpoints.production.yml", "--days", "30", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "from postgresql rasa;" in page and password not in page and "127.0.0.1" not in page
    assert f"<dd>{expected.messages + 3}</dd>" in page
    assert "ring me on [phone] about [postcode]" in page
    assert_no_personal_data(page)
