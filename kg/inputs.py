"""Where a load's records come from: record files (found under the paths given) or raws that
a reader made in memory (sheets through a mapping, FtM entities)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import ahead
from .errors import Problem
from .readers import FileResult, RawRecord, copied, discover, display_path, iter_file

# An input up to this size keeps its validated records between a load's two passes, instead
# of reading and validating them again (a 6.5 MB case of 10,000 records: peak memory of
# `kg load` 216 MB, against 212 MB without; its YAML is kept parsed either way).
KEEP_BYTES = 32 * 2**20
KEEP_RAWS = 200_000
# A JSON line whose "confidential" may be true (not followed by false or null everywhere):
# prescan parses only those (and lines naming "case").
_MAY_BE_MARKED = re.compile(rb'"confidential"\s*:\s*(?!false\b|null\b)')


class RecordInput:
    """Where records come from: files (JSON lines streamed) or raws a reader made in memory.

    Iterable more than once: validation reads it once, a load reads it again to write, so
    a large input is never held in memory whole (JSON lines are read again; a YAML file,
    slow to parse and small, is parsed once and kept, up to kg.readers.YAML_MEMO_BYTES).
    """

    def __init__(
        self,
        files: Iterable[tuple[Path, str]] = (),
        raws: list[RawRecord] | None = None,
        problems: Iterable[Problem] = (),
        ignored: Iterable[Path] = (),
    ):
        self.files = list(files)
        self.raws = raws
        self.memo: dict[Path, FileResult] = {}  # YAML files parsed once (kg.readers.iter_file)
        self.problems = list(problems)
        self.ignored = list(ignored)

    @classmethod
    def from_paths(cls, paths: list[str | Path]) -> RecordInput:
        found = discover(paths)
        return cls(found.files, None, found.problems, found.ignored)

    def small(self) -> bool:
        """Whether the validated records may stay in memory from one pass to the next (up to
        KEEP_BYTES of files, or KEEP_RAWS records made in memory)."""
        if self.raws is not None and len(self.raws) > KEEP_RAWS:
            return False
        size = 0
        for path, _case_dir in self.files:
            try:
                size += path.stat().st_size
            except OSError:
                pass  # reported when the file is read
        return size <= KEEP_BYTES

    def __iter__(self) -> Iterator[RawRecord | Problem]:
        if self.raws is not None:
            yield from self.raws
        for path, case_dir in self.files:
            self._from_child(path)
            yield from iter_file(path, case_dir, self.memo)

    def _from_child(self, path: Path) -> None:
        """A YAML file the load's child parsed (kg.ahead) is kept like one parsed here."""
        if path not in self.memo:
            result = ahead.take(path)
            if result is not None:
                self.memo[path] = result

    def prescan(self) -> tuple[list[RawRecord], set[str]]:
        """Case declarations (a folder's case.yaml may sort after its other files), and the
        ids of records marked confidential (any true-looking value), found before any other
        record is checked. JSON lines: only lines naming "case", or "confidential" not followed
        by false or null, are parsed; YAML files are parsed (and kept, kg.readers)."""
        marked: set[str] = set()

        def mark(data: Any) -> None:
            if isinstance(data, dict) and data.get("confidential") not in (None, False, "false"):
                if isinstance(data.get("id"), str):
                    marked.add(data["id"])

        if self.raws is not None:
            for r in self.raws:
                mark(r.data)
            return [r for r in self.raws if r.kind == "case"], marked
        out: list[tuple[int, RawRecord]] = []
        # YAML files the load's child parses come last (kg.ahead): the child parses them
        # while this process goes through the others.
        order = sorted(range(len(self.files)), key=lambda i: ahead.owns(self.files[i][0]))
        for i in order:
            path, case_dir = self.files[i]
            if path.suffix.lower() == ".jsonl":
                try:
                    with open(path, "rb") as fh:
                        lines = [
                            (n, ln)
                            for n, ln in enumerate(fh, start=1)
                            if b'"case"' in ln
                            or (b'"confidential"' in ln and _MAY_BE_MARKED.search(ln))
                        ]
                except OSError:
                    continue
                for n, ln in lines:
                    try:
                        obj = json.loads(ln.decode("utf-8-sig" if n == 1 else "utf-8"))
                    except ValueError:
                        continue  # reported when the file is read
                    mark(obj)
                    if isinstance(obj, dict) and obj.get("record") == "case":
                        obj.pop("record")
                        out.append(
                            (i, RawRecord("case", obj, display_path(path), n, {}, 1, case_dir))
                        )
            else:
                self._from_child(path)
                for item in iter_file(path, case_dir, self.memo, copy=False):
                    if isinstance(item, RawRecord):
                        mark(item.data)
                        if item.kind == "case":
                            out.append((i, replace(item, data=copied(item.data))))
        return [raw for _i, raw in sorted(out, key=lambda x: x[0])], marked
