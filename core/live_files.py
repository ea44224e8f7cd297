"""Content that staff edit (the catalogue, the emergency patterns), read again when a file changes.

The next message after a valid edit uses the new version, in every process that reads it (the Rasa
server, the action server, each replica). An edit that does not validate is logged and the last
good version stays in use, so a half-saved file never takes the assistant down (`make validate`
says what is wrong).
"""

import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable, Dict, Generic, Iterable, List, Optional, Tuple, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
Signature = Tuple[Tuple[str, int, int], ...]
# A folder changed this soon before it was listed may change again with the same modification
# time (file systems keep it to a clock tick), so it is listed again until it is older than that.
SAME_TICK_NS = 1_000_000_000


def signature(paths: Iterable[Path]) -> Signature:
    """Each file's path, modification time and size (a missing file counts as changed)."""
    found = []
    for name in sorted(map(os.fspath, paths)):
        try:
            status = os.stat(name)
            found.append((name, status.st_mtime_ns, status.st_size))
        except OSError:
            found.append((name, -1, -1))
    return tuple(found)


class LiveContent(Generic[T]):
    """`get(source)` parses `files(source)` with `parse(source)`, again only when one of them changed.
    `files(source)` is listed again only when one of the `folders(source)` it lists changed (a file
    added, removed or renamed there), not for every message."""

    def __init__(
        self,
        files: Callable[[Path], Iterable[Path]],
        parse: Callable[[Path], T],
        folders: Callable[[Path], Iterable[Path]],
    ) -> None:
        self._list = files
        self._folders = folders
        self._parse = parse
        self._lock = threading.Lock()
        self._listed: Dict[Path, Tuple[Signature, int, List[Path]]] = {}  # folders, when listed, files
        self._loaded: Dict[Path, Tuple[Signature, T]] = {}
        self._refused: Dict[Path, Signature] = {}

    def _files(self, source: Path) -> List[Path]:
        folders = signature(self._folders(source))
        listed = self._listed.get(source)
        if listed is None or listed[0] != folders or any(mtime > listed[1] - SAME_TICK_NS for _, mtime, _ in folders):
            listed = (folders, time.time_ns(), list(self._list(source)))
            self._listed[source] = listed
        return listed[2]

    def get(self, source: Path) -> T:
        current = signature(self._files(source))
        loaded = self._loaded.get(source)
        if loaded is not None and (loaded[0] == current or self._refused.get(source) == current):
            return loaded[1]
        with self._lock:
            try:
                value = self._parse(source)
            except ValueError as error:
                if loaded is None:
                    raise
                if self._refused.get(source) != current:
                    logger.error("Kept the last good version: the edited file is not valid: %s", error)
                    self._refused[source] = current
                return loaded[1]
            self._loaded[source] = (current, value)
            self._refused.pop(source, None)
            return value

    def forget(self, source: Optional[Path] = None) -> None:
        with self._lock:
            if source is None:
                self._loaded.clear()
                self._listed.clear()
            else:
                self._loaded.pop(source, None)
                self._listed.pop(source, None)
