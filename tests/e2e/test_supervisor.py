"""`make run` (python -m server run, server/supervisor.py) started as a subprocess on free ports:
a part killed with SIGKILL is started again while the conversation goes on, and SIGINT, SIGTERM
or the supervisor's own death leave nothing running.

The module's supervisor (all three parts, a SQLite store in a temporary directory) is shared by
the tests in file order: the action server, the demo page server and the Rasa server are killed
in turn, then the supervisor gets SIGINT. The other tests start their own, without the Rasa
server (quick). Figures are printed (pytest -s).
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

import pytest

from server.processes import answers
from server.settings import ROOT
from tests.servers import FIXED_TIME, MODEL, RELOAD_TOKEN, degraded_texts, free_port

FALLBACK = degraded_texts()
PROMPTS = [
    "how do I get crime alerts",
    "what is the non emergency number",
    "are you on facebook",
    "how do I contact you",
    "what can you do",
    "is there a number for deaf people",
]
REPLY_SECONDS = 5.0  # every message, whatever is down, gets its reply within this
# Settings of the environment that would change what the supervisor starts.
UNSET = ("ENDPOINTS", "PARTS", "LOG_DIR", "RUN_DIR", "TRACKER_STORE_DIALECT", "SUPERVISOR_NAME")


@dataclass
class Supervisor:
    workdir: Path
    parts: str = ""
    process: Optional[subprocess.Popen] = None
    ports: Dict[str, int] = field(default_factory=dict)
    log_path: Optional[Path] = None

    @property
    def run_dir(self) -> Path:
        return self.workdir / "run"

    @property
    def db(self) -> Path:
        return self.workdir / "conversations.db"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['rasa']}"

    def health(self, stem: str) -> str:
        return {
            "action": f"http://127.0.0.1:{self.ports['actions']}/health",
            "rasa": f"{self.rasa_url}/webhooks/rest/",
            "web": f"http://127.0.0.1:{self.ports['web']}/",
        }[stem]

    def start(self) -> "Supervisor":
        ports: Set[int] = set()
        while len(ports) < 3:
            ports.add(free_port())
        self.ports = dict(zip(("rasa", "actions", "web"), sorted(ports), strict=True))
        env = {name: value for name, value in os.environ.items() if name not in UNSET}
        env.update(
            RASA_PORT=str(self.ports["rasa"]),
            ACTION_SERVER_PORT=str(self.ports["actions"]),
            ACTION_SERVER_URL=f"http://127.0.0.1:{self.ports['actions']}/webhook",
            WEB_PORT=str(self.ports["web"]),
            SOCKETIO_CORS_ORIGINS=f"http://127.0.0.1:{self.ports['web']}",
            TRACKER_STORE_DIALECT="sqlite",
            TRACKER_STORE_DB=str(self.db),
            RUN_DIR=str(self.run_dir),
            RASA_RELOAD_TOKEN=RELOAD_TOKEN,
            ASSISTANT_FIXED_TIME=FIXED_TIME,
            RASA_MODEL=str(MODEL),
        )
        if self.parts:
            env["PARTS"] = self.parts
        self.log_path = self.workdir / "supervisor.log"
        with open(self.log_path, "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server", "run"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # our signals only, as a terminal's Ctrl-C reaches only the supervisor
            )
        return self

    def wait_until_up(self, stems: List[str], timeout: float = 240) -> float:
        started = time.time()
        while time.time() < started + timeout:
            assert self.process is not None and self.process.poll() is None, f"the supervisor stopped:\n{self.log()}"
            if all(self.pid(stem) and answers(self.health(stem), timeout=1) for stem in stems):
                return time.time() - started
            time.sleep(0.2)
        raise AssertionError(f"not up within {timeout} s:\n{self.log()}")

    def pid(self, stem: str) -> Optional[int]:
        try:
            return int((self.run_dir / f"{stem}.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def log(self, whole: bool = False) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path else ""
        return text if whole else text[-5000:]

    def wait_for_line(self, line: str, timeout: float = 10) -> None:
        """The supervisor logs a line (it notices a change on its own next look, within a second)."""
        deadline = time.time() + timeout
        while line not in self.log(whole=True):
            assert time.time() < deadline, f"the supervisor did not log {line!r}:\n{self.log()}"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()  # its children get SIGTERM (PR_SET_PDEATHSIG)
                self.process.wait()


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet collected, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def descendants(pid: int) -> List[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def wait_gone(pids: List[int], timeout: float) -> List[int]:
    deadline = time.time() + timeout
    while time.time() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


def post(url: str, sender: str, text: str, timeout: float = 10) -> Tuple[int, Any, float]:
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    started = time.time()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, json.loads(reply.read()), time.time() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), time.time() - started


def is_fallback(replies: Any) -> bool:
    return isinstance(replies, list) and any(m.get("text") in FALLBACK for m in replies if isinstance(m, dict))


def has_reply(replies: Any) -> bool:
    """A non-empty reply: at least one message, each with text."""
    return (
        isinstance(replies, list)
        and bool(replies)
        and all(isinstance(m, dict) and isinstance(m.get("text"), str) and m["text"].strip() for m in replies)
    )


class Conversation:
    """One person's conversation over REST; every message must get a non-empty reply within REPLY_SECONDS."""

    def __init__(self, supervisor: Supervisor, name: str) -> None:
        self.supervisor = supervisor
        self.sender = f"{name}-{time.time_ns()}"
        self.sent: List[str] = []
        self.seconds: List[float] = []

    def say(self) -> Any:
        text = f"{PROMPTS[len(self.sent) % len(PROMPTS)]} (message {len(self.sent) + 1})"
        status, replies, seconds = post(self.supervisor.rasa_url, self.sender, text)
        self.sent.append(text)
        self.seconds.append(seconds)
        assert status == 200 and has_reply(replies), (text, status, replies)
        assert seconds < REPLY_SECONDS, (text, seconds)
        return replies

    def stored(self) -> List[str]:
        """The conversation's messages in the SQLite store, in order."""
        import sqlalchemy as sa

        engine = sa.create_engine(f"sqlite:///{self.supervisor.db}")
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    sa.text("SELECT data FROM events WHERE sender_id = :sender AND type_name = 'user' ORDER BY id"),
                    {"sender": self.sender},
                ).fetchall()
        finally:
            engine.dispose()
        return [json.loads(data)["text"] for (data,) in rows]


