"""Why a start failed: the lines each log gained during this run, the cause they show, and
the next step."""

from __future__ import annotations

import re
from typing import Any

from ..errors import RuntimeUnavailable
from .procs import squatter_message


class DiagnosisMixin:
    """A part of kg.runtime.LocalNeo4j (``self`` is one: typed Any here)."""

    _LOGS = ("console.log", "neo4j.log", "debug.log")

    def _log_marks(self: Any) -> dict:
        """Where each log ends before a start: what follows was written by this run."""
        marks = {}
        for name in self._LOGS:
            try:
                marks[name] = (self.logs_dir / name).stat().st_size
            except OSError:
                marks[name] = 0
        return marks

    def run_log(self: Any, marks: dict | None) -> dict[str, list[str]]:
        """The lines each log gained since ``marks`` (a rotated log: all of it)."""
        out: dict[str, list[str]] = {}
        for name in self._LOGS:
            p = self.logs_dir / name
            try:
                size = p.stat().st_size
                start = (marks or {}).get(name, 0)
                with open(p, "rb") as f:
                    f.seek(start if start <= size else 0)
                    data = f.read()[-2_000_000:]
            except OSError:
                continue
            out[name] = data.decode("utf-8", "replace").splitlines()
        return out

    _CAUSES = (
        ("port", re.compile(r"Address already in use|BindException|already in use", re.I)),
        (
            "disk",
            re.compile(
                r"No space left on device|not enough (free )?disk space|"
                r"disk (is )?full",
                re.I,
            ),
        ),
        (
            "store",
            re.compile(
                r"recover|corrupt|UnderlyingStorageException|"
                r"transaction log|LogEntry|checkpoint|Failed to start database|"
                r"DatabaseStartAbortedException|store.*(version|format)",
                re.I,
            ),
        ),
        ("memory", re.compile(r"OutOfMemoryError|Cannot allocate memory|Could not reserve", re.I)),
        (
            "config",
            re.compile(
                r"Invalid|Unrecognized setting|ConfigurationException|"
                r"Error evaluating value",
                re.I,
            ),
        ),
    )

    def start_failure(self: Any, what: str, port: int, marks: dict | None) -> RuntimeUnavailable:
        """The error for a start that failed: the cause found in this run's logs (console.log
        first), the lines that show it, and the next step."""
        logs = self.run_log(marks)
        lines = [
            f"{name}: {ln.strip()}"
            for name in self._LOGS
            for ln in logs.get(name, [])
            if ln.strip()
        ]
        errors = [ln for ln in lines if re.search(r"ERROR|Exception|Caused by|error", ln)]
        for cause, pattern in self._CAUSES:  # noqa: B007 (the cause found is used below)
            hit = next((ln for ln in errors + lines if pattern.search(ln)), None)
            if hit:
                break
        else:
            cause, hit = "unknown", None
        shown = ([hit] if hit else []) + [ln for ln in errors[-6:] if ln != hit]
        shown = shown or lines[-8:] or ["(this run wrote nothing to the logs)"]
        shown = [ln if len(ln) <= 300 else ln[:297] + "..." for ln in shown[:8]]
        hints = {
            "port": squatter_message(port) + ". Stop that program, or choose another port "
            "for kg with KG_BOLT_PORT.",
            "disk": "The disk is full. Free space, then `kg db start` again. If the database "
            "still does not recover, `kg db restore FILE --yes` brings back your last "
            "dump.",
            "store": f"The database in {self.data_dir} could not recover. If a full disk "
            "was the cause, free space and `kg db start` again; otherwise "
            "`kg db restore FILE --yes` brings back your last dump (or move that "
            "folder aside to start empty).",
            "memory": "Java could not get the memory it asked for: lower KG_NEO4J_HEAP or "
            "KG_NEO4J_PAGECACHE, or free memory, then `kg db start`.",
            "config": f"A setting was refused; check KG_NEO4J_* values ({self.conf_dir}/"
            "neo4j.conf is rewritten at each start).",
            "unknown": f"The full logs are in {self.logs_dir}. Run `kg db start` again; if "
            "it fails the same way, report the lines above.",
        }
        return RuntimeUnavailable(
            f"{what}; no server was left running. From this run's logs:\n  " + "\n  ".join(shown),
            hint=hints[cause],
        )
