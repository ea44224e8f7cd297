"""The production shape under load, faults and attack: PostgreSQL, Redis, two Rasa replicas with their
action servers, nginx in front (cluster/local.py), all on loopback. Each replica runs under its
own supervisor (python -m server run), which starts a part that dies again.

The module's cluster is started once (tests.cluster.running_cluster; the Debian packages are
installed with apt-get when missing) and stopped at the end. Every load goes through nginx, 20
people at once, each sending a conversation's messages one after the other; PostgreSQL is then
checked conversation by conversation (tests.cluster.check_stored). Figures are printed (pytest -s)
and written to var/cluster-figures.json for docs/deployment.md.

CLUSTER_TEST_SCALE (default 1) shrinks the loads while developing, e.g. 0.1.
"""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp
import jwt
import pytest

from cluster.processes import ClusterError, http_ok
from server.settings import ROOT
from tests.cluster import (
    CONTACT_US,
    PROMPTS,
    Turn,
    check_stored,
    conversations,
    cpu_seconds,
    database_size,
    is_fallback,
    is_normal,
    listening_addresses,
    lock_overlaps,
    rss_kib,
    run_load,
    running_cluster,
    stored_events,
    user_texts,
)
from tests.servers import free_port

SCALE = float(os.environ.get("CLUSTER_TEST_SCALE") or 1)
USERS = 20
FIGURES = ROOT / "var" / "cluster-figures.json"
LOAD_RATE = "100000r/s"  # the load comes from one address; the rate limit is tested on its own
GIBBERISH = ["qwertyuiop asdfgh", "zxcvbnm lkjhg"]
REPLY_SECONDS = 5.0  # while a part is down, every message still gets its reply within this (issue 16)


def scaled(number: int) -> int:
    return max(USERS, int(number * SCALE))


def record(name: str, value: Any) -> None:
    figures = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    figures[name] = value
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(f"\n{name}: {value}")


@pytest.fixture(scope="module")
def cluster():
    with running_cluster("load", rate=LOAD_RATE, burst=10000, webhook_rate=LOAD_RATE, webhook_burst=10000) as running:
        yield running


def post(url: str, sender: str, message: str, timeout: float = 30) -> Any:
    import urllib.request

    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return json.loads(reply.read())


def replica_url(cluster, index: int) -> str:
    return f"http://127.0.0.1:{cluster.rasa_ports[index]}"


def both_replicas_up(cluster) -> None:
    for index in range(cluster.replicas):
        cluster.start_actions(index)
        cluster.start_rasa(index)
    if not cluster.redis_running():
        cluster.start_redis()


# ---------------------------------------------------------------------------------------------
# Load and soak


@pytest.mark.slow
def test_load_through_nginx_zero_errors_and_every_conversation_stored_exactly(cluster):
    plan = conversations("load", scaled(200), 25)
    cpu_before = cpu_seconds(cluster)
    result = run_load(cluster.url, plan, users=USERS, timeout=30)
    cpu_after = cpu_seconds(cluster)
    total = len(result.turns)
    assert total == sum(len(texts) for texts in plan.values()) and total >= 5000 * SCALE
    failures = result.failures
    assert not failures, (
        f"{len(failures)} of {total} failed, e.g. {[(t.status, t.error, t.replies) for t in failures[:3]]}"
    )
    assert check_stored(cluster, "load-", result.turns, plan) == []
    stored = database_size(cluster)
    record("postgresql", {**stored, "bytes_per_message": round(stored["bytes"] / stored["messages"])})
    record(
        "load",
        {
            "messages": total,
            "conversations": len(plan),
            "users": USERS,
            "seconds": round(result.seconds, 1),
            "messages_per_second": round(result.per_second, 1),
            "p50_ms": round(result.latency(0.5) * 1000),
            "p95_ms": round(result.latency(0.95) * 1000),
            "errors": len(failures),
            "cpu_ms_per_message": {
                part: round((cpu_after[part] - cpu_before[part]) * 1000 / total, 2) for part in cpu_after
            },
            "machine_load_average_after": round(os.getloadavg()[0], 2),
        },
    )


