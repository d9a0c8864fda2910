"""A download's progress on the terminal (a bar on a TTY, a line per quarter otherwise), and
sizes in MB."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


class Progress:
    """A progress bar with sizes on a terminal; otherwise a few plain lines."""

    def __init__(self, total: int, count: int, source: str, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total, self.count, self.done, self.files = total, count, 0, 0
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.next_quarter = 1
        self.say(
            f"kg: fetching {count} Neo4j server jar{'s' if count != 1 else ''} "
            f"({_mb(total)}) from {source}"
        )

    def say(self, line: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(line + "\n")
        self.stream.flush()

    def add(self, n: int, finished_file: bool = False) -> None:
        with self.lock:
            self.done += n
            self.files += int(finished_file)
            now = time.monotonic()
            if self.tty:
                if finished_file or now - self.last_draw > 0.1:
                    self.last_draw = now
                    self._draw(now)
            elif (
                self.total
                and self.next_quarter < 4
                and self.done >= self.total * self.next_quarter / 4
            ):
                self.stream.write(
                    f"kg: {self.next_quarter * 25}% ({_mb(self.done)} of {_mb(self.total)})\n"
                )
                self.stream.flush()
                self.next_quarter += 1

    def _draw(self, now: float) -> None:
        frac = min(1.0, self.done / self.total) if self.total else 1.0
        width = 30
        bar = "#" * int(frac * width) + "." * (width - int(frac * width))
        rate = self.done / max(now - self.started, 1e-6)
        self.stream.write(
            f"\r\x1b[K  [{bar}] {self.done / 1e6:6.1f} / {self.total / 1e6:.1f} MB "
            f"{frac * 100:3.0f}%  {self.files}/{self.count} jars  "
            f"{rate / 1e6:.1f} MB/s"
        )
        self.stream.flush()

    def finish(self, ok: bool) -> None:
        secs = time.monotonic() - self.started
        if self.tty:
            self.stream.write("\r\x1b[K")
        if ok:
            self.say(
                f"kg: fetched {self.files} jar{'s' if self.files != 1 else ''} "
                f"({_mb(self.done)}) in {secs:.1f} s"
            )
        self.stream.flush()
