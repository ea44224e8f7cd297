"""`make run`: start the action server, the Rasa server and the demo page, keep them running, and
stop them all on Ctrl-C. Each replica of `make cluster` runs under one too (PARTS=actions,rasa).

A part that exits is started again after a pause that doubles with each quick failure (1 s, 2 s,
4 s ... at most MAX_BACKOFF_SECONDS; back to 1 s once it has run for STABLE_SECONDS), and each
restart is logged: what stopped and how, when it starts again, and how long after it stopped it
answered again. Meanwhile the others go on: while the action server is down the Rasa server still
answers every message through the reply guarantee (channels/reply_guarantee.py).

A part that stops before the first time everything answered is a configuration problem, not a
crash: the supervisor stops the others and exits 1. SIGINT (Ctrl-C), SIGTERM and SIGHUP stop every
part at once (SIGTERM to each part's process group, SIGKILL to what is left after STOP_SECONDS; a
second signal kills at once). Children run in their own sessions (a Ctrl-C in the terminal reaches
only the supervisor) and die with it even if it is killed (PR_SET_PDEATHSIG).

Settings (environment, besides those of server.settings):
- PARTS: which parts, comma-separated, of actions, rasa, web (the demo page; also demo-page);
  all three by default;
- RUN_DIR (var/run): each part's pid while it runs, in action.pid, rasa.pid, web.pid. Creating
  <part>.hold there (action.hold, ...) stops that part and keeps it stopped until the file is
  removed (the cluster uses it to take one part out on purpose); stale ones are removed at start;
- LOG_DIR: when set, each part writes to LOG_DIR/<part>.log (action.log, ...) instead of the
  supervisor's own output;
- SUPERVISOR_NAME (make run): how its log lines begin.
"""

import secrets
import signal
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from core.model_integrity import ModelIntegrityError, verify
from server import processes
from server.settings import ROOT, environment

MAX_BACKOFF_SECONDS = 30.0
STABLE_SECONDS = 60.0
START_SECONDS = 300.0  # a part that does not answer this long after it was started is started again
POLL_SECONDS = 0.5
TOKEN_FILE = ROOT / "var" / "reload-token"

# name in PARTS -> (how to make it, the stem of its pid, hold and log files)
PARTS: Dict[str, Tuple[Callable[..., processes.Part], str]] = {
    "actions": (processes.action_server, "action"),
    "rasa": (processes.rasa_server, "rasa"),
    "web": (processes.demo_page, "web"),
}
ALIASES = {"demo-page": "web", "action": "actions"}
DEFAULT_PARTS = "actions,rasa,web"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_name = "make run"


def log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{_name}] {message}", file=sys.stderr, flush=True)


def how_it_ended(code: Optional[int]) -> str:
    if code is None:
        return "stopped"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class Stop(Exception):
    pass


class _Signals:
    received: Optional[int] = None
    critical = False  # while a child is being started: the Stop is raised just after


def _on_stop_signal(signum: int, frame: Optional[FrameType]) -> None:
    _Signals.received = signum
    if not _Signals.critical:
        raise Stop()


@contextmanager
def _critical() -> Iterator[None]:
    """No Stop in the middle of starting a child (it would be started and not recorded)."""
    _Signals.critical = True
    try:
        yield
    finally:
        _Signals.critical = False
    if _Signals.received is not None:
        raise Stop()