@pytest.fixture(scope="module")
def supervisor(tmp_path_factory) -> Iterator[Supervisor]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    running = Supervisor(tmp_path_factory.mktemp("make-run")).start()
    try:
        seconds = running.wait_until_up(["action", "rasa", "web"])
        print(f"\nmake run answering in {seconds:.1f} s")
        yield running
    finally:
        running.stop()


def kill_and_talk(supervisor: Supervisor, stem: str, conversation: Conversation, within: float) -> Dict[str, Any]:
    """SIGKILL one part while the conversation goes on (a message every 0.25 s); how long until it answered again."""
    victim = supervisor.pid(stem)
    assert victim and alive(victim)
    os.kill(victim, signal.SIGKILL)
    killed = time.time()
    degraded = 0
    back: Optional[float] = None
    while time.time() < killed + within:
        if stem != "rasa":  # with the Rasa server down nothing can answer (make run has no nginx in front)
            degraded += is_fallback(conversation.say())
        pid = supervisor.pid(stem)
        if pid and pid != victim and answers(supervisor.health(stem), timeout=1):
            back = time.time() - killed
            break
        time.sleep(0.25)
    assert back is not None, f"the {stem} part did not answer again within {within} s:\n{supervisor.log()}"
    assert not alive(victim)
    supervisor.wait_for_line(f"RESTART the {PART_NAMES[stem]} (pid {victim}) was killed by SIGKILL")
    supervisor.wait_for_line(f"RESTARTED the {PART_NAMES[stem]} answers again (pid {supervisor.pid(stem)})")
    return {"back_seconds": round(back, 1), "fallback_replies_meanwhile": degraded}


PART_NAMES = {"action": "action server", "rasa": "Rasa server", "web": "demo page server"}


@pytest.mark.slow
def test_the_action_server_killed_mid_conversation_every_message_answered_and_nothing_lost(supervisor):
    conversation = Conversation(supervisor, "actions-killed")
    for _ in range(3):
        assert not is_fallback(conversation.say())
    figures = kill_and_talk(supervisor, "action", conversation, within=30)
    for _ in range(3):  # the conversation goes on, answered properly again
        assert not is_fallback(conversation.say())
    assert conversation.stored() == conversation.sent
    figures["slowest_reply_seconds"] = round(max(conversation.seconds), 2)
    print(f"\naction server killed: {figures}")
    assert figures["fallback_replies_meanwhile"] >= 1  # the reply guarantee answered while it was down