@pytest.mark.slow
def test_one_replica_alone_for_sizing(cluster):
    """The same load on one replica, straight to it (no nginx), the other idle: messages/s of one replica."""
    plan = conversations("alone", scaled(60), 25)
    result = run_load(replica_url(cluster, 0), plan, users=USERS)
    assert not result.failures
    actions_rss = round(rss_kib(cluster.actions_pid(0)) / 1024)
    record(
        "one_replica",
        {
            "messages": len(result.turns),
            "messages_per_second": round(result.per_second, 1),
            "p50_ms": round(result.latency(0.5) * 1000),
            "p95_ms": round(result.latency(0.95) * 1000),
            "rasa_rss_mib": round(rss_kib(cluster.rasa_pid(0)) / 1024),
            "action_server_rss_mib": actions_rss,
            "machine_load_average_after": round(os.getloadavg()[0], 2),
        },
    )


@pytest.mark.slow
def test_soak_memory_of_each_replica_stays_within_10_percent(cluster):
    plan = conversations("soak", scaled(400), 25)  # 10,000 messages, as people come and go
    pids = [cluster.rasa_pid(i) for i in range(cluster.replicas)]
    samples: Dict[int, List[int]] = {}

    def sample(turn: Turn, done: int) -> None:
        if done in (int(1000 * SCALE), len(plan) * 25):
            samples[done] = [rss_kib(pid) for pid in pids]

    result = run_load(cluster.url, plan, users=USERS, on_turn=sample)
    assert not result.failures
    first, last = samples[int(1000 * SCALE)], samples[len(plan) * 25]
    growth = [(after - before) / before for before, after in zip(first, last, strict=True)]
    record(
        "soak",
        {
            "messages": len(result.turns),
            "rss_mib_after_1000": [round(k / 1024) for k in first],
            "rss_mib_after_all": [round(k / 1024) for k in last],
            "growth_percent": [round(g * 100, 1) for g in growth],
            "messages_per_second": round(result.per_second, 1),
        },
    )
    assert all(abs(g) <= 0.10 for g in growth), growth


# ---------------------------------------------------------------------------------------------
# Several replicas, one conversation


@pytest.mark.slow
def test_a_conversation_keeps_its_context_from_one_replica_to_the_other(cluster):
    sender = f"moving-{time.time_ns()}"
    first = post(replica_url(cluster, 0), sender, GIBBERISH[0])
    second = post(replica_url(cluster, 1), sender, GIBBERISH[1])  # the second miss in a row: hand over
    assert "Did you mean" in first[0]["text"]
    assert "101" in second[0]["text"] and "live-chat" in second[0]["text"]
    third = post(cluster.url, sender, "how do i get crime alerts")
    fourth = post(cluster.url, sender, "what is the non emergency number")  # round robin: the other replica
    assert is_normal(third) and is_normal(fourth)
    assert user_texts(stored_events(cluster, sender)[sender]) == GIBBERISH + [
        "how do i get crime alerts",
        "what is the non emergency number",
    ]


@pytest.mark.slow
def test_two_messages_of_one_conversation_at_once_are_handled_one_after_the_other(cluster):
    pairs = {
        f"pair-{n:03d}-{time.time_ns()}": [
            f"how do I get crime alerts (first {n})",
            f"are you on facebook (second {n})",
        ]
        for n in range(30)
    }

    async def both_at_once(session, sender, texts):
        async def send(index):
            url = replica_url(cluster, index)  # one message to each replica, at the same moment
            async with session.post(
                f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": texts[index]}
            ) as reply:
                return Turn(sender, index, texts[index], status=reply.status, replies=await reply.json())

        return await asyncio.gather(send(0), send(1))

    async def run():
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            results = []
            for sender, texts in pairs.items():
                results += await both_at_once(session, sender, texts)
            return results

    turns = asyncio.run(run())
    assert all(turn.normal for turn in turns), [t.replies for t in turns if not t.normal][:3]
    stored = stored_events(cluster, "pair-")
    for sender, texts in pairs.items():
        assert sorted(user_texts(stored[sender])) == sorted(texts), sender
    # Each turn whole, never interleaved with the other: user, (featurization,) actions, listen, user, ...
    assert (
        check_stored(
            cluster,
            "pair-",
            turns,
            {s: sorted(t, key=lambda x: user_texts(stored[s]).index(x)) for s, t in pairs.items()},
        )
        == []
    )


