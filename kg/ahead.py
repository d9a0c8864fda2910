"""YAML record files parsed ahead, in a child process, while `kg load` starts.

Parsing YAML is the slowest part of reading records (a 10,000-record case's four YAML files:
0.35 s, one core) and it comes first, while the database has nothing to do. `kg load` forks
a child as soon as it has found its files; the child parses about half of the YAML (by size)
and hands each result back through a pipe (pickled: 0.02 s to read back), while the load
parses the other half. The results are exactly what kg.readers.read_yaml gives in the
process itself, which is also what happens whenever the child cannot be used: not on Linux,
other threads running (a fork copies one thread only), a file above
kg.readers.YAML_MEMO_BYTES, or a child that stopped early.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .readers import YAML_MEMO_BYTES, FileResult, discover, display_path, read_yaml


class _Child:
    def __init__(self, pid: int, pipe: IO[bytes], files: list[Path]):
        self.pid, self.pipe, self.files = pid, pipe, set(files)
        self.done: dict[Path, FileResult] = {}

    def take(self, path: Path) -> FileResult | None:
        if path not in self.files:
            return None
        self.files.discard(path)
        while path not in self.done and not self.pipe.closed:
            try:
                got, result = pickle.load(self.pipe)
            except Exception:  # (the child stopped: the caller parses the file itself)
                self.close()
                break
            self.done[got] = result
        return self.done.pop(path, None)

    def close(self) -> None:
        if not self.pipe.closed:
            self.pipe.close()  # a child still writing gets a broken pipe and ends
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


_current: _Child | None = None


def owns(path: Path) -> bool:
    """Whether the child parses this file (the load parses its own first)."""
    return _current is not None and path in _current.files


def take(path: Path) -> FileResult | None:
    """The child's parse of this YAML file (waiting for it), or None: parse it here."""
    return _current.take(path) if _current is not None else None


def _childs_share(paths: list[str | Path]) -> list[Path]:
    """The YAML files the child parses: about half of their bytes (the load needs them all
    before it checks a record, kg.inputs.RecordInput.prescan: the child parses its half while
    the load parses the other), largest files first to the child, kept in input order."""
    sizes: dict[Path, int] = {}
    for path, _case_dir in discover(paths).files:
        if path.suffix.lower() in (".yaml", ".yml"):
            try:
                sizes[path] = path.stat().st_size
            except OSError:
                pass  # reported when the file is read
    child: set[Path] = set()
    mine = theirs = 0
    for path in sorted(sizes, key=lambda p: -sizes[p]):
        if theirs <= mine and sizes[path] <= YAML_MEMO_BYTES:
            child.add(path)
            theirs += sizes[path]
        else:
            mine += sizes[path]
    return [p for p in sizes if p in child]


def _parse_in_child(files: list[Path], fd: int) -> None:
    import gc

    gc.set_threshold(100_000, 50, 100)  # (as a load: few cycles, many objects)
    # All parsed before any is handed over: a pipe holds 64 KB, and the load reads from it
    # only once it has parsed its own share (RecordInput.prescan).
    blobs = [pickle.dumps((p, read_yaml(p, display_path(p))), protocol=5) for p in files]
    with os.fdopen(fd, "wb") as out:
        for blob in blobs:
            out.write(blob)


@contextmanager
def parsing(paths: list[str | Path]) -> Iterator[None]:
    """Within: the YAML files under ``paths`` are being parsed by a child (see above)."""
    global _current
    files = _childs_share(paths) if _can_fork() and _current is None else []
    if not files:
        yield
        return
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: parse, hand over, leave without running the parent's exit code
        code = 1
        try:
            os.close(read_fd)
            _parse_in_child(files, write_fd)
            code = 0
        except BaseException:
            pass
        finally:
            os._exit(code)
    os.close(write_fd)
    _current = _Child(pid, os.fdopen(read_fd, "rb"), files)
    try:
        yield
    finally:
        child, _current = _current, None
        child.close()


def _can_fork() -> bool:
    return (
        sys.platform == "linux"
        and hasattr(os, "fork")
        and threading.active_count() == 1
        and os.environ.get("KG_PARSE_AHEAD", "1") != "0"
    )
