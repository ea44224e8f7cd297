"""Locust load for the REST webhook: virtual people holding short conversations.

Runs inside .venv-bench (see bench/requirements.txt), started by bench/run_bench.py:

    .venv-bench/bin/locust -f bench/locustfile.py --headless -u 20 -r 20 -t 33s --host http://127.0.0.1:PORT

Each virtual user holds a conversation of 3 to 6 messages under a fresh sender id (a greeting
most of the time, one or more questions about the routes or small talk, a gibberish line now and
then, thanks and/or bye), sends each message as soon as the reply to the previous one arrives, then
starts the next conversation with a new sender id. BENCH_THINK="0.1 0.3" adds a pause between
messages, uniform, in seconds (bench/run_bench.py says why its loads have none).

Every request is written, as it completes, to the JSON file named by BENCH_RECORDS when the test
stops (the harness computes throughput and percentiles from these raw timings, not from Locust's
rounded buckets). A request is an error when the status is not 200, the body is not a JSON list,
the list is empty, or the client failed (time-out, connection); a reply that contains
BENCH_DEGRADED_MARKER (the assistant's "technical problem" fallback) is counted as degraded.
"""

import json
import os
import random
import string
import time
import uuid

from locust import FastHttpUser, between, events, task

RECORDS_FILE = os.environ.get("BENCH_RECORDS", "bench-records.json")
DEGRADED_MARKER = os.environ.get("BENCH_DEGRADED_MARKER", "")
SEED = int(os.environ.get("BENCH_SEED", "7"))
# Think time between messages, uniform, in seconds.
THINK_MIN, THINK_MAX = (float(value) for value in os.environ.get("BENCH_THINK", "0 0").split())

GREETINGS = ["hi", "hello", "hiya", "good morning"]
QUESTIONS = [
    "how do i get crime alerts",
    "are you on facebook",
    "whats the non emergency number",
    "can i talk to someone on live chat",
    "how do i contact you",
    "what can you do",
    "i want to ask a question",
    "is there a number for deaf people",
    "are you a real person",
]
CLOSINGS = [["thanks"], ["bye"], ["thanks", "bye"], ["thank you"]]
GIBBERISH_SHARE = 0.08

_records = []  # [completed_at (epoch s), latency (ms), status, reply messages, kind]
_marks = {"spawning_complete": None, "test_start": None}
_written = False


def gibberish(rng: random.Random) -> str:
    return " ".join(
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 7))) for _ in range(rng.randint(1, 3))
    )


def conversation(rng: random.Random) -> list:
    """3 to 6 messages: maybe a greeting, at least one question, maybe a closing."""
    length = rng.randint(3, 6)
    opening = [rng.choice(GREETINGS)] if rng.random() < 0.7 else []
    closing = rng.choice(CLOSINGS) if rng.random() < 0.8 else []
    while len(opening) + len(closing) > length - 1:
        closing = closing[:-1]
    middle = [
        gibberish(rng) if rng.random() < GIBBERISH_SHARE else rng.choice(QUESTIONS)
        for _ in range(length - len(opening) - len(closing))
    ]
    return opening + middle + closing


class Person(FastHttpUser):
    wait_time = between(THINK_MIN, THINK_MAX)  # after the last message of a conversation, before the next one
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.rng = random.Random(SEED * 100_003 + id(self) % 100_003)

    @task
    def converse(self) -> None:
        sender = f"bench-{uuid.uuid4().hex}"
        for index, text in enumerate(conversation(self.rng)):
            if index:
                time.sleep(self.rng.uniform(THINK_MIN, THINK_MAX))  # gevent-patched: yields to other users
            self.say(sender, text)

    def say(self, sender: str, text: str) -> None:
        kind, count, status = "ok", 0, 0
        started = time.perf_counter()
        try:
            with self.client.post(
                "/webhooks/rest/webhook", json={"sender": sender, "message": text}, catch_response=True, name="message"
            ) as response:
                body = response.text or ""
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                status = response.status_code or 0
                if status != 200:
                    kind = "http"
                    response.failure(f"HTTP {status}")
                else:
                    try:
                        messages = json.loads(body)
                    except ValueError:
                        messages = None
                    if not isinstance(messages, list):
                        kind = "bad_body"
                        response.failure("reply is not a JSON list")
                    elif not messages:
                        kind = "empty"
                        response.failure("empty reply list")
                    else:
                        count = len(messages)
                        if DEGRADED_MARKER and DEGRADED_MARKER in body:
                            kind = "degraded"
                            response.failure("degraded reply (service problem fallback)")
                        else:
                            response.success()
        except Exception:  # a client-side failure (time-out, refused connection) is an error too
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            kind = "exception"
        _records.append([time.time(), elapsed_ms, status, count, kind])


@events.test_start.add_listener
def _on_test_start(**_kwargs) -> None:
    _marks["test_start"] = time.time()


@events.spawning_complete.add_listener
def _on_spawning_complete(user_count: int, **_kwargs) -> None:
    if _marks["spawning_complete"] is None:
        _marks["spawning_complete"] = time.time()


def _write(**_kwargs) -> None:
    global _written
    if _written:
        return
    _written = True
    with open(RECORDS_FILE, "w", encoding="utf-8") as handle:
        json.dump({"marks": _marks, "records": _records}, handle)


events.test_stop.add_listener(_write)
events.quitting.add_listener(_write)