@pytest.mark.slow
def test_the_demo_page_server_killed_is_started_again(supervisor):
    conversation = Conversation(supervisor, "web-killed")
    conversation.say()
    figures = kill_and_talk(supervisor, "web", conversation, within=30)
    with urllib.request.urlopen(supervisor.health("web"), timeout=5) as page:
        assert page.status == 200 and b"<html" in page.read().lower()
    for _ in range(2):
        assert not is_fallback(conversation.say())
    assert conversation.stored() == conversation.sent
    print(f"\ndemo page server killed: {figures}")


@pytest.mark.slow
def test_the_rasa_server_killed_comes_back_within_60_s_and_the_conversation_goes_on(supervisor):
    conversation = Conversation(supervisor, "rasa-killed")
    for _ in range(3):
        assert not is_fallback(conversation.say())
    figures = kill_and_talk(supervisor, "rasa", conversation, within=60)
    first = time.time()
    assert not is_fallback(conversation.say())
    figures["first_reply_after_restart_seconds"] = round(time.time() - first, 2)
    for _ in range(2):
        assert not is_fallback(conversation.say())
    assert conversation.stored() == conversation.sent  # the conversation kept every turn across the restart
    print(f"\nRasa server killed: {figures}")


@pytest.mark.slow
def test_sigint_stops_everything_within_20_s(supervisor):
    assert supervisor.process is not None and supervisor.process.poll() is None
    parts = [supervisor.pid(stem) for stem in ("action", "rasa", "web")]
    assert all(parts), parts
    everything = set(parts) | set(descendants(supervisor.process.pid))  # also anything the parts started
    started = time.time()
    supervisor.process.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends it
    supervisor.process.wait(timeout=20)
    seconds = time.time() - started
    assert wait_gone(sorted(everything), timeout=1) == []
    assert not list(supervisor.run_dir.glob("*.pid"))
    for port in supervisor.ports.values():
        assert not answers(f"http://127.0.0.1:{port}/", timeout=1)
    assert "SIGINT received" in supervisor.log(whole=True)
    print(f"\nSIGINT: the supervisor and its {len(everything)} processes gone in {seconds:.1f} s")


# ---------------------------------------------------------------------------------------------
# Without the Rasa server: quick to start


@pytest.fixture
def light(tmp_path) -> Iterator[Supervisor]:
    running = Supervisor(tmp_path, parts="actions,web").start()
    try:
        running.wait_until_up(["action", "web"], timeout=120)
        yield running
    finally:
        running.stop()


@pytest.mark.slow
def test_sigterm_stops_everything_at_once(light):
    parts = [light.pid("action"), light.pid("web")]
    assert light.process is not None and all(parts)
    started = time.time()
    light.process.send_signal(signal.SIGTERM)
    assert light.process.wait(timeout=20) == 0
    assert wait_gone(parts, timeout=1) == []
    assert not (light.run_dir / "rasa.pid").exists()
    print(f"\nSIGTERM: stopped in {time.time() - started:.1f} s")


@pytest.mark.slow
def test_children_die_with_the_supervisor_even_when_it_is_killed(light):
    parts = [light.pid("action"), light.pid("web")]
    assert light.process is not None and all(parts)
    light.process.kill()
    light.process.wait()
    started = time.time()
    assert wait_gone(parts, timeout=20) == []  # PR_SET_PDEATHSIG: each gets SIGTERM
    print(f"\nsupervisor SIGKILLed: its children gone in {time.time() - started:.1f} s")


@pytest.mark.slow
def test_a_part_held_stays_stopped_until_its_hold_file_is_removed(light):
    victim = light.pid("action")
    hold = light.run_dir / "action.hold"
    hold.write_text("")
    assert wait_gone([victim], timeout=20) == []
    time.sleep(3)  # longer than the back-off: it is not started again
    assert light.pid("action") is None and not answers(light.health("action"), timeout=1)
    hold.unlink()
    light.wait_until_up(["action", "web"], timeout=60)
    assert light.pid("action") != victim


@pytest.mark.slow
def test_parts_naming_something_unknown_is_refused(tmp_path):
    bad = Supervisor(tmp_path, parts="actions,nginx").start()
    assert bad.process is not None
    assert bad.process.wait(timeout=60) == 2
    assert "PARTS='actions,nginx'" in bad.log()
    assert not bad.run_dir.exists() or not list(bad.run_dir.glob("*.pid"))