@pytest.mark.slow
def test_socketio_long_polling_through_nginx_stays_on_one_replica_and_keeps_the_conversation(cluster):
    """socket.io's polling transport is many HTTP requests of one session: nginx must send them all to one replica."""
    import socketio

    session_id = f"polling{time.time_ns()}"

    async def talk(texts):
        client = socketio.AsyncClient(reconnection=False)
        replies: "asyncio.Queue[Any]" = asyncio.Queue()
        client.on("bot_uttered", lambda data: replies.put_nowait(data))
        await client.connect(
            cluster.url,
            transports=["polling"],
            socketio_path="socket.io",
            headers={"Origin": cluster.env["SOCKETIO_CORS_ORIGINS"]},
        )
        await client.emit("session_request", {"session_id": session_id})
        answers = []
        for text in texts:
            await client.emit("user_uttered", {"message": text, "session_id": session_id})
            answers.append(await asyncio.wait_for(replies.get(), 10))
            while not replies.empty():
                replies.get_nowait()
            await asyncio.sleep(0.5)
        await client.disconnect()
        return answers

    answers = asyncio.run(talk(GIBBERISH))
    assert "Did you mean" in answers[0]["text"] and "live-chat" in answers[1]["text"]
    assert user_texts(stored_events(cluster, session_id)[session_id]) == GIBBERISH


@pytest.mark.slow
def test_the_lock_lets_one_replica_in_at_a_time(cluster):
    # Rasa's own RedisLockStore let both in 198 times of 200 (docs/deployment.md); it can also
    # stall, so it is not measured here, where only our lock store's result is the test.
    password = cluster.secrets()["REDIS_PASSWORD"]
    ours = lock_overlaps("ours", cluster.redis_port, password)
    record("lock_race", {"conversations": 200, "ours": ours})
    assert ours == {"overlaps": 0, "errors": 0, "seconds": ours["seconds"], "stalled": False}


# ---------------------------------------------------------------------------------------------
# Faults


def wait_back(cluster, part: str, index: int, victim: int, since: float, timeout: float) -> Optional[float]:
    """Seconds from `since` until the replica's part (rasa, actions) answers again as a new process (None: not in time)."""
    pid_of, url = (
        (cluster.rasa_pid, f"{replica_url(cluster, index)}/webhooks/rest/")
        if part == "rasa"
        else (cluster.actions_pid, f"http://127.0.0.1:{cluster.action_ports[index]}/health")
    )
    while time.time() < since + timeout:
        pid = pid_of(index)
        if pid and pid != victim and http_ok(url, timeout=1):
            return time.time() - since
        time.sleep(0.1)
    return None