@dataclass
class Supervised:
    part: processes.Part
    stem: str  # action, rasa, web
    run_dir: Path
    state: str = "new"  # starting (not yet answered), up, waiting (restart planned), held
    started: float = 0.0  # time.monotonic() of the last start
    down_since: Optional[float] = None  # when it was noticed stopped (for "answers again N s after")
    backoff: float = 1.0
    restart_at: float = 0.0
    restarts: int = 0
    last_pid: Optional[int] = None

    @property
    def name(self) -> str:
        return self.part.name

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.stem}.pid"

    @property
    def hold_file(self) -> Path:
        return self.run_dir / f"{self.stem}.hold"

    def start(self, now: float) -> None:
        with _critical():
            self.part.start()
            self.last_pid = self.part.pid
            self.pid_file.write_text(f"{self.part.pid}\n", encoding="ascii")
        self.started = now
        self.state = "starting"

    def answered(self, now: float) -> None:
        self.state = "up"
        if self.down_since is None:
            log(f"the {self.name} answers at {self.part.health_url} (pid {self.part.pid}, {now - self.started:.1f} s)")
        else:
            log(
                f"RESTARTED the {self.name} answers again (pid {self.part.pid}), {now - self.down_since:.1f} s after "
                f"it stopped ({now - self.started:.1f} s after it was started again)"
            )
        self.down_since = None

    def check(self, now: float) -> None:
        """Watch one part: notice that it answers or stopped, plan and make its restart, honour its hold file."""
        held = self.hold_file.exists()
        if self.part.running:
            if held:
                log(f"the {self.name} (pid {self.part.pid}) is stopped on request: {self.hold_file} exists")
                self.part.stop()
                self._ended(now, held=True)
            elif self.state == "starting":
                if self.part.answers(timeout=1.0):
                    self.answered(now)
                elif now - self.started > START_SECONDS:
                    log(
                        f"the {self.name} (pid {self.part.pid}) did not answer within {START_SECONDS:.0f} s; stopping it"
                    )
                    self.part.stop()
                    self._ended(now, held=False)
            return
        if self.state in ("starting", "up"):
            self._ended(now, held)
        if self.state == "held":
            if not held:
                log(f"{self.hold_file} is gone: starting the {self.name}")
                self.backoff = 1.0
                self.start(now)
                log(f"the {self.name} started (pid {self.part.pid})")
        elif self.state == "waiting":
            if held:
                self.state = "held"
                log(f"the {self.name} stays stopped: {self.hold_file} exists")
            elif now >= self.restart_at:
                self.restarts += 1
                self.start(now)
                log(f"RESTART the {self.name} started again (pid {self.part.pid}, restart {self.restarts})")

    def _ended(self, now: float, held: bool) -> None:
        code = self.part.process.returncode if self.part.process else None
        self.part.reap()  # anything it left in its process group, and its log file
        self.pid_file.unlink(missing_ok=True)
        ran = now - self.started
        if held:
            self.state = "held"
            log(
                f"the {self.name} (pid {self.last_pid}) {how_it_ended(code)}; it stays stopped while {self.hold_file} exists"
            )
            return
        if ran >= STABLE_SECONDS:
            self.backoff = 1.0
        if self.down_since is None:
            self.down_since = now
        log(
            f"RESTART the {self.name} (pid {self.last_pid}) {how_it_ended(code)} after {ran:.1f} s; "
            f"starting it again in {self.backoff:.0f} s"
        )
        self.restart_at = now + self.backoff
        self.backoff = min(self.backoff * 2, MAX_BACKOFF_SECONDS)
        self.state = "waiting"


def reload_token(env: Dict[str, str]) -> str:
    """RASA_RELOAD_TOKEN, or a fresh one written to var/reload-token (mode 0600) for `make reload`."""
    if env.get("RASA_RELOAD_TOKEN"):
        return env["RASA_RELOAD_TOKEN"]
    token = secrets.token_urlsafe(32)
    TOKEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    TOKEN_FILE.touch(mode=0o600)
    TOKEN_FILE.chmod(0o600)
    TOKEN_FILE.write_text(token + "\n", encoding="ascii")
    return token


def chosen_parts(env: Dict[str, str]) -> List[str]:
    """The PARTS setting as names of PARTS, in the order they start; ValueError if it names anything else."""
    names = [ALIASES.get(name.strip(), name.strip()) for name in (env.get("PARTS") or DEFAULT_PARTS).split(",")]
    names = [name for name in names if name]
    unknown = [name for name in names if name not in PARTS]
    if unknown or not names:
        raise ValueError(f"PARTS={env.get('PARTS')!r}: give some of {', '.join(PARTS)}, comma-separated")
    return [name for name in PARTS if name in names]


