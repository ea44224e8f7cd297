"""Helpers for the cluster tests: a cluster of scripts/cluster.py on free loopback ports, a load
generator (asyncio + aiohttp, one conversation at a time per simulated person), and what
PostgreSQL holds.

Each test module runs its own cluster (`running_cluster`), in var/test-cluster-<name>-<pid>/ (not in
/tmp: PostgreSQL runs as the postgres user and must reach its data directory), removed after.
"""

import asyncio
import json
import os
import re
import shutil
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set

import aiohttp

from cluster.local import Cluster
from cluster.packages import ensure_packages
from core.catalogue import load_catalogue
from server.settings import ROOT
from tests.servers import FIXED_TIME, MODEL, SOCIAL_SECRETS, degraded_texts, free_port

FALLBACK_TEXTS = degraded_texts()
CONTACT_US = load_catalogue().channels["contact_us"].link
# What people ask, in turn (no emergencies: those are tested elsewhere); numbered per message
# so that each message of a conversation is unique and can be found in PostgreSQL.
PROMPTS = [
    "how do I get crime alerts",
    "what is the non emergency number",
    "can I talk to someone on live chat",
    "are you on facebook",
    "how do I contact you",
    "what can you do",
    "is there a number for deaf people",
    "I want to ask a question",
    "thanks",
    "hello",
]
TRACE_MARKERS = ("Traceback (most recent call last)", 'File "/', "sanic/", "rasa/core/", '.py", line')


def unique_ports(count: int) -> List[int]:
    ports: Set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def make_cluster(name: str, env: Optional[Dict[str, str]] = None, **settings: Any) -> Cluster:
    """A cluster of 2 replicas on free ports, its files in var/test-cluster-<name>-<pid>/."""
    ports = unique_ports(9)
    fake_api = ports[6]
    cluster_env = {
        "ASSISTANT_FIXED_TIME": FIXED_TIME,
        "SOCKETIO_CORS_ORIGINS": "http://allowed.example",
        "FACEBOOK_API_URL": f"http://127.0.0.1:{fake_api}/facebook",
        "INSTAGRAM_API_URL": f"http://127.0.0.1:{fake_api}/instagram",
        "TWITTER_API_URL": f"http://127.0.0.1:{fake_api}/twitter",
        **SOCIAL_SECRETS,
        **(env or {}),
    }
    cluster = Cluster(
        directory=ROOT / "var" / f"test-cluster-{name}-{os.getpid()}",  # two test runs at once keep apart
        port=ports[0],
        pg_port=ports[1],
        redis_port=ports[2],
        rasa_ports=ports[3:5],
        action_ports=ports[7:9],
        model=MODEL,
        env=cluster_env,
        **settings,
    )
    cluster.fake_api_port = fake_api  # type: ignore[attr-defined]
    return cluster


def _pids_in(directory: Path) -> List[int]:
    """The processes named by the pid files under a cluster directory that are still running."""
    from cluster.processes import pid_alive, read_pid

    found = []
    for pid_file in directory.rglob("*.pid"):
        pid = read_pid(pid_file)
        if pid and pid_alive(pid):
            found.append(pid)
    return found


def remove_abandoned_clusters(name: str) -> None:
    """The directories of earlier test runs that ended without cleaning up (their process is gone),
    unless something of that cluster still runs (its files are left to whoever stops it)."""
    for directory in (ROOT / "var").glob(f"test-cluster-{name}-*"):
        pid = directory.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            running = _pids_in(directory)
            if running:
                print(f"\n{directory} is left: processes of it still run ({running})")
            else:
                shutil.rmtree(directory, ignore_errors=True)


def cluster_pids(cluster: Cluster) -> Dict[str, int]:
    """The processes `up` started for the replicas: supervisors, Rasa servers, action servers."""
    found = {}
    for index in range(cluster.replicas):
        for what, pid in (
            ("supervisor", cluster.replica_pid(index)),
            ("rasa", cluster.rasa_pid(index)),
            ("actions", cluster.actions_pid(index)),
        ):
            if pid:
                found[f"replica {index + 1} {what}"] = pid
    return found