@pytest.mark.slow
def test_a_replica_killed_mid_load_users_see_no_error_beyond_the_requests_in_flight(cluster):
    plan = conversations("kill", scaled(60), 20)
    victim, port = cluster.rasa_pid(0), cluster.rasa_ports[0]
    killed: Dict[str, Any] = {}

    def watch() -> None:
        killed["back"] = wait_back(cluster, "rasa", 0, victim, killed["at"], timeout=120)

    watcher = threading.Thread(target=watch)

    def kill_once(turn: Turn, done: int) -> None:
        if done == len(plan) * 20 // 4 and not killed:
            killed["at"] = time.time()
            os.kill(victim, signal.SIGKILL)
            while listening_addresses(port) and time.time() < killed["at"] + 5:
                time.sleep(0.001)
            killed["gone"] = time.time()  # its socket is closed: nothing more can reach it
            watcher.start()

    result = run_load(cluster.url, plan, users=USERS, on_turn=kill_once)
    watcher.join()
    at, gone, back = killed["at"], killed["gone"], killed["back"]
    # Its supervisor (python -m server run) starts it again by itself, with the same model.
    assert back is not None and back <= 60, f"replica 1 was not answering again 60 s after it was killed: {back}"
    assert cluster.rasa_pid(0) not in (None, victim)
    errors = [t for t in result.turns if t.status != 200]
    in_flight = [t for t in errors if t.started <= gone and t.ended >= at]
    assert errors == in_flight, [(t.status, t.started - at) for t in errors if t not in in_flight]
    assert len(errors) <= USERS
    for turn in errors:  # even those get the assistant's own "service problem" reply from nginx
        assert is_fallback(turn.replies) and "999" in json.dumps(turn.replies), turn.replies
    # Their conversations wait for the dead replica's lease (3 s) on their next message.
    hit = {t.sender for t in errors}
    degraded = [t for t in result.turns if t.status == 200 and not t.normal]
    assert all(t.sender in hit and t.started < at + 15 for t in degraded), [
        (t.sender, t.started - at) for t in degraded
    ]
    assert check_stored(cluster, "kill-", result.turns, plan) == []
    record(
        "replica_killed",
        {
            "messages": len(result.turns),
            "kill_to_gone_ms": round((gone - at) * 1000, 1),
            "errors_in_flight": len(errors),
            "degraded_replies": len(degraded),
            "answering_again_after_seconds": round(back, 1),
            "load_seconds_after_the_kill": round(result.ended - at, 1),
            "messages_per_second_with_one_replica_killed": round(result.per_second, 1),
        },
    )
    # nginx sends traffic to the restarted replica again (after fail_timeout)
    time.sleep(6)
    port = f"127.0.0.1:{cluster.rasa_ports[0]}"
    before = (cluster.nginx_dir / "access.log").read_text().count(port)
    for n in range(6):
        assert is_normal(post(cluster.url, f"after-kill-{n}-{time.time_ns()}", "hello"))
    assert (cluster.nginx_dir / "access.log").read_text().count(port) > before
    assert "RESTART the Rasa server" in cluster.part_log(0, "supervisor").read_text()


@pytest.mark.slow
def test_an_action_server_killed_mid_load_is_started_again_and_every_response_carries_a_reply(cluster):
    plan = conversations("actkill", scaled(60), 20)
    victim = cluster.actions_pid(0)
    times: Dict[str, Any] = {}

    def watch() -> None:
        times["back"] = wait_back(cluster, "actions", 0, victim, times["killed"], timeout=60)

    watcher = threading.Thread(target=watch)

    def kill_once(turn: Turn, done: int) -> None:
        if done == len(plan) * 20 // 4 and not times:
            times["killed"] = time.time()
            os.kill(victim, signal.SIGKILL)
            watcher.start()

    result = run_load(cluster.url, plan, users=USERS, on_turn=kill_once)
    watcher.join()
    killed, back = times["killed"], times["back"]
    assert back is not None and back <= 30, f"action server 1 not answering 30 s after it was killed: {back}"
    # Every response carries a reply: a normal one, or the service-unavailable one (101, contact us).
    without = [t for t in result.turns if t.status != 200 or not (t.normal or t.fallback)]
    assert not without, [(t.status, t.error, t.replies) for t in without[:3]]
    fallback = [t for t in result.turns if t.fallback]
    during = [t for t in fallback if killed - 1 <= t.started <= killed + back]
    assert during, "no message met the dead action server"
    # How long the messages sent while it was down took (recorded: under this load, with 20 people
    # sending without pause, it is the machine's capacity that decides; the 5 s bar is measured
    # with people chatting, in the test after this one).
    meanwhile = [t for t in result.turns if killed <= t.started <= killed + back]
    # No conversation lost a turn: every message sent is stored once, in the order sent.
    stored = stored_events(cluster, "actkill-")
    lost = {s: user_texts(stored.get(s, [])) for s, texts in plan.items() if user_texts(stored.get(s, [])) != texts}
    assert not lost, list(lost.items())[:2]
    assert "RESTART the action server" in cluster.part_log(0, "supervisor").read_text()
    replies = sorted(t.ended - t.started for t in during)
    record(
        "action_server_killed",
        {
            "messages": len(result.turns),
            "answering_again_after_seconds": round(back, 1),
            "fallback_replies_while_it_was_down": len(during),
            "fallback_replies_at_other_times": len(fallback) - len(during),  # slow turns (over 3 s)
            "fallback_reply_p95_ms": round(replies[int(0.95 * (len(replies) - 1))] * 1000),
            "messages_while_it_was_down": len(meanwhile),
            "slowest_reply_while_it_was_down_ms": round(max(t.ended - t.started for t in meanwhile) * 1000),
            "replies_over_5_s_while_it_was_down": sum(t.ended - t.started > REPLY_SECONDS for t in meanwhile),
            "slowest_reply_ms": round(max(t.ended - t.started for t in result.turns) * 1000),
        },
    )


