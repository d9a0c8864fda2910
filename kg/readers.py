"""Read record files (YAML, JSONL) into raw records that remember where they came from.

A raw record is a plain dict plus a map from field paths to line numbers, so that every
later error can name the file, the line, the record and the field.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
import yaml

from .errors import Problem
from .records import YAML_KEYS
from .safeio import open_binary, read_bytes, regular_file_problem
from .yamlsafe import (  # noqa: F401
    MAX_DEPTH,
    MAX_EXPANSION,
    Path_,
    YamlLimitError,
    _Loader,
    _Walker,
    _YamlProblem,
    load_limited_yaml,
)

RECORD_SUFFIXES = (".yaml", ".yml", ".jsonl")
JSONL_KINDS = (
    "case",
    "source",
    "person",
    "organization",
    "location",
    "event",
    "statement",
    "relation",
)


@dataclass
class RawRecord:
    kind: str  # case, source, person, ... relation
    data: dict[str, Any]
    file: str  # as shown to the user
    line: int  # line where the record starts
    lines: dict[Path_, int]  # field path (relative to the record) -> line
    index: int  # position among records of its kind in its file (1-based)
    case_dir: str = ""  # the folder (or file) that defines the record's case
    case: str = ""  # set by readers that know the case (sheets, FtM): wins
    field_names: dict[str, str] = field(default_factory=dict)  # field -> as the user sees it
    if_missing: bool = False  # only create: an entity already in the database is left as it is

    def line_of(self, path: Path_) -> int:
        """The line of the deepest part of ``path`` that we know."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.line

    @property
    def label(self) -> str:
        """How errors name this record: its id, else kind and position."""
        rid = self.data.get("id") if isinstance(self.data, dict) else None
        if isinstance(rid, (str, int)) and str(rid).strip():
            return str(rid)
        if self.kind == "relation" and isinstance(self.data, dict):
            f, t = self.data.get("from"), self.data.get("to")
            if isinstance(f, str) and isinstance(t, str):
                return f"relation[{f}->{t}]"
        return f"{self.kind}#{self.index}"