@contextmanager
def running_cluster(name: str, env: Optional[Dict[str, str]] = None, **settings: Any) -> Iterator[Cluster]:
    ensure_packages()  # apt-get install postgresql redis-server nginx when missing
    remove_abandoned_clusters(name)
    cluster = make_cluster(name, env, **settings)
    started = time.time()
    cluster.up()
    print(f"\ncluster up in {time.time() - started:.1f} s")
    try:
        yield cluster
    finally:
        from cluster.processes import pid_alive

        replicas = cluster_pids(cluster)
        for index in range(cluster.replicas):  # what the supervisors saw: parts that stopped, restarts
            log = cluster.part_log(index, "supervisor")
            lines = log.read_text(errors="replace").splitlines() if log.exists() else []
            for line in [line for line in lines if "RESTART" in line or "ERROR" in line][-20:]:
                print(line)
        cluster.down()
        left = [f"{what} (pid {pid})" for what, pid in replicas.items() if pid_alive(pid)]
        left += [f"pid {pid} of a pid file" for pid in _pids_in(cluster.directory)]
        shutil.rmtree(cluster.directory, ignore_errors=True)
        assert not left, f"`down` left processes running: {left}"


# ---------------------------------------------------------------------------------------------
# Replies


def is_fallback(messages: Any) -> bool:
    """The safety net's service_unavailable reply (101 and the contact-us page)."""
    if not isinstance(messages, list) or not messages:
        return False
    texts = [m.get("text", "") for m in messages if isinstance(m, dict)]
    return any(text in FALLBACK_TEXTS for text in texts)


def is_normal(messages: Any) -> bool:
    return (
        isinstance(messages, list)
        and bool(messages)
        and all(isinstance(m, dict) for m in messages)
        and not is_fallback(messages)
    )


def has_trace(body: str) -> bool:
    return any(marker in body for marker in TRACE_MARKERS)


# ---------------------------------------------------------------------------------------------
# Load


@dataclass
class Turn:
    sender: str
    index: int
    text: str
    started: float = 0.0
    ended: float = 0.0
    status: int = 0  # 0: no HTTP answer at all
    replies: Any = None
    error: str = ""

    @property
    def normal(self) -> bool:
        return self.status == 200 and is_normal(self.replies)

    @property
    def fallback(self) -> bool:
        return is_fallback(self.replies)


def conversations(prefix: str, count: int, length: int) -> Dict[str, List[str]]:
    """count conversations of length messages: {sender: [text, ...]}, every text unique in its conversation."""
    return {
        f"{prefix}-{n:04d}": [f"{PROMPTS[(n + i) % len(PROMPTS)]} (message {i + 1})" for i in range(length)]
        for n in range(count)
    }


@dataclass
class LoadResult:
    turns: List[Turn]
    started: float
    ended: float

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def per_second(self) -> float:
        return len(self.turns) / self.seconds

    def latency(self, quantile: float) -> float:
        values = sorted(t.ended - t.started for t in self.turns)
        return values[min(len(values) - 1, int(quantile * len(values)))]

    @property
    def failures(self) -> List[Turn]:
        return [t for t in self.turns if not t.normal]


async def _run_load(
    url: str,
    plan: Dict[str, List[str]],
    users: int,
    on_turn: Optional[Callable[[Turn, int], None]],
    timeout: float,
    max_seconds: float,
) -> LoadResult:
    queue: "asyncio.Queue[str]" = asyncio.Queue()
    for sender in plan:
        queue.put_nowait(sender)
    turns: List[Turn] = []
    done = 0

    async def person(session: aiohttp.ClientSession) -> None:
        nonlocal done
        while True:
            try:
                sender = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            for index, text in enumerate(plan[sender]):
                turn = Turn(sender, index, text, started=time.time())
                try:
                    async with session.post(
                        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
                    ) as reply:
                        turn.status = reply.status
                        body = await reply.text()
                    try:
                        turn.replies = json.loads(body)
                    except ValueError:
                        turn.replies, turn.error = None, body[:200]
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                    turn.error = type(error).__name__
                turn.ended = time.time()
                turns.append(turn)
                done += 1
                if on_turn is not None:
                    on_turn(turn, done)

    connector = aiohttp.TCPConnector(limit=users * 2)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        started = time.time()
        # The whole load is bounded too: a cluster that stops answering fails the test, not hangs it.
        await asyncio.wait_for(asyncio.gather(*(person(session) for _ in range(users))), max_seconds)
        ended = time.time()
    return LoadResult(turns, started, ended)