def chat(cluster, sender: str, stop: threading.Event, turns: List[Dict[str, Any]], pause: float = 0.5) -> None:
    """One person chatting through nginx: a message, the reply, a short pause, until stop is set."""
    import urllib.error
    import urllib.request

    while not stop.is_set():
        text = f"{PROMPTS[len(turns) % len(PROMPTS)]} (message {len(turns) + 1})"
        request = urllib.request.Request(
            f"{cluster.url}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        started = time.time()
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                status, replies = reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as error:
            status, replies = error.code, error.read().decode(errors="replace")
        except OSError as error:
            status, replies = 0, repr(error)
        turns.append(
            {"text": text, "started": started, "seconds": time.time() - started, "status": status, "replies": replies}
        )
        stop.wait(pause)


@pytest.mark.slow
def test_an_action_server_killed_while_people_chat_every_message_answered_within_5_s(cluster):
    """The issue's measure, as for make run (tests/e2e/test_supervisor.py): people chatting through
    nginx (4 conversations, a message every 0.5 s each, over both replicas) while replica 1's action
    server is SIGKILLed. Every message gets a reply within 5 s, the action server answers again
    within 30 s (its supervisor), and no conversation loses a turn."""
    victim = cluster.actions_pid(0)
    stamp = time.time_ns()
    people: Dict[str, List[Dict[str, Any]]] = {f"actchat-{n}-{stamp}": [] for n in range(4)}
    stop = threading.Event()
    threads = [threading.Thread(target=chat, args=(cluster, sender, stop, turns)) for sender, turns in people.items()]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)  # chatting before the kill
        killed = time.time()
        os.kill(victim, signal.SIGKILL)
        back = wait_back(cluster, "actions", 0, victim, killed, timeout=60)
        time.sleep(4)  # and after it is back
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    turns = [turn for sender_turns in people.values() for turn in sender_turns]
    assert back is not None and back <= 30, f"action server 1 not answering 30 s after it was killed: {back}"
    unanswered = [t for t in turns if t["status"] != 200 or not (is_normal(t["replies"]) or is_fallback(t["replies"]))]
    assert not unanswered, unanswered[:3]
    slow = sorted(round(t["seconds"], 2) for t in turns if t["seconds"] > REPLY_SECONDS)
    assert not slow, f"{len(slow)} of {len(turns)} messages took over {REPLY_SECONDS} s: {slow[-5:]}"
    during = [t for t in turns if killed <= t["started"] <= killed + back]
    assert any(is_fallback(t["replies"]) for t in during), "no message met the dead action server"
    for sender, sender_turns in people.items():  # answered properly again once it is back
        assert is_normal(sender_turns[-1]["replies"]), (sender, sender_turns[-1])
    stored = stored_events(cluster, "actchat-")
    lost = {
        s: user_texts(stored.get(s, []))
        for s, st in people.items()
        if user_texts(stored.get(s, [])) != [t["text"] for t in st]
    }
    assert not lost, list(lost.items())[:2]
    assert "RESTARTED the action server" in cluster.part_log(0, "supervisor").read_text()
    record(
        "action_server_killed_while_people_chat",
        {
            "messages": len(turns),
            "answering_again_after_seconds": round(back, 1),
            "messages_while_it_was_down": len(during),
            "fallback_replies_while_it_was_down": sum(is_fallback(t["replies"]) for t in during),
            "slowest_reply_ms": round(max(t["seconds"] for t in turns) * 1000),
            "slowest_reply_while_it_was_down_ms": round(max(t["seconds"] for t in during) * 1000),
        },
    )


