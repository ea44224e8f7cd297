"""`make report`: a page for staff on how the assistant is used, from the conversation store.

Writes one self-contained HTML file (styles and charts inside it: it opens with no network) and
prints where it is: conversations and messages per day and by hour of day, by channel, the topics
asked about, the official channels the answers sent people to, emergency replies, fallbacks and
hand-overs, how helpful each topic's answer was ("was this helpful?"), and the most frequent
messages the assistant did not understand, redacted exactly as `make review` does, with YAML to
paste into data/nlu/. No personal data: no conversation ids, and every message redacted.

    python -m scripts.report [--days N | --since YYYY-MM-DD [--until YYYY-MM-DD]] [--out results/report.html]

Days are Europe/London days; --days N is today and the N-1 days before it (30 by default);
--until's day is included. --since and --until also take a time (YYYY-MM-DDTHH:MM).
How to read it: docs/staff-guide.md; how fast it is on a million events: docs/report.md.
"""

import argparse
import base64
import html
import io
import os
import sys
import time
import warnings
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from core.catalogue import Catalogue, load_catalogue
from core.conversation_store import NoConversations, open_store, store_label, stream_events
from core.report import (
    ACTIONS,
    DEFAULT_BELOW,
    FALLBACK_INTENT,
    FEEDBACK_INTENTS,
    SLOTS,
    TIMEZONE,
    Figures,
    as_nlu_yaml,
    collect,
    local_time,
)

DEFAULT_OUT = Path("results/report.html")
DEFAULT_DAYS = 30
MOST_MISUNDERSTOOD = 30
TOP_TOPICS = 15
COLOURS = {"conversations": "#1d4f91", "messages": "#7fa7d9", "yes": "#2e7d32", "alert": "#b3261e", "other": "#5f6b7a"}


# --------------------------------------------------------------------------- period