def run_load(
    url: str,
    plan: Dict[str, List[str]],
    users: int = 20,
    on_turn: Optional[Callable[[Turn, int], None]] = None,
    timeout: float = 30.0,
    max_seconds: float = 900.0,
) -> LoadResult:
    """users people, each taking the next conversation and sending its messages one after the other (waiting for each reply)."""
    return asyncio.run(_run_load(url, plan, users, on_turn, timeout, max_seconds))


# ---------------------------------------------------------------------------------------------
# PostgreSQL


def stored_events(cluster: Cluster, prefix: str) -> Dict[str, List[Dict[str, Any]]]:
    """Every conversation whose id starts with prefix: its events in PostgreSQL, in order."""
    import sqlalchemy as sa

    engine = sa.create_engine(cluster.database_url())
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT sender_id, data FROM events WHERE sender_id LIKE :prefix ORDER BY id"),
                {"prefix": prefix.replace("%", r"\%").replace("_", r"\_") + "%"},
            ).fetchall()
    finally:
        engine.dispose()
    found: Dict[str, List[Dict[str, Any]]] = {}
    for sender, data in rows:
        found.setdefault(sender, []).append(json.loads(data))
    return found


def user_texts(events: Sequence[Dict[str, Any]]) -> List[str]:
    return [event.get("text") for event in events if event.get("event") == "user"]


def check_stored(cluster: Cluster, prefix: str, turns: Sequence[Turn], plan: Dict[str, List[str]]) -> List[str]:
    """What is wrong in PostgreSQL, given what was sent and answered (empty: all good).

    - every message answered normally is stored exactly once, and the stored messages of a
      conversation are in the order they were sent, none twice;
    - a message that got the fallback reply or no answer may be stored (at most once) or not;
    - one conversation session each (nothing started afresh), and each stored message's turn is
      complete (the assistant acted and then listened before the next message).
    """
    answered = {(t.sender, t.text) for t in turns if t.normal}
    stored = stored_events(cluster, prefix)
    problems = []
    for sender, sent in plan.items():
        events = stored.get(sender, [])
        texts = user_texts(events)
        if len(texts) != len(set(texts)):
            problems.append(f"{sender}: a message is stored twice: {texts}")
        positions = [sent.index(text) if text in sent else -1 for text in texts]
        if -1 in positions:
            problems.append(f"{sender}: stored messages that were not sent: {texts}")
        elif positions != sorted(positions):
            problems.append(f"{sender}: stored out of order: {texts}")
        missing = [text for text in sent if (sender, text) in answered and text not in texts]
        if missing:
            problems.append(f"{sender}: answered but not stored: {missing}")
        sessions = sum(1 for event in events if event.get("event") == "session_started")
        if sessions != 1 and texts:
            problems.append(f"{sender}: {sessions} conversation sessions (started afresh?)")
        kinds = [event.get("event") for event in events]
        for number, position in enumerate(i for i, kind in enumerate(kinds) if kind == "user"):
            rest = kinds[position + 1 :]
            next_user = rest.index("user") if "user" in rest else len(rest)
            turn_events = events[position + 1 : position + 1 + next_user]
            names = [e.get("name") for e in turn_events if e.get("event") == "action"]
            if not names or names[-1] != "action_listen" or len(names) < 2:
                problems.append(f"{sender}: the turn of message {number + 1} is incomplete: {names}")
    return problems


# ---------------------------------------------------------------------------------------------
# Processes


def rss_kib(pid: int) -> int:
    """Resident memory of a process, in KiB."""
    match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    assert match, pid
    return int(match.group(1))