@pytest.mark.slow
def test_postgresql_restarted_mid_load_recovers_within_10_s_and_loses_nothing(cluster):
    plan = conversations("pgrestart", scaled(60), 20)
    times: Dict[str, float] = {}

    def restart() -> None:
        times["down"] = time.time()
        cluster.restart_postgres()
        times["up"] = time.time()

    thread = threading.Thread(target=restart)

    def restart_once(turn: Turn, done: int) -> None:
        if done == len(plan) * 20 // 4 and not times:
            thread.start()

    result = run_load(cluster.url, plan, users=USERS, on_turn=restart_once)
    thread.join()
    assert all(t.status == 200 for t in result.turns)  # never an error page: the safety net answers
    degraded = [t for t in result.turns if not t.normal]
    assert all(is_fallback(t.replies) for t in degraded), [t.replies for t in degraded if not is_fallback(t.replies)][
        :3
    ]
    assert all(times["down"] - 1 <= t.started <= times["up"] + 10 for t in degraded), [
        t.started - times["up"] for t in degraded
    ]
    recovered = max([t.ended for t in degraded], default=times["up"]) - times["up"]
    # PostgreSQL afterwards: nothing answered was lost or only kept in memory, nothing started afresh.
    assert check_stored(cluster, "pgrestart-", result.turns, plan) == []
    record(
        "postgres_restart",
        {
            "restart_seconds": round(times["up"] - times["down"], 2),
            "fallback_replies": len(degraded),
            "recovered_seconds_after_postgres_was_back": round(max(recovered, 0), 2),
            "messages": len(result.turns),
        },
    )
    assert recovered <= 10


@pytest.mark.slow
def test_redis_down_gives_the_fallback_reply_never_silence(cluster):
    cluster.stop_redis()
    try:
        for n in range(6):
            replies = post(cluster.url, f"redis-down-{n}-{time.time_ns()}", "how do i get crime alerts")
            text = "\n".join(m.get("text", "") for m in replies)
            assert is_fallback(replies) and "101" in text and CONTACT_US in text, replies
    finally:
        cluster.start_redis()
    assert is_normal(post(cluster.url, f"redis-back-{time.time_ns()}", "how do i get crime alerts"))


