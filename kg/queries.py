"""Saved Cypher queries: one `.cypher` file each, documented by a YAML header in comments.

    // name: denials
    // title: Every denial
    // category: claims and denials
    // description: Who denied what, when, with the statement and its sources.
    // mode: read                 # or write
    // returns: rows              # or graph (nodes, relationships, paths)
    // params:
    //   - {name: id, type: string, required: true, description: The entity's id}
    MATCH ...

Parameter types: string, int, float, bool, date, list (of strings), search (text for the
full-text index, escaped for Lucene). A date parameter takes 2017, 2017-04 or 2017-04-01 and
is sent as the first day of that span, or the last day with `span: end`. A string or list
parameter may declare `values`: a list of the values it accepts, or the name of one of the
record format's enumerations (``ENUMS``); anything else is refused before the query runs,
with "did you mean".
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional


from .dates import PartialDate
from .errors import InputError, Problem, UsageError
from .paths import resource_dir

PARAM_TYPES = ("string", "int", "float", "bool", "date", "list", "search")
MODES = ("read", "write")
RETURNS = ("rows", "graph")
NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HEADER_KEYS = {"name", "title", "description", "category", "mode", "returns", "params",
               "overrides"}
PARAM_KEYS = {"name", "type", "required", "default", "description", "span", "values", "min", "max"}


def _enums() -> dict[str, tuple[str, ...]]:
    from . import records as R

    return {
        "stance": R.STANCES,
        "role": R.PARTICIPANT_ROLES,
        "status": R.EVENT_STATUSES,
        "source-kind": R.SOURCE_KINDS,
        "organization-kind": R.ORGANIZATION_KINDS,
        "location-kind": R.LOCATION_KINDS,
        "entity-kind": R.ENTITY_KINDS,
        "precision": ("year", "month", "day"),
        "date-bound": R.DATE_BOUNDS,
        "reliability": R.RELIABILITY,
        "statement-link": tuple(R.STATEMENT_LINKS),
        "relationship-type": R.ALL_REL_TYPES,
    }


# Named enumerations a parameter's `values` may refer to (from the record format).
ENUMS: dict[str, tuple[str, ...]] = _enums()


@dataclass
class Param:
    name: str
    type: str
    required: bool
    default: Any
    description: str
    span: str = "start"
    values: Optional[tuple[str, ...]] = None  # the accepted values, when enumerated
    min: Optional[float] = None   # int and float parameters: the accepted range, inclusive
    max: Optional[float] = None

    def as_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "type": self.type, "required": self.required,
               "default": self.default}
        if self.values is not None:
            out["values"] = list(self.values)
        for key in ("min", "max"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def range_text(self) -> str:
        """'1 to 3', 'at least 1', 'at most 10' (empty without a range)."""
        if self.min is not None and self.max is not None:
            return f"{_num(self.min)} to {_num(self.max)}"
        if self.min is not None:
            return f"at least {_num(self.min)}"
        if self.max is not None:
            return f"at most {_num(self.max)}"
        return ""


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass
class SavedQuery:
    name: str
    title: str
    description: str
    category: str
    mode: str
    returns: str
    params: list[Param]
    cypher: str
    path: Path
    origin: str = "bundled"
    overrides: bool = False   # the header says it replaces a bundled query of the same name

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "category": self.category,
                "description": self.description, "mode": self.mode, "returns": self.returns,
                "params": [p.as_dict() for p in self.params], "origin": self.origin}


# Line breaks (any Unicode kind) and other control characters: a one-line field has none.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*|/\*.*?\*/",
                      re.S)
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def cypher_parameters(cypher: str) -> set[str]:
    """The $names a Cypher text uses, outside strings, quoted names and comments."""
    return set(_PARAM.findall(_STRINGS.sub(" ", cypher)))


def parse_query_file(path: Path, origin: str = "bundled") -> SavedQuery:
    from .safeio import read_text

    shown = str(path)
    try:
        text = read_text(path)
    except OSError as e:
        raise InputError([Problem(shown, 0, path.stem, "-",
                                  f"cannot read: {e.strerror or e}")]) from None
    except UnicodeDecodeError as e:
        raise InputError([Problem(shown, 0, path.stem, "-", f"cannot read: {e}")]) from None
    lines = text.splitlines()
    header: list[str] = []
    body_start = 0
    for i, line in enumerate(lines):
        if line.startswith("//"):
            header.append(line[2:][1:] if line[2:3] == " " else line[2:])
            body_start = i + 1
        elif not line.strip() and not header:
            body_start = i + 1
        else:
            break
    cypher = "\n".join(lines[body_start:]).strip()
    problems: list[Problem] = []

    def bad(line: int, fld: str, msg: str) -> None:
        problems.append(Problem(shown, line, path.stem, fld, msg))

    from .readers import YamlLimitError, load_limited_yaml

    try:  # the limits of record files: alias bombs, depth, duplicate keys
        meta = load_limited_yaml("\n".join(header), record_scalars=False) if header else None
    except YamlLimitError as e:
        raise InputError([Problem(shown, e.line, path.stem, "header",
                                  f"the header is not valid YAML: {e.message}")]) from None
    if not isinstance(meta, dict):
        raise InputError([Problem(shown, 1, path.stem, "header",
                                  "a saved query starts with a header of '// key: value' lines "
                                  "(name, title, description, category, params, mode, returns)")])

    def line_of(key: str) -> int:
        for i, h in enumerate(header):
            if re.match(rf"^\s*-?\s*{re.escape(key)}\s*:", h) or f"name: {key}" in h:
                return i + 1
        return 1

    for key in meta:
        if key not in HEADER_KEYS:
            bad(line_of(str(key)), str(key), f"unknown header key; expected: {', '.join(sorted(HEADER_KEYS))}")
    name = meta.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        bad(line_of("name"), "name", f"expected a name like 'who-denied-what', got {name!r}")
        name = path.stem
    for key in ("title", "description", "category"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            bad(line_of(key), key, "required text is missing")
        elif key != "description" and _CONTROL.search(meta[key].strip()):
            bad(line_of(key), key, "must be one line of text (no line breaks or control "
                                   "characters)")
    overrides = meta.get("overrides", False)
    if not isinstance(overrides, bool):
        bad(line_of("overrides"), "overrides", f"expected true or false, got {overrides!r}")
    mode = meta.get("mode", "read")
    if mode not in MODES:
        bad(line_of("mode"), "mode", f"expected read or write, got {mode!r}")
    returns = meta.get("returns", "rows")
    if returns not in RETURNS:
        bad(line_of("returns"), "returns", f"expected rows or graph, got {returns!r}")
    params: list[Param] = []
    raw_params = meta.get("params") or []
    if not isinstance(raw_params, list):
        bad(line_of("params"), "params", "expected a list of {name, type, ...}")
        raw_params = []
    for i, p in enumerate(raw_params):
        where = f"params[{i}]"
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            bad(line_of("params"), where, "expected a mapping with at least name and type")
            continue
        pl = line_of(p["name"])
        for key in p:
            if key not in PARAM_KEYS:
                bad(pl, f"{where}.{key}", f"unknown key; expected: {', '.join(sorted(PARAM_KEYS))}")
        if p.get("type") not in PARAM_TYPES:
            bad(pl, f"{where}.type", f"expected one of {', '.join(PARAM_TYPES)}, got {p.get('type')!r}")
            continue
        span = p.get("span", "start")
        if span not in ("start", "end"):
            bad(pl, f"{where}.span", f"expected start or end, got {span!r}")
        required = bool(p.get("required", "default" not in p))
        values = p.get("values")
        if values is not None:
            if p["type"] not in ("string", "list"):
                bad(pl, f"{where}.values", "only string and list parameters take values")
                values = None
            elif isinstance(values, str):
                if values not in ENUMS:
                    bad(pl, f"{where}.values", f"expected a list of values or one of "
                                               f"{', '.join(sorted(ENUMS))}, got {values!r}")
                    values = None
                else:
                    values = ENUMS[values]
            elif isinstance(values, list) and values and all(isinstance(v, str) for v in values):
                values = tuple(values)
            else:
                bad(pl, f"{where}.values", "expected a non-empty list of text values or the "
                                           "name of an enumeration")
                values = None
        bounds: dict[str, Optional[float]] = {"min": None, "max": None}
        for key in bounds:
            if key not in p:
                continue
            v = p[key]
            if p["type"] not in ("int", "float"):
                bad(pl, f"{where}.{key}", "only int and float parameters take min and max")
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or (p["type"] == "int" and not float(v).is_integer()):
                bad(pl, f"{where}.{key}", f"expected a number, got {v!r}")
            else:
                bounds[key] = v
        if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
            bad(pl, f"{where}.min", f"min ({bounds['min']}) is greater than max ({bounds['max']})")
        default = p.get("default")
        if (isinstance(default, (int, float)) and not isinstance(default, bool)
                and ((bounds["min"] is not None and default < bounds["min"])
                     or (bounds["max"] is not None and default > bounds["max"]))):
            bad(pl, f"{where}.default", f"{default!r} is outside min/max")
        if values is not None and default is not None and not all(
                d in values for d in (default if isinstance(default, list) else [default])):
            bad(pl, f"{where}.default", f"{default!r} is not one of its values")
        params.append(Param(p["name"], p["type"], required, default,
                            str(p.get("description", "")), span, values,
                            bounds["min"], bounds["max"]))
    if not cypher:
        bad(len(lines) or 1, "cypher", "no Cypher after the header")
    used = cypher_parameters(cypher)
    declared = {p.name for p in params}
    for missing in sorted(used - declared):
        bad(line_of("params"), "params", f"the Cypher uses ${missing}, which the header does not declare")
    for unused in sorted(declared - used):
        bad(line_of(unused), "params", f"${unused} is declared but the Cypher does not use it")
    if problems:
        raise InputError(problems)
    return SavedQuery(name=name, title=meta["title"].strip(), description=" ".join(meta["description"].split()),
                      category=meta["category"].strip(), mode=mode, returns=returns, params=params,
                      cypher=cypher, path=path, origin=origin, overrides=overrides is True)


def query_dirs(extra: tuple[str | Path, ...] = (), env: Optional[dict] = None) -> list[tuple[Path, str]]:
    """Folders in override order: bundled, then KG_QUERIES, then --queries (last wins)."""
    env = os.environ if env is None else env
    dirs: list[tuple[Path, str]] = [(resource_dir("queries"), "bundled")]
    for part in (env.get("KG_QUERIES") or "").split(os.pathsep):
        if part.strip():
            dirs.append((Path(part), part))
    for d in extra:
        dirs.append((Path(d), str(d)))
    return dirs


@dataclass
class Library:
    queries: dict[str, SavedQuery] = field(default_factory=dict)

    @classmethod
    def load(cls, extra: tuple[str | Path, ...] = ()) -> "Library":
        lib = cls()
        problems: list[Problem] = []
        for folder, origin in query_dirs(extra):
            if not folder.is_dir():
                problems.append(Problem(str(folder), 0, "-", "-", "query folder not found"))
                continue
            for path in sorted(folder.glob("*.cypher")):
                try:
                    q = parse_query_file(path, origin)
                except InputError as e:
                    problems.extend(e.problems)
                    continue
                old = lib.queries.get(q.name)
                if old is not None and old.origin == "bundled" and not q.overrides:
                    # A user query that silently replaced a bundled one would run instead of
                    # it under the same name: the user has to say so.
                    problems.append(Problem(
                        str(path), 1, q.name, "name",
                        f"a bundled query is already named {q.name!r}; rename this one, or "
                        "add 'overrides: true' to its header to replace the bundled one"))
                    continue
                lib.queries[q.name] = q
        if problems:
            raise InputError(problems)
        return lib

    def get(self, name: str) -> SavedQuery:
        q = self.queries.get(name)
        if q is None:
            import difflib

            hint = difflib.get_close_matches(name, list(self.queries), n=1)
            raise UsageError(f"no saved query named {name!r}"
                             + (f" (did you mean {hint[0]!r}?)" if hint else ""),
                             hint="`kg query list` shows them all.")
        return q


INT_MIN, INT_MAX = -2 ** 63, 2 ** 63 - 1   # Cypher integers are 64-bit


def bounded(name: str, value: Any, raw: Optional[str] = None) -> Any:
    """The value if every number in it fits Cypher (64-bit integers, finite floats); else a
    UsageError naming the parameter."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        raise UsageError(f"parameter {name!r}: {(raw or str(value))[:40]} is out of range (Cypher "
                         f"integers lie between {INT_MIN} and {INT_MAX})")
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"parameter {name!r}: {(raw or repr(value))[:40]} is out of range "
                         "(not a finite number)")
    if isinstance(value, (list, tuple)):
        for v in value:
            bounded(name, v)
    elif isinstance(value, dict):
        for v in value.values():
            bounded(name, v)
    return value


