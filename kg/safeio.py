"""Reading and writing files without side effects on what is not kg's own.

- kg reads only regular files: a FIFO, a device or a socket given as input (or lying in a
  query folder) is refused by name, never opened for a blocking read that could hang.
- kg writes every output file to a temporary file in the target folder and renames it over
  the target only when complete: a failed export or dump leaves the previous file as it was
  and no partial file behind. Sensitive outputs are created with mode 0600.
- Before large writes kg checks the free space of the target's file system.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .errors import KgError, UsageError

# Below this, kg refuses to start a load, an import, an export or a dump (KG_MIN_FREE_MB).
DEFAULT_MIN_FREE_MB = 64


class NotRegularFile(OSError):
    """A path that is not a regular file (FIFO, device, socket, folder)."""

    def __init__(self, message: str):
        super().__init__(errno.EINVAL, message)


def kind_of(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def regular_file_problem(path: Path) -> str | None:
    """None if ``path`` is a regular file (after symlinks), else what it is instead."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        return f"cannot read: {e.strerror}"
    return (
        None
        if stat.S_ISREG(mode)
        else f"{kind_of(mode)}, not a regular file; kg reads only regular files"
    )


def read_bytes(path: Path) -> bytes:
    """The bytes of a regular file. Opened non-blocking and checked with fstat, so a FIFO
    swapped in after a check still cannot make kg wait."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(
                f"{path} is {kind_of(mode)}, not a regular file; kg reads only regular files"
            )
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    finally:
        os.close(fd)


def open_binary(path: Path) -> IO[bytes]:
    """A regular file opened for reading in binary (see read_bytes)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegularFile(
            f"{path} is {kind_of(mode)}, not a regular file; kg reads only regular files"
        )
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_text(path: Path) -> str:
    return read_bytes(path).decode("utf-8")


# --- free space ------------------------------------------------------------------------------


def free_bytes(folder: Path) -> int:
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


def min_free_bytes() -> int:
    raw = os.environ.get("KG_MIN_FREE_MB", str(DEFAULT_MIN_FREE_MB)).strip()
    if not raw.isdigit() or len(raw) > 9:
        raise UsageError(f"KG_MIN_FREE_MB must be a whole number of megabytes, not {raw[:40]!r}")
    return int(raw) * 1024 * 1024


def require_free(folder: Path, need: int, what: str) -> None:
    """Refuse to start writing ``what`` into ``folder`` when its file system has less than
    ``need`` bytes (plus the KG_MIN_FREE_MB reserve) free."""
    want = max(0, int(need)) + min_free_bytes()
    have = free_bytes(folder)
    if have < want:
        raise KgError(
            f"not enough free disk space for {what}: {have / 2**20:.0f} MB free in "
            f"{folder}, about {want / 2**20:.0f} MB needed; nothing was written.",
            hint="Free some space (or lower the reserve KG_MIN_FREE_MB) and run it again.",
        )


def tree_size(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


# --- atomic writes ---------------------------------------------------------------------------


@contextmanager
def atomic_path(target: Path, *, private: bool = False) -> Iterator[Path]:
    """A temporary path in the target's folder; renamed over ``target`` when the block ends
    without an exception, removed otherwise. ``private``: mode 0600, else 0644 (less the
    umask)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            mode = 0o600 if private else (0o666 & ~_umask())
            os.chmod(tmp_path, mode)
            with open(tmp_path, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextmanager
def atomic_dir(target: Path, *, private: bool = False) -> Iterator[Path]:
    """A temporary folder next to ``target``; when the block succeeds each file in it
    replaces the file of the same name in ``target`` (one rename each), else it is removed."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        yield tmp
        for f in sorted(tmp.iterdir()):
            if f.is_file():
                os.chmod(f, 0o600 if private else (0o666 & ~_umask()))
                os.replace(f, target / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text(target: Path, text: str, *, private: bool = False) -> None:
    with atomic_path(target, private=private) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