def _moment(text: str, end: bool) -> float:
    """A date (its start; with `end`, the start of the next day) or a date and time, Europe/London."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
            return datetime(day.year, day.month, day.day, tzinfo=TIMEZONE).timestamp()
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write a date as YYYY-MM-DD (or YYYY-MM-DDTHH:MM)") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=TIMEZONE)).timestamp()


def period(days: Optional[float], since: Optional[str], until: Optional[str], now: float) -> Tuple[float, float]:
    """(since, until) as Unix times, until excluded."""
    end = _moment(until, end=True) if until else now
    if since:
        return _moment(since, end=False), end
    last_day = local_time(end - 1e-3).date()
    first = last_day - timedelta(days=max(int(days or DEFAULT_DAYS), 1) - 1)
    return datetime(first.year, first.month, first.day, tzinfo=TIMEZONE).timestamp(), end


def figures_from_store(
    endpoints: str, since: Optional[float], until: Optional[float], catalogue: Catalogue, below: float = DEFAULT_BELOW
) -> Tuple[Figures, str]:
    try:
        engine = open_store(endpoints)
    except NoConversations:
        return collect([], catalogue, since=since, until=until), store_label(endpoints) + " (not created yet)"
    try:
        rows = stream_events(engine, since, until, actions=ACTIONS, slots=SLOTS)
        return collect(rows, catalogue, below, since=since, until=until), store_label(endpoints)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- charts (matplotlib, PNG)


def _pyplot() -> Any:
    with warnings.catch_warnings():  # matplotlib 3.5 and the newer pyparsing: deprecation notices only
        warnings.simplefilter("ignore")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.spines.top": False, "axes.spines.right": False, "figure.dpi": 100})
    return plt


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=144)
    _pyplot().close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _integer_axis(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _headroom_legend(axes: Any, values: Sequence[int]) -> None:
    """Whole numbers on the count axis, and room above the highest bar for the legend (never over a bar)."""
    _integer_axis(axes.yaxis)
    axes.set_ylim(0, max([*values, 1]) * 1.22)
    axes.legend(frameon=False, loc="upper left", ncol=2)


def bars_over_time(days: Sequence[date], conversations: Sequence[int], messages: Sequence[int]) -> str:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(9, 3.6))
    positions = range(len(days))
    if len(days) <= 45:
        width = 0.4
        axes.bar([p - width / 2 for p in positions], conversations, width, label="conversations started",
                 color=COLOURS["conversations"])  # fmt: skip
        axes.bar([p + width / 2 for p in positions], messages, width, label="messages", color=COLOURS["messages"])
    else:
        axes.plot(positions, conversations, label="conversations started", color=COLOURS["conversations"])
        axes.plot(positions, messages, label="messages", color=COLOURS["messages"])
    step = max(1, len(days) // 12)
    axes.set_xticks(list(positions)[::step], [day.strftime("%d %b") for day in days][::step], rotation=45, ha="right")
    axes.set_title("Conversations and messages per day")
    axes.set_xlabel("Day (Europe/London)")
    axes.set_ylabel("Count (conversations, messages)")
    _headroom_legend(axes, [*conversations, *messages])
    return _png(figure)


def bars_by_hour(conversations: Sequence[int], messages: Sequence[int]) -> str:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(9, 3.4))
    width = 0.4
    axes.bar([h - width / 2 for h in range(24)], conversations, width, label="conversations started",
             color=COLOURS["conversations"])  # fmt: skip
    axes.bar([h + width / 2 for h in range(24)], messages, width, label="messages", color=COLOURS["messages"])
    axes.set_xticks(range(24), [f"{h:02d}" for h in range(24)])
    axes.set_title("Conversations and messages by hour of day")
    axes.set_xlabel("Hour of day (Europe/London, 00 = midnight to 1am)")
    axes.set_ylabel("Count (conversations, messages)")
    _headroom_legend(axes, [*conversations, *messages])
    return _png(figure)


def horizontal_bars(
    labels: Sequence[str], values: Sequence[float], title: str, xlabel: str, ylabel: str,
    colour: str = COLOURS["conversations"], notes: Optional[Sequence[str]] = None, xmax: Optional[float] = None,
) -> str:  # fmt: skip
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(9, 0.9 + 0.38 * max(len(labels), 1)))
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, values, color=colour)
    axes.set_yticks(positions, labels)
    for position, value, note in zip(positions, values, notes or [None] * len(values), strict=True):
        axes.text(value, position, f" {note if note is not None else format(value, 'g')}", va="center", fontsize=9)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if xmax is not None:
        axes.set_xlim(0, xmax)
    else:
        axes.set_xlim(0, max(values or [1]) * 1.15 or 1)
        _integer_axis(axes.xaxis)
    return _png(figure)


# --------------------------------------------------------------------------- the page

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#1b1f24;
background:#f5f7fa;line-height:1.45}
header{background:#1d2a44;color:#fff;padding:1.2rem 2rem}
header h1{margin:0 0 .3rem;font-size:1.5rem}
header p{margin:.15rem 0;color:#d9e2f0}
main{max-width:1000px;margin:0 auto;padding:1rem 2rem 3rem}
section{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:1rem 1.4rem;margin:1.2rem 0}
h2{font-size:1.2rem;margin:.2rem 0 .6rem}
.summary{display:grid;grid-template-columns:repeat(auto-fit,minmax(128px,1fr));gap:.8rem;margin:0}
.summary div{background:#eef3fa;border-radius:6px;padding:.6rem .8rem}
.summary dt{font-size:.85rem;color:#3d4a5c}
.summary dd{margin:0;font-size:1.6rem;font-weight:600}
img{max-width:100%;height:auto;display:block;margin:.4rem 0}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.92rem}
th,td{border-bottom:1px solid #e3e8ee;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f3f7}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f0f3f7;padding:.8rem;overflow-x:auto;font-size:.85rem;border-radius:6px}
.note{color:#4a5566;font-size:.9rem}
details summary{cursor:pointer;color:#1d4f91}
#misunderstood-table td:nth-child(2){white-space:nowrap}
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def percent(rate: Optional[float]) -> str:
    return "-" if rate is None else f"{rate * 100:.0f}%"


def table(
    table_id: str, headers: Sequence[str], rows: Iterable[Tuple[str, Sequence[Any]]], numeric_from: int = 1
) -> str:
    """A table whose rows carry their key (data-key) and whose numbers are right-aligned."""
    head = "".join(f'<th scope="col"{" class=num" if i >= numeric_from else ""}>{esc(h)}</th>'
                   for i, h in enumerate(headers))  # fmt: skip
    body = "".join(
        f'<tr data-key="{esc(key)}">'
        + "".join(f"<td{' class=num' if i >= numeric_from else ''}>{esc(cell)}</td>" for i, cell in enumerate(cells))
        + "</tr>"
        for key, cells in rows
    )
    return f'<table id="{esc(table_id)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def image(png: str, alt: str) -> str:
    return f'<img src="data:image/png;base64,{png}" alt="{esc(alt)}">'


def topic_title(catalogue: Catalogue, intent: str) -> str:
    if intent == FALLBACK_INTENT:
        return "Not understood"
    route = catalogue.routes.get(intent)
    return f"{route.title} ({intent})" if route else intent


def days_between(first: Optional[date], last: Optional[date]) -> List[date]:
    if first is None or last is None or last < first:
        return []
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def chart_days(figures: Figures, generated: float) -> Tuple[Optional[date], Optional[date]]:
    """The days to show one by one: the period's, but not before its first message nor after today
    (SINCE=2000-01-01 gives the days since the first conversation, not 27 empty years); none when
    the period has no message."""
    first, last = figures.first_day, figures.last_day
    if first is None or last is None or not figures.messages_per_day:
        return None, None  # no message: "No conversations in this period", no table of zeros
    first = max(first, min(figures.messages_per_day))
    return first, min(last, max(local_time(generated).date(), max(figures.messages_per_day)))


def render_html(figures: Figures, catalogue: Catalogue, store: str, generated: float) -> str:
    parts: List[str] = []
    nothing = figures.messages == 0

    def section(section_id: str, title: str, *body: str) -> None:
        parts.append(f'<section id="{section_id}" aria-labelledby="{section_id}-title">'
                     f'<h2 id="{section_id}-title">{esc(title)}</h2>{"".join(body)}</section>')  # fmt: skip

    feedback = figures.feedback_answers
    summary = [
        ("conversations", "Conversations", figures.conversations),
        ("messages", "Messages from the public", figures.messages),
        ("emergencies", "Emergency replies (999)", figures.emergencies),
        ("not_understood", "Messages not understood", figures.not_understood),
        ("handovers", "Handed over to people", figures.handovers),
        ("helpful", "Found the answer helpful", percent(feedback.rate)),
    ]
    parts.append('<section id="summary-section" aria-label="Summary"><dl class="summary" id="summary">'
                 + "".join(f'<div data-key="{key}"><dt>{esc(label)}</dt><dd>{esc(value)}</dd></div>'
                           for key, label, value in summary) + "</dl>"
                 + ('<p class="note">No conversations in this period.</p>' if nothing else "") + "</section>")  # fmt: skip

    days = days_between(*chart_days(figures, generated))
    per_day = [(day.isoformat(), [day.strftime("%a %d %b %Y"), figures.conversations_per_day[day],
                                  figures.messages_per_day[day]]) for day in days]  # fmt: skip
    section(
        "per-day", "Conversations and messages per day",
        image(bars_over_time(days, [row[1][1] for row in per_day], [row[1][2] for row in per_day]),
              "Bar chart of conversations started and messages per day; the numbers are in the table below.")
        if days else "",
        "<details><summary>The numbers, day by day</summary>"
        + table("per-day-table", ["Day", "Conversations started", "Messages"], per_day) + "</details>",
    )  # fmt: skip
    hours = [(str(h), [f"{h:02d}:00-{h:02d}:59", figures.conversations_per_hour[h], figures.messages_per_hour[h]])
             for h in range(24)]  # fmt: skip
    section(
        "per-hour", "By hour of day",
        image(bars_by_hour([r[1][1] for r in hours], [r[1][2] for r in hours]),
              "Bar chart of conversations started and messages by hour of day; the numbers are in the table below.")
        if not nothing else "",
        "<details><summary>The numbers, hour by hour</summary>"
        + table("per-hour-table", ["Hour", "Conversations started", "Messages"], hours) + "</details>",
    )  # fmt: skip

    channels = figures.channel_messages.most_common()
    section(
        "channels", "By channel (where people wrote to the assistant)",
        image(horizontal_bars([name for name, _ in channels], [count for _, count in channels],
                              "Messages by channel", "Messages (count)", "Channel"),
              "Bar chart of messages by channel; the numbers are in the table below.") if channels else "",
        table("by-channel", ["Channel", "Conversations", "Messages", "Emergency replies"],
              [(name, [name, figures.channel_conversations[name], count, figures.emergencies_by_channel[name]])
               for name, count in channels]),
        '<p class="note">Web chat is the widget on the force site (socket.io), REST the plain HTTP interface '
        "(tests and integrations); Messenger, Instagram and X are direct messages.</p>",
    )  # fmt: skip

    topics = [(intent, count) for intent, count in figures.topics.most_common() if intent not in FEEDBACK_INTENTS]
    top = topics[:TOP_TOPICS]
    section(
        "topics", "What people asked about",
        image(horizontal_bars([topic_title(catalogue, i) for i, _ in top], [c for _, c in top],
                              f"Topics asked about (top {len(top)})", "Messages (count)", "Topic"),
              "Bar chart of the topics asked about; the numbers are in the table below.") if top else "",
        table("by-topic", ["Topic (intent)", "Messages"], [(i, [topic_title(catalogue, i), c]) for i, c in topics]),
        '<p class="note">Each message counts for the intent the assistant understood; "Not understood" is '
        "the fallback. Button presses count too. Answers to \"was this helpful?\" are under Helpful.</p>",
    )  # fmt: skip

    sent = figures.sent_to.most_common()
    names = [catalogue.channels[key].name if key in catalogue.channels else key for key, _ in sent]
    section(
        "sent-to", "Official channels the assistant sent people to",
        image(horizontal_bars(names, [c for _, c in sent], "Official channels in the answers",
                              "Answers naming the channel (times)", "Official channel", COLOURS["yes"]),
              "Bar chart of the official channels named in the answers; the numbers are in the table below.")
        if sent else "",
        table("by-official-channel", ["Official channel", "Link or number", "Answers naming it"],
              [(key, [name, catalogue.channels[key].contact if key in catalogue.channels else "", count])
               for (key, count), name in zip(sent, names, strict=True)], numeric_from=2),
        "<details><summary>The answers (routes) that named a channel</summary>"
        + table("by-route", ["Answer (route)", "Times given"],
                [(key, [topic_title(catalogue, key), count]) for key, count in figures.routes.most_common()])
        + "</details>",
        '<p class="note">Counted from the answers given: each answer\'s channels as catalogue/routes.yml lists '
        "them (for social media, the networks the person named). The greeting names the privacy notice and "
        "999 (for danger now); hand-overs the website, live chat and 101; the emergency reply 999, 18000 and "
        "the Silent Solution.</p>",
    )  # fmt: skip

    safety = [
        ("emergencies", ['Emergency replies ("Call 999 now" first)', figures.emergencies]),
        ("not_understood", ["Messages not understood (nlu_fallback)", figures.not_understood]),
        ("did_you_mean", ['"Did you mean ...?" offered (first miss)', figures.did_you_mean]),
        ("handovers", ["Handed over to people: website, live chat, 101 (second miss in a row)", figures.handovers]),
    ]
    section(
        "safety", "Emergencies, fallbacks and hand-overs",
        image(horizontal_bars([r[1][0].split(" (")[0] for r in safety], [r[1][1] for r in safety],
                              "Emergency replies, fallbacks and hand-overs", "Times (count)", "What happened",
                              COLOURS["alert"]), "Bar chart of emergency replies, fallbacks and hand-overs.")
        if not nothing else "",
        table("safety-table", ["What", "Times"], safety),
    )  # fmt: skip

    helpful = sorted(figures.helpful.items(), key=lambda item: (-item[1].answered, -item[1].asked, item[0]))
    answered = [(topic, item) for topic, item in helpful if item.answered]
    section(
        "helpful", "Was this helpful?",
        image(horizontal_bars([topic_title(catalogue, t) for t, _ in answered],
                              [round(item.rate * 100, 1) for _, item in answered],
                              "Helpful rate per topic", "Answered yes (% of the yes and no answers)", "Topic",
                              COLOURS["yes"],
                              notes=[f"{item.rate * 100:.0f}% of {item.answered}" for _, item in answered], xmax=115),
              "Bar chart of the share of yes answers per topic; the numbers are in the table below.")
        if answered else "",
        table("helpful-table", ["Topic", "Asked", "Answered", "Yes", "No", "Helpful"],
              [(t, [topic_title(catalogue, t), i.asked, i.answered, i.yes, i.no, percent(i.rate)]) for t, i in helpful]
              + ([("all", ["All topics", feedback.asked, feedback.answered, feedback.yes, feedback.no,
                           percent(feedback.rate)])] if helpful else [])),
        "" if helpful else '<p class="note">No "was this helpful?" in this period (conversations stored before '
        "it existed have none).</p>",
        '<p class="note">Asked once per topic per conversation, after an answer that sends people to a '
        "channel. Helpful = yes / (yes + no); people may ignore the question.</p>",
    )  # fmt: skip

    groups = figures.misunderstood[:MOST_MISUNDERSTOOD]
    rows = [(str(n), [g.count, f"{local_time(g.newest):%Y-%m-%d %H:%M}", g.guess, g.reason, g.text])
            for n, g in enumerate(groups)]  # fmt: skip
    section(
        "misunderstood", "Most frequent messages the assistant did not understand",
        '<p class="note">Messages that fell back or were understood with low confidence, and what people '
        'said they were looking for after answering "no" to "was this helpful?", grouped and counted as '
        "<code>make review</code> lists them. Email addresses, phone numbers, postcodes, vehicle registrations "
        "and card numbers are replaced by [email], [phone], [postcode], [vehicle reg] and [card number].</p>",
        table("misunderstood-table", ["Times", "Last seen", "Model's guess", "Why listed", "Message (redacted)"],
              rows, numeric_from=99) if groups else '<p class="note">Nothing misunderstood in this period.</p>',
        ("<h3>Ready to paste into data/nlu/ (check each line's intent first)</h3><pre>"
         + esc(as_nlu_yaml(groups)) + "</pre>") if groups else "",
    )  # fmt: skip

    first, last = figures.first_day, figures.last_day
    shown_period = f"{first:%d %b %Y} to {last:%d %b %Y}" if first and last else "all time"
    header = (
        "<header><h1>West Midlands Police help assistant: usage report</h1>"
        f"<p>{esc(shown_period)} (Europe/London). Generated {local_time(generated):%d %b %Y %H:%M}"
        f" from {esc(store)}; {figures.events:,} events read.</p>"
        "<p>No personal data: no conversation ids, and every message shown is redacted.</p></header>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        f"<title>Assistant usage report: {esc(shown_period)}</title><style>{CSS}</style></head><body>"
        f"{header}<main>{''.join(parts)}</main></body></html>"
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--days", type=int, help=f"today and the N-1 days before it (default {DEFAULT_DAYS})")
    group.add_argument("--since", help="from this day (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM), Europe/London")
    parser.add_argument("--until", help="up to and including this day (YYYY-MM-DD), or up to this time")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the HTML file to write ({DEFAULT_OUT})")
    parser.add_argument("--below", type=float, default=DEFAULT_BELOW, help="misunderstood: confidence below this")
    parser.add_argument("--endpoints", default=os.environ.get("ENDPOINTS") or "endpoints.yml",
                        help="the endpoints file whose tracker_store to read (ENDPOINTS, or endpoints.yml)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.days is not None and args.days < 1:
        parser.error("--days must be 1 or more")
    try:
        since, until = period(args.days, args.since, args.until, time.time())
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    if until <= since:
        parser.error("--until must be after --since")
    catalogue = load_catalogue()
    figures, store = figures_from_store(args.endpoints, since, until, catalogue, args.below)
    page = render_html(figures, catalogue, store, time.time())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page, encoding="utf-8")
    print(f"Report written to {args.out.resolve()} ({figures.conversations} conversations, {figures.messages} messages, "
          f"{figures.events} events read). Open it in a browser.")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