@dataclass
class FileResult:
    records: list[RawRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def display_path(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if not rel.startswith("..") else str(path)


# --- YAML ---------------------------------------------------------------------------------


def _decode(raw: bytes, shown: str, problems: list[Problem]) -> str | None:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        problems.append(
            Problem(
                shown,
                line,
                "-",
                "-",
                f"not valid UTF-8 (byte 0x{raw[e.start]:02x}); save the file as UTF-8",
            )
        )
        return None


def read_yaml(path: Path, shown: str) -> FileResult:
    result = FileResult()
    text = _decode(read_bytes(path), shown, result.problems)
    if text is None:
        return result
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        result.problems.append(Problem(shown, line, "-", "-", "NUL byte in a YAML file"))
        return result
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        walker = _Walker(loader)
        data = walker.value(root, ()) if root is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        what = " ".join(x for x in (e.context, e.problem) if x)
        result.problems.append(Problem(shown, line, "-", "-", f"malformed YAML: {what}"))
        return result
    except yaml.YAMLError as e:
        result.problems.append(Problem(shown, 1, "-", "-", f"malformed YAML: {e}"))
        return result
    except _YamlProblem as e:
        result.problems.append(Problem(shown, e.line, "-", "-", e.message))
        return result
    except RecursionError:
        result.problems.append(
            Problem(shown, 1, "-", "-", "malformed YAML: nested too deeply to be a record file")
        )
        return result
    finally:
        loader.dispose()
    if data is None:
        return result  # an empty file holds no records
    if not isinstance(data, dict):
        result.problems.append(
            Problem(
                shown,
                1,
                "-",
                "-",
                "a record file must be a mapping with keys such as 'people:' or 'events:'",
            )
        )
        return result
    lines = walker.lines
    per_item = sub_lines(lines, 2)
    allowed = ", ".join(["case", *YAML_KEYS])
    for key, value in data.items():
        kline = lines.get((key,), 1)
        if key == "case":
            if not isinstance(value, dict):
                result.problems.append(
                    Problem(
                        shown,
                        kline,
                        "case",
                        "case",
                        "expected a mapping with id, title, description",
                    )
                )
                continue
            result.records.append(RawRecord("case", value, shown, kline, _sub(lines, (key,)), 1))
            continue
        kind = YAML_KEYS.get(key)
        if key == "judgements":
            result.problems.append(
                Problem(
                    shown,
                    kline,
                    "-",
                    "judgements",
                    "this is a judgements file (kg resolve), not a "
                    "record file: keep it outside case folders and "
                    "pass it to `kg load` or `kg resolve apply` by name",
                )
            )
            continue
        if kind is None:
            result.problems.append(
                Problem(
                    shown,
                    kline,
                    "-",
                    str(key),
                    f"unknown top-level key {key!r}; expected one of: "
                    f"{allowed}{_suggest(str(key), ['case', *YAML_KEYS])}",
                )
            )
            continue
        if value is None:
            continue
        if not isinstance(value, list):
            result.problems.append(
                Problem(shown, kline, "-", key, f"'{key}' must be a list of {kind} records")
            )
            continue
        for i, item in enumerate(value):
            line = lines.get((key, i), kline)
            if not isinstance(item, dict):
                result.problems.append(
                    Problem(
                        shown,
                        line,
                        f"{kind}#{i + 1}",
                        "-",
                        f"each item of '{key}' must be a mapping of fields",
                    )
                )
                continue
            result.records.append(
                RawRecord(kind, item, shown, line, per_item.get((key, i), {}), i + 1)
            )
    return result


def _sub(lines: dict[Path_, int], prefix: Path_) -> dict[Path_, int]:
    n = len(prefix)
    return {p[n:]: line for p, line in lines.items() if p[:n] == prefix and len(p) > n}


def sub_lines(lines: dict[Path_, int], depth: int) -> dict[Path_, dict[Path_, int]]:
    """_sub for every prefix of ``depth`` parts at once, in one pass (a file's records: asking
    _sub once per record read the whole file's lines for each, quadratic in its size)."""
    out: dict[Path_, dict[Path_, int]] = {}
    for p, line in lines.items():
        if len(p) > depth:
            out.setdefault(p[:depth], {})[p[depth:]] = line
    return out


def _suggest(word: str, choices: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- JSONL --------------------------------------------------------------------------------


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_no_constants)
_KEY_END = re.compile(r'"[ \t\n\r]*:')
_LONG_NUMBER = re.compile(r"\d{19}")


def _keys(value: Any) -> int:
    """How many keys the objects in a parsed JSON value hold, all levels."""
    n = 0
    if type(value) is dict:
        n = len(value)
        for v in value.values():
            if type(v) is dict or type(v) is list:
                n += _keys(v)
    elif type(value) is list:
        for v in value:
            if type(v) is dict or type(v) is list:
                n += _keys(v)
    return n


def _parse_line(line: str) -> Any:
    """One JSON value, duplicate keys and NaN/Infinity refused.

    orjson parses it first. It keeps the last of two equal keys, so its answer is taken only
    when the keys it returns equal the places in the text where a key can end (a quote, then
    a colon): every key ends so, and a string value can only add places, so equal counts
    mean no key was repeated. Anything else (an error, a very large integer, a value
    quoting `":`) goes through the exact parser, whose answer and messages are the rule."""
    if _LONG_NUMBER.search(line):  # orjson reads integers beyond 64 bits as floats
        return _DECODER.decode(line)
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return _DECODER.decode(line)
    keys = len(obj) if type(obj) is dict and line.count("{") == 1 else _keys(obj)
    if keys != len(_KEY_END.findall(line)):
        return _DECODER.decode(line)
    return obj


def _depth(value: Any, depth: int = 0) -> int:
    if depth > MAX_DEPTH:
        return depth
    if isinstance(value, dict):
        return max([_depth(v, depth + 1) for v in value.values()] or [depth])
    if isinstance(value, list):
        return max([_depth(v, depth + 1) for v in value] or [depth])
    return depth


def read_jsonl(path: Path, shown: str) -> FileResult:
    result = FileResult()
    for item in iter_jsonl(path, shown):
        if isinstance(item, Problem):
            result.problems.append(item)
        else:
            result.records.append(item)
    return result


def iter_jsonl(path: Path, shown: str) -> Iterator[RawRecord | Problem]:
    """Records (and problems) of a JSON-lines file, one line at a time: memory stays flat
    however long the file is."""
    counts: dict[str, int] = {}
    with open_binary(path) as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as e:
                yield Problem(
                    shown,
                    lineno,
                    "-",
                    "-",
                    f"not valid UTF-8 (byte 0x{raw[e.start]:02x}); save the file as UTF-8",
                )
                continue
            if not line.strip():
                continue
            try:
                obj = _parse_line(line)
            except RecursionError:
                yield Problem(shown, lineno, "-", "-", "JSON nested too deeply")
                continue
            except ValueError as e:
                msg = e.msg if isinstance(e, json.JSONDecodeError) else str(e)
                yield Problem(
                    shown,
                    lineno,
                    "-",
                    "-",
                    f"invalid JSON: {msg} (each line must be one complete JSON object)",
                )
                continue
            if not isinstance(obj, dict):
                yield Problem(shown, lineno, "-", "-", "each line must be a JSON object")
                continue
            # (nesting needs brackets: lines with few of them need no walk)
            if line.count("{") + line.count("[") > MAX_DEPTH and _depth(obj) > MAX_DEPTH:
                yield Problem(shown, lineno, "-", "-", "JSON nested too deeply")
                continue
            kind = obj.pop("record", None)
            counts[str(kind)] = counts.get(str(kind), 0) + 1
            rec = RawRecord(str(kind), obj, shown, lineno, {}, counts[str(kind)])
            if kind not in JSONL_KINDS:
                what = "missing 'record' field" if kind is None else f"unknown record kind {kind!r}"
                yield Problem(
                    shown,
                    lineno,
                    rec.label,
                    "record",
                    f"{what}; expected one of: {', '.join(JSONL_KINDS)}"
                    f"{_suggest(str(kind), list(JSONL_KINDS))}",
                )
                continue
            yield rec


# --- paths --------------------------------------------------------------------------------


@dataclass
class Discovered:
    files: list[tuple[Path, str]]  # (file, case_dir it belongs to)
    ignored: list[Path]
    problems: list[Problem]


def discover(paths: list[str | Path]) -> Discovered:
    """Expand files and folders (recursively, sorted) into record files with their case."""
    files: list[tuple[Path, str]] = []
    ignored: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    for arg in paths:
        p = Path(arg)
        if not p.exists():
            problems.append(Problem(str(arg), 0, "-", "-", "no such file or folder"))
            continue
        if p.is_dir():
            found = sorted(x for x in p.rglob("*") if not x.is_dir())
            for f in found:
                if any(part.startswith(".") for part in f.relative_to(p).parts):
                    continue
                if not f.is_file():  # a FIFO, socket or device: refused by name, never read
                    if f.suffix.lower() in RECORD_SUFFIXES:
                        problems.append(
                            Problem(
                                str(f), 0, "-", "-", regular_file_problem(f) or "not a regular file"
                            )
                        )
                    else:
                        ignored.append(f)
                    continue
                if f.suffix.lower() in RECORD_SUFFIXES:
                    if f.resolve() not in seen:
                        seen.add(f.resolve())
                        files.append((f, str(p)))
                else:
                    ignored.append(f)
        elif not p.is_file():
            problems.append(
                Problem(str(arg), 0, "-", "-", regular_file_problem(p) or "not a regular file")
            )
        elif p.suffix.lower() in RECORD_SUFFIXES:
            if p.resolve() not in seen:
                seen.add(p.resolve())
                files.append((p, str(p)))
        else:
            problems.append(
                Problem(str(arg), 0, "-", "-", "not a record file: expected .yaml, .yml or .jsonl")
            )
    return Discovered(files, ignored, problems)


def read_file(path: Path) -> FileResult:
    result = FileResult()
    for item in iter_file(path):
        if isinstance(item, Problem):
            result.problems.append(item)
        else:
            result.records.append(item)
    return result


# A YAML file up to this size is parsed once per input (RecordInput keeps it for each read).
YAML_MEMO_BYTES = 16 * 2**20


def copied(value: Any) -> Any:
    """A parsed record's data, fresh for each reader (readers may change what they get)."""
    if isinstance(value, dict):
        return {k: copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copied(v) for v in value]
    return value


def iter_file(
    path: Path, case_dir: str = "", memo: dict[Path, FileResult] | None = None, copy: bool = True
) -> Iterator[RawRecord | Problem]:
    """The records and problems of one file, in order; JSON lines are streamed. ``memo``:
    YAML files already parsed by this input (up to YAML_MEMO_BYTES each), each reader getting
    its own copy of the records (``copy=False``: the kept records themselves, not to change)."""
    shown = display_path(path)
    try:
        if path.suffix.lower() == ".jsonl":
            items: Any = iter_jsonl(path, shown)
        else:
            res = memo.get(path) if memo is not None else None
            kept = res is not None
            if res is None:
                res = read_yaml(path, shown)
                if memo is not None and path.stat().st_size <= YAML_MEMO_BYTES:
                    memo[path] = res
                    kept = True
            records = (
                [replace(r, data=copied(r.data)) for r in res.records]
                if kept and copy
                else res.records
            )
            items = [*records, *res.problems]
        for item in items:
            if case_dir and isinstance(item, RawRecord):
                item.case_dir = case_dir
            yield item
    except OSError as e:
        yield Problem(shown, 0, "-", "-", f"cannot read: {e.strerror}")
