"""Start, watch and stop the parts (action server, Rasa server, demo page) as child processes."""

import ctypes
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Dict, List, Optional, Sequence, Union

from channels.refusal import REQUEST_MAX_BYTES
from server import commands
from server.settings import ROOT

PR_SET_PDEATHSIG = 1
STOP_SECONDS = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def _die_with_parent(parent: int) -> Callable[[], None]:
    """For the child (run between fork and exec): receive SIGTERM when the process that started it
    dies, even by SIGKILL (Linux). If the parent died before that was set up, exit at once."""

    def arrange() -> None:
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except OSError:
            return
        if os.getppid() != parent:  # the parent is already gone: nobody would ever stop this child
            os._exit(1)

    return arrange


def signal_group(pid: int, sig: int) -> bool:
    """Send sig to the process group of a part (its own session: the part and anything it started)."""
    try:
        os.killpg(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


@dataclass
class Part:
    """One part: its command, environment, the URL that answers 200 when it is up, and where it logs."""

    name: str
    command: List[str]
    env: Dict[str, str]
    health_url: str
    log: Union[Path, None] = None  # None: the parent's stdout and stderr
    # Only from a single-threaded parent (the supervisor): preexec_fn is unsafe with threads.
    die_with_parent: bool = False
    process: Optional[subprocess.Popen] = field(default=None, repr=False)
    _log_file: Optional[IO[bytes]] = field(default=None, repr=False)

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> "Part":
        if self._log_file is None and self.log is not None:
            self._log_file = open(self.log, "ab")
        output = self._log_file
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT if output else None, start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()) if self.die_with_parent else None,
        )  # fmt: skip
        return self

    def answers(self, timeout: float = 2.0) -> bool:
        return self.running and answers(self.health_url, timeout)

    def wait_until_up(self, timeout: float = 120.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.running:
                code = self.process.returncode if self.process else None
                raise RuntimeError(f"the {self.name} exited with {code} before answering at {self.health_url}")
            if answers(self.health_url):
                return
            time.sleep(0.3)
        raise RuntimeError(f"the {self.name} did not answer at {self.health_url} within {timeout:.0f} s")

    def terminate(self) -> None:
        """SIGTERM to the part and whatever it started (its process group), without waiting."""
        if self.running:
            assert self.process is not None
            if not signal_group(self.process.pid, signal.SIGTERM):
                self.process.terminate()

    def reap(self) -> None:
        """After the part has exited: SIGKILL anything it left behind in its process group, and
        close its log."""
        if self.process is not None and self.process.poll() is not None:
            signal_group(self.process.pid, signal.SIGKILL)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        stop_all([self], timeout)


def stop_all(parts: Sequence[Part], timeout: float = STOP_SECONDS) -> None:
    """Stop the parts at once: SIGTERM to each (with what it started), then SIGKILL to those still
    running after `timeout` seconds; nothing of them is left running."""
    for part in parts:
        part.terminate()
    deadline = time.monotonic() + timeout
    for part in parts:
        if part.process is None:
            continue
        try:
            part.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            signal_group(part.process.pid, signal.SIGKILL)
            part.process.kill()
            part.process.wait()
    for part in parts:
        part.reap()


def action_server(env: Dict[str, str], log: Optional[Path] = None) -> Part:
    port = int(env["ACTION_SERVER_PORT"])
    return Part("action server", commands.action_server(port), dict(env, SANIC_HOST="127.0.0.1"),
                f"http://127.0.0.1:{port}/health", log)  # fmt: skip


def rasa_server(env: Dict[str, str], log: Optional[Path] = None) -> Part:
    port = int(env["RASA_PORT"])
    command = commands.rasa_server(env["RASA_MODEL"], env["ENDPOINTS"], env["RASA_INTERFACE"], port)
    # Sanic's own error answers (an unknown path or method) as JSON, never an HTML or text page;
    # the channels answer everything else themselves. Bodies up to REQUEST_MAX_BYTES (1 MiB, what
    # nginx lets through to the social webhooks), not Sanic's 100 MB: a larger one gets 413 with
    # the assistant's reply (101, 999) on the REST webhook (channels/refusal.py).
    env = dict(
        env,
        SANIC_FALLBACK_ERROR_FORMAT=env.get("SANIC_FALLBACK_ERROR_FORMAT") or "json",
        SANIC_REQUEST_MAX_SIZE=env.get("SANIC_REQUEST_MAX_SIZE") or str(REQUEST_MAX_BYTES),
    )
    return Part("Rasa server", command, env, f"http://127.0.0.1:{port}/webhooks/rest/", log)


def demo_page(env: Dict[str, str], log: Optional[Path] = None) -> Part:
    port = int(env["WEB_PORT"])
    command = commands.demo_page(port, f"http://localhost:{env['RASA_PORT']}")
    return Part("demo page server", command, env, f"http://127.0.0.1:{port}/", log)