def banner(env: Dict[str, str], names: List[str]) -> str:
    web, rasa = env["WEB_PORT"], env["RASA_PORT"]
    lines = ["", "  The assistant is running." if "rasa" in names else f"  Running: {', '.join(names)}."]
    if "web" in names:
        lines.append(f"    Chat widget demo page:  http://localhost:{web}/")
    if "rasa" in names:
        lines += [
            f"    Rasa server:            http://localhost:{rasa}  (REST webhook: /webhooks/rest/webhook, socket.io: /socket.io)",
            f"    Try:  curl -s localhost:{rasa}/webhooks/rest/webhook "
            + """-d '{"sender": "me", "message": "how do I get crime alerts"}'""",
            "    Or, in another terminal:  make shell",
        ]
    lines += ["  Press Ctrl-C to stop.", ""]
    if "web" in names and f"http://localhost:{web}" not in env["SOCKETIO_CORS_ORIGINS"].split(","):
        lines.append(
            f"  Note: http://localhost:{web} is not in SOCKETIO_CORS_ORIGINS, so the demo page's chat cannot connect."
        )
    return "\n".join(lines)


def stop_everything(parts: List[Supervised], why: str) -> None:
    running = [s for s in parts if s.part.running]
    if running:
        log(f"{why}: stopping " + ", ".join(f"the {s.name} (pid {s.part.pid})" for s in running) + " at once")

    def kill_now(signum: int, frame: Optional[FrameType]) -> None:
        for supervised in parts:
            if supervised.part.running:
                processes.signal_group(supervised.part.pid, signal.SIGKILL)  # type: ignore[arg-type]

    for signum in STOP_SIGNALS:  # a second Ctrl-C: no more waiting
        signal.signal(signum, kill_now)
    started = time.monotonic()
    processes.stop_all([s.part for s in parts])
    for supervised in parts:
        supervised.pid_file.unlink(missing_ok=True)
        supervised.hold_file.unlink(missing_ok=True)
    if running:
        log(f"stopped in {time.monotonic() - started:.1f} s; nothing of it is left running")


def main() -> int:
    global _name
    env = environment()
    _name = env.get("SUPERVISOR_NAME") or "make run"
    try:
        names = chosen_parts(env)
    except ValueError as error:
        log(f"ERROR {error}")
        return 2
    if "rasa" in names:
        try:
            verify(ROOT / env["RASA_MODEL"])
        except ModelIntegrityError as error:
            log(f"ERROR {error}")
            return 1
        env["RASA_RELOAD_TOKEN"] = reload_token(env)
    run_dir = ROOT / env.get("RUN_DIR", "var/run")
    run_dir.mkdir(parents=True, exist_ok=True)
    log_dir = ROOT / env["LOG_DIR"] if env.get("LOG_DIR") else None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
    parts: List[Supervised] = []
    for name in names:
        make, stem = PARTS[name]
        part = make(env, log_dir / f"{stem}.log" if log_dir else None)
        part.die_with_parent = True
        parts.append(Supervised(part, stem, run_dir))
        parts[-1].hold_file.unlink(missing_ok=True)  # from an earlier run
    _Signals.received = None
    for signum in STOP_SIGNALS:
        signal.signal(signum, _on_stop_signal)
    try:
        begun = time.monotonic()
        for supervised in parts:
            supervised.start(begun)
            log(f"the {supervised.name} started (pid {supervised.part.pid})")
        # Starting: every part must answer once; one that stops meanwhile is a configuration problem.
        while any(s.state == "starting" for s in parts):
            now = time.monotonic()
            for supervised in parts:
                if supervised.state != "starting":
                    continue
                if not supervised.part.running:
                    code = supervised.part.process.returncode if supervised.part.process else None
                    where = f" ({log_dir / (supervised.stem + '.log')})" if log_dir else ""
                    log(
                        f"ERROR the {supervised.name} {how_it_ended(code)} before answering at "
                        f"{supervised.part.health_url}; see its messages above{where}"
                    )
                    stop_everything(parts, "could not start")
                    return 1
                if supervised.part.answers(timeout=1.0):
                    supervised.answered(now)
                elif now - supervised.started > START_SECONDS:
                    url = supervised.part.health_url
                    log(f"ERROR the {supervised.name} did not answer at {url} within {START_SECONDS:.0f} s")
                    stop_everything(parts, "could not start")
                    return 1
            time.sleep(POLL_SECONDS / 2)
        print(banner(env, names), flush=True)
        while True:
            now = time.monotonic()
            for supervised in parts:
                supervised.check(now)
            time.sleep(POLL_SECONDS)
    except Stop:
        pass
    finally:
        signum = _Signals.received
        stop_everything(parts, f"{signal.Signals(signum).name} received" if signum else "stopping")
    return 0


if __name__ == "__main__":
    sys.exit(main())