_LUCENE_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/])')


def _coerce(p: Param, value: Any) -> Any:
    def fail(expected: str) -> UsageError:
        return UsageError(f"parameter {p.name!r} expects {expected}, got {value!r}")

    if value is None:
        return None
    if p.values is not None:
        return _enumerated(p, _coerce(Param(p.name, p.type, p.required, None, p.description,
                                             p.span), value))
    if p.type in ("string", "search"):
        text = str(value)
        return _LUCENE_SPECIAL.sub(r"\\\1", text) if p.type == "search" else text
    if p.type == "int":
        if isinstance(value, bool):
            raise fail("a whole number")
        try:
            return _in_range(p, bounded(p.name, int(str(value).strip()), str(value)))
        except ValueError:
            raise fail("a whole number") from None
    if p.type == "float":
        try:
            return _in_range(p, bounded(p.name, float(str(value).strip()), str(value)))
        except ValueError:
            raise fail("a number") from None
    if p.type == "bool":
        if isinstance(value, bool):
            return value
        s = str(value).strip().lower()
        if s in ("true", "yes", "1"):
            return True
        if s in ("false", "no", "0"):
            return False
        raise fail("true or false")
    if p.type == "date":
        try:
            d = PartialDate.parse(value if not isinstance(value, str) else value.strip())
        except ValueError:
            raise fail("a date like 2017, 2017-04 or 2017-04-01") from None
        return d.last if p.span == "end" else d.first
    if p.type == "list":
        if isinstance(value, list):
            return [str(v) for v in value]
        s = str(value).strip()
        if s.startswith("["):
            try:
                parsed = json.loads(s)
            except ValueError:
                raise fail("a comma-separated list or a JSON array") from None
            if not isinstance(parsed, list):
                raise fail("a list")
            return [str(v) for v in parsed]
        return [v.strip() for v in s.split(",") if v.strip()]
    raise fail(p.type)