def listening_addresses(port: int) -> Set[str]:
    """The local addresses with a TCP socket listening on port (IPv4 and IPv6)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            address, port_hex = parts[1].split(":")
            if parts[3] == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                if width == 8:
                    found.add(".".join(str(b) for b in reversed(bytes.fromhex(address))))
                else:
                    found.add("::" if set(address) == {"0"} else address)
    return found


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------------------------------------
# Two replicas taking one conversation's lock at the same moment


def _lock_worker(kind: str, port: int, password: str, prefix: str, count: int, barrier: Any, results: Any) -> None:
    from rasa.core.lock_store import RedisLockStore

    from components.lock_store import LeasedRedisLockStore

    settings = dict(host="127.0.0.1", port=port, password=password, db=0)
    store = RedisLockStore(**settings) if kind == "rasa" else LeasedRedisLockStore(**settings)

    async def run() -> Any:
        spans, errors = [], 0
        for n in range(count):
            barrier.wait(timeout=60)
            try:
                # lock_lifetime 2 s instead of Rasa's 60: a ticket lost by Rasa's store blocks for that long.
                async with store.lock(f"{prefix}-{n}", lock_lifetime=2, wait_time_in_seconds=0.01):
                    start = time.time()
                    await asyncio.sleep(0.02)  # a turn
                    spans.append((n, start, time.time()))
            except Exception:  # LockError: the lock was gone when it came to its turn
                errors += 1
        return spans, errors

    results.put(asyncio.run(run()))


def lock_overlaps(kind: str, port: int, password: str, count: int = 200) -> Dict[str, Any]:
    """Two processes (replicas) take the lock of the same `count` conversations at the same moment:
    how many times both were inside at once, how many turns failed to get it, and how long it took
    ("rasa": Rasa's RedisLockStore, else ours)."""
    import multiprocessing
    import queue

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    prefix = f"lockrace-{kind}-{time.time_ns()}"
    workers = [
        context.Process(target=_lock_worker, args=(kind, port, password, prefix, count, barrier, results))
        for _ in range(2)
    ]
    started = time.time()
    for worker in workers:
        worker.start()
    try:
        (first, first_errors), (second, second_errors) = results.get(timeout=300), results.get(timeout=300)
    except queue.Empty:
        return {"overlaps": None, "errors": None, "seconds": None, "stalled": True}
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
    one = {n: (start, end) for n, start, end in first}
    overlaps = sum(1 for n, start, end in second if n in one and one[n][0] < end and start < one[n][1])
    return {
        "overlaps": overlaps,
        "errors": first_errors + second_errors,
        "seconds": round(time.time() - started, 1),
        "stalled": False,
    }


def database_size(cluster: Cluster) -> Dict[str, int]:
    """The events table on disk (with its indexes), and how many events and people's messages it holds."""
    import sqlalchemy as sa

    engine = sa.create_engine(cluster.database_url())
    try:
        with engine.connect() as connection:
            size = connection.execute(sa.text("SELECT pg_total_relation_size('events')")).scalar()
            events = connection.execute(sa.text("SELECT count(*) FROM events")).scalar()
            messages = connection.execute(sa.text("SELECT count(*) FROM events WHERE type_name = 'user'")).scalar()
    finally:
        engine.dispose()
    return {"bytes": int(size), "events": int(events), "messages": int(messages)}


def _cpu_of(pid: Optional[int]) -> float:
    """CPU seconds (user + system) used so far by a process, 0 if it is gone."""
    if not pid:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: Optional[int]) -> List[int]:
    if not pid:
        return []
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(cluster: Cluster) -> Dict[str, float]:
    """CPU seconds used so far by each part of the cluster, and by this process (the load generator)."""
    from cluster.processes import read_pid

    postmaster = read_pid(cluster.pg_data / "postmaster.pid")
    nginx = cluster.nginx_pid()
    own = os.times()
    return {
        "rasa replicas": sum(_cpu_of(cluster.rasa_pid(i)) for i in range(cluster.replicas)),
        "action servers": sum(_cpu_of(cluster.actions_pid(i)) for i in range(cluster.replicas)),
        "postgresql": _cpu_of(postmaster) + sum(_cpu_of(child) for child in _children(postmaster)),
        "redis": _cpu_of(read_pid(cluster.redis_dir / "redis.pid")),
        "nginx": _cpu_of(nginx) + sum(_cpu_of(child) for child in _children(nginx)),
        "load generator": own.user + own.system,
    }
