"""Processes of the cluster: started detached with pid files, found again, checked and stopped."""

import os
import pwd
import signal
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence

STOP_TIMEOUT = 20.0


class ClusterError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[cluster] {message}", flush=True)


def is_root() -> bool:
    return os.geteuid() == 0


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def as_user(user: Optional[str], command: Sequence[str]) -> List[str]:
    """The command run as `user` when we are root (services do not run as root), else as is."""
    if user and is_root() and user_exists(user):
        return ["runuser", "-u", user, "--", *command]
    return list(command)


def give_to(user: Optional[str], *paths: Path) -> None:
    if user and is_root() and user_exists(user):
        entry = pwd.getpwnam(user)
        for path in paths:
            os.chown(path, entry.pw_uid, entry.pw_gid)


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def wait_for(
    what: str,
    check: Callable[[], bool],
    timeout: float,
    alive: Optional[Callable[[], bool]] = None,
    log_file: Optional[Path] = None,
) -> None:
    deadline = time.time() + timeout
    problem = f"did not answer within {timeout:.0f} s"
    while time.time() < deadline:
        if check():
            return
        if alive is not None and not alive():
            problem = "stopped while starting"
            break
        time.sleep(0.3)
    raise ClusterError(f"{what} {problem}" + (f"; the end of {log_file}:\n{tail(log_file, 15)}" if log_file else ""))


def cmdline(pid: int) -> List[str]:
    try:
        return [part for part in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0") if part]
    except OSError:
        return []


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    state = ""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        pass
    return state != "Z"


def read_pid(pid_file: Path) -> Optional[int]:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def environ_of(pid: int) -> Dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    except OSError:
        return {}
    return dict(entry.split("=", 1) for entry in raw.split("\0") if "=" in entry)


def ours(pid: Optional[int], marks: Sequence[str], environ: Optional[Mapping[str, str]] = None) -> bool:
    """The process with this pid is alive and is the one we started: its command line has all
    marks, and its environment has the given values (for processes whose command lines are alike)."""
    if pid is None or not pid_alive(pid):
        return False
    line = " ".join(cmdline(pid))
    if not all(mark in line for mark in marks):
        return False
    if environ:
        found = environ_of(pid)
        return all(found.get(name) == value for name, value in environ.items())
    return True


def stop_pid(pid: int, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    wait_stopped(pid, timeout)


def wait_stopped(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """Wait for a process already told to stop; SIGKILL it if it is still there after timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline and pid_alive(pid):
        time.sleep(0.1)
    if pid_alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        while pid_alive(pid):
            time.sleep(0.05)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