def _in_range(p: Param, value: Any) -> Any:
    """Refuse a number outside the parameter's declared min/max (exit 2)."""
    if (p.min is not None and value < p.min) or (p.max is not None and value > p.max):
        raise UsageError(f"parameter {p.name!r} must be {p.range_text()}, got {value!r}")
    return value


def _enumerated(p: Param, value: Any) -> Any:
    """Refuse a value that is not one of the parameter's declared values (exit 2)."""
    import difflib

    assert p.values is not None
    for v in value if isinstance(value, list) else [value]:
        if v not in p.values:
            close = difflib.get_close_matches(v, list(p.values), n=1, cutoff=0.5)
            if not close:
                close = [x for x in p.values if x.startswith(v[:3])][:1] if len(v) >= 3 else []
            raise UsageError(f"parameter {p.name!r} expects one of {', '.join(p.values)}; "
                             f"got {v!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return value


def bind(query: SavedQuery, given: dict[str, Any]) -> dict[str, Any]:
    """Typed parameters from `-p name=value` text; every problem names the parameter."""
    declared = {p.name: p for p in query.params}
    for name in given:
        if name not in declared:
            expected = ", ".join(declared) or "no parameters"
            raise UsageError(f"query {query.name!r} has no parameter {name!r} (it takes: {expected})")
    out: dict[str, Any] = {}
    for p in query.params:
        if p.name in given:
            out[p.name] = _coerce(p, given[p.name])
        elif p.required:
            raise UsageError(f"query {query.name!r} needs parameter {p.name!r} ({p.type}: "
                             f"{p.description})", hint=f"Add -p {p.name}=VALUE.")
        else:
            out[p.name] = _coerce(p, p.default)
    return out


def parse_cli_params(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise UsageError(f"parameter {pair!r} must be written NAME=VALUE")
        name, value = pair.split("=", 1)
        out[name.strip()] = value
    return out


def run(store: Any, query: SavedQuery, params: dict[str, Any]) -> Any:
    """Run a saved query: read queries in read transactions (a write in one fails), after
    their plan is checked (LOAD CSV, procedures outside the allow-list, administration
    commands are refused; see Store.check_plan)."""
    return store.run_user(query.cypher, params, write=query.mode == "write")


def docs_markdown(lib: Library) -> str:
    """docs/queries.md, generated from the headers of the bundled queries."""
    out = ["# Saved queries", "",
           "Generated from the headers of `queries/*.cypher` by `make docs`; a test fails when "
           "this page is stale. Run one with `kg query run NAME -p name=value ...`; write your "
           "own as described in [writing-queries.md](writing-queries.md).", ""]
    by_cat: dict[str, list[SavedQuery]] = {}
    for q in sorted(lib.queries.values(), key=lambda q: (q.category, q.name)):
        by_cat.setdefault(q.category, []).append(q)
    for cat, qs in by_cat.items():
        out += [f"## {cat}", ""]
        for q in qs:
            out += [f"### `{q.name}`: {q.title}", "", q.description, "",
                    f"Mode: {q.mode}. Returns: {q.returns}.", ""]
            if q.params:
                out += ["| parameter | type | required | default | description |",
                        "| --- | --- | --- | --- | --- |"]
                for p in q.params:
                    default = "" if p.default is None else f"`{p.default}`"
                    desc = p.description
                    if p.values is not None:
                        desc += f" (one of: {', '.join(p.values)})"
                    if p.range_text():
                        desc += f" ({p.range_text()})"
                    out.append(f"| `{p.name}` | {p.type} | {'yes' if p.required else 'no'} | "
                               f"{default} | {desc} |")
                out.append("")
            example = " ".join(f"-p {p.name}=..." for p in q.params if p.required)
            out += ["```sh", f"kg query run {q.name} {example}".rstrip(), "```", ""]
    return "\n".join(out)