@pytest.mark.slow
def test_action_servers_down_give_the_fallback_reply_never_silence(cluster):
    for index in range(cluster.replicas):
        cluster.stop_actions(index)
    try:
        for n in range(6):
            started = time.time()
            replies = post(cluster.url, f"actions-down-{n}-{time.time_ns()}", "how do i get crime alerts")
            text = "\n".join(m.get("text", "") for m in replies)
            assert is_fallback(replies) and "101" in text and CONTACT_US in text, replies
            assert time.time() - started < 5
    finally:
        for index in range(cluster.replicas):
            cluster.start_actions(index)
    assert is_normal(post(cluster.url, f"actions-back-{time.time_ns()}", "how do i get crime alerts"))


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_our_event_query_returns_exactly_what_rasas_does(cluster, tmp_path, dialect):
    """components/tracker_store.py rewrites Rasa's query for a conversation's latest session (a scalar subquery): same rows."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered

    from components.tracker_store import CachedSQLTrackerStore

    if dialect == "sqlite":
        store = CachedSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "q.db"))
    else:
        store = CachedSQLTrackerStore(
            Domain.empty(),
            dialect="postgresql",
            host="127.0.0.1",
            port=cluster.pg_port,
            db="rasa",
            username="rasa",
            password=cluster.secrets()["TRACKER_STORE_PASSWORD"],
        )

    async def build(sender, sessions):
        tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
        for number in range(sessions):
            if number:
                tracker.update(SessionStarted(timestamp=time.time()))
            for turn in range(3):
                tracker.update(UserUttered(f"s{number} t{turn}", {"name": "greet", "confidence": 1.0}))
                tracker.update(ActionExecuted("action_listen"))
            await store.save(tracker)

    for sessions in (1, 2, 3):
        sender = f"query-{dialect}-{sessions}-{time.time_ns()}"
        asyncio.run(build(sender, sessions))
        with store.session_scope() as session:
            for everything in (False, True):
                rasas = [e.id for e in SQLTrackerStore._event_query(store, session, sender, everything).all()]
                ours = [e.id for e in store._event_query(session, sender, everything).all()]
                assert ours == rasas and ours, (sessions, everything)
                assert store._event_query(session, sender, everything).count() == len(rasas)


# ---------------------------------------------------------------------------------------------
# Security


@pytest.mark.slow
def test_the_rasa_api_is_off_and_model_reload_is_not_exposed(cluster):
    for path in ("/status", "/version", "/conversations/x/tracker"):
        assert not http_ok(replica_url(cluster, 0) + path)  # off on the replica itself
    import urllib.error
    import urllib.request

    for method, path in (("GET", "/status"), ("GET", "/"), ("POST", "/webhooks/model/reload"), ("PUT", "/model")):
        request = urllib.request.Request(
            cluster.url + path,
            data=b"{}" if method != "GET" else None,
            method=method,
            headers={"Authorization": f"Bearer {cluster.secrets()['RASA_RELOAD_TOKEN']}"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 404, path


@pytest.mark.slow
def test_action_servers_and_replicas_listen_on_loopback_only(cluster):
    for port in cluster.action_ports + cluster.rasa_ports + [cluster.pg_port, cluster.redis_port, cluster.port]:
        assert listening_addresses(port) == {"127.0.0.1"}, (port, listening_addresses(port))


@pytest.mark.slow
def test_the_api_needs_a_jwt_secret_to_start(cluster):
    env = cluster.replica_env(0) | {"RASA_ENABLE_API": "true", "RASA_JWT_SECRET": ""}
    command = cluster.rasa_command(0)[:-1] + [str(free_port())]
    started = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode != 0 and "RASA_JWT_SECRET is not set" in started.stderr
    auth_token = subprocess.run(
        command + ["--auth-token", "abc"],
        cwd=ROOT,
        env=env | {"RASA_JWT_SECRET": "s"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert auth_token.returncode != 0 and "--auth-token is not allowed" in auth_token.stderr


@pytest.mark.slow
def test_with_the_api_on_every_call_needs_a_jwt_and_cors_allows_only_the_configured_origins(cluster):
    secret = "test-jwt-secret-" + str(time.time_ns())
    port = free_port()
    env = cluster.replica_env(0) | {
        "RASA_ENABLE_API": "true",
        "RASA_JWT_SECRET": secret,
        "RASA_CORS_ORIGINS": "https://staff.example",
    }
    command = cluster.rasa_command(0)[:-1] + [str(port)]
    log = open(cluster.log_dir / "rasa-api.log", "ab")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 180
        while not http_ok(url + "/webhooks/rest/") and time.time() < deadline:
            assert process.poll() is None, "the replica with the API on stopped"
            time.sleep(0.5)
        assert secret not in " ".join(Path(f"/proc/{process.pid}/cmdline").read_bytes().decode().split("\0"))
        import urllib.error
        import urllib.request

        def status(headers: Dict[str, str]) -> Any:
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(url + "/status", headers=headers), timeout=10
                ) as reply:
                    return reply.status, dict(reply.headers)
            except urllib.error.HTTPError as error:
                return error.code, dict(error.headers)

        assert status({})[0] == 401
        assert (
            status(
                {
                    "Authorization": "Bearer "
                    + jwt.encode(
                        {"user": {"username": "x", "role": "admin"}}, "not-the-secret-" + "x" * 32, algorithm="HS256"
                    )
                }
            )[0]
            == 401
        )
        good = "Bearer " + jwt.encode({"user": {"username": "staff", "role": "admin"}}, secret, algorithm="HS256")
        code, headers = status({"Authorization": good, "Origin": "https://staff.example"})
        assert code == 200 and headers.get("Access-Control-Allow-Origin") == "https://staff.example"
        code, headers = status({"Authorization": good, "Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in headers
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.mark.slow
def test_a_model_whose_sha256_does_not_match_is_not_started(cluster, tmp_path):
    model = tmp_path / "assistant.tar.gz"
    shutil.copy(cluster.model, model)
    (tmp_path / "assistant.tar.gz.sha256").write_text("0" * 64 + "\n")
    original = cluster.model
    cluster.stop_rasa(1)
    cluster.model = model
    try:
        with pytest.raises(ClusterError, match="does not match"):
            cluster.start_rasa(1)
        assert cluster.rasa_pid(1) is None
    finally:
        cluster.model = original
        cluster.start_rasa(1)


# ---------------------------------------------------------------------------------------------
# The deployment files agree with each other
