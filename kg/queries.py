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
from typing import Any

from .dates import PartialDate
from .errors import InputError, Problem, UsageError
from .paths import resource_dir
from .query_file import (  # noqa: F401
    ENUMS,
    MODES,
    NAME_RE,
    PARAM_TYPES,
    RETURNS,
    Param,
    ParamHeader,
    QueryHeader,
    SavedQuery,
    cypher_parameters,
    parse_query_file,
)


def query_dirs(
    extra: tuple[str | Path, ...] = (), env: dict | None = None
) -> list[tuple[Path, str]]:
    """Folders in override order: bundled, then KG_QUERIES, then --queries (last wins)."""
    env = dict(os.environ) if env is None else env
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
    def load(cls, extra: tuple[str | Path, ...] = ()) -> Library:
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
                    problems.append(
                        Problem(
                            str(path),
                            1,
                            q.name,
                            "name",
                            f"a bundled query is already named {q.name!r}; rename this one, or "
                            "add 'overrides: true' to its header to replace the bundled one",
                        )
                    )
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
            raise UsageError(
                f"no saved query named {name!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else ""),
                hint="`kg query list` shows them all.",
            )
        return q


INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # Cypher integers are 64-bit


def bounded(name: str, value: Any, raw: str | None = None) -> Any:
    """The value if every number in it fits Cypher (64-bit integers, finite floats); else a
    UsageError naming the parameter."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        raise UsageError(
            f"parameter {name!r}: {(raw or str(value))[:40]} is out of range (Cypher "
            f"integers lie between {INT_MIN} and {INT_MAX})"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(
            f"parameter {name!r}: {(raw or repr(value))[:40]} is out of range (not a finite number)"
        )
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
        return _enumerated(
            p, _coerce(Param(p.name, p.type, p.required, None, p.description, p.span), value)
        )
    if p.type in ("string", "search"):
        text = str(value)
        return _LUCENE_SPECIAL.sub(r"\\\1", text) if p.type == "search" else text
    if p.type == "int":
        if isinstance(value, bool):
            raise fail("a whole number")
        try:
            return bounded(p.name, int(str(value).strip()), str(value))
        except ValueError:
            raise fail("a whole number") from None
    if p.type == "float":
        try:
            return bounded(p.name, float(str(value).strip()), str(value))
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


def _enumerated(p: Param, value: Any) -> Any:
    """Refuse a value that is not one of the parameter's declared values (exit 2)."""
    import difflib

    assert p.values is not None
    for v in value if isinstance(value, list) else [value]:
        if v not in p.values:
            close = difflib.get_close_matches(v, list(p.values), n=1, cutoff=0.5)
            if not close:
                close = [x for x in p.values if x.startswith(v[:3])][:1] if len(v) >= 3 else []
            raise UsageError(
                f"parameter {p.name!r} expects one of {', '.join(p.values)}; "
                f"got {v!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
            )
    return value


def bind(query: SavedQuery, given: dict[str, Any]) -> dict[str, Any]:
    """Typed parameters from `-p name=value` text; every problem names the parameter."""
    declared = {p.name: p for p in query.params}
    for name in given:
        if name not in declared:
            expected = ", ".join(declared) or "no parameters"
            raise UsageError(
                f"query {query.name!r} has no parameter {name!r} (it takes: {expected})"
            )
    out: dict[str, Any] = {}
    for p in query.params:
        if p.name in given:
            out[p.name] = _coerce(p, given[p.name])
        elif p.required:
            raise UsageError(
                f"query {query.name!r} needs parameter {p.name!r} ({p.type}: {p.description})",
                hint=f"Add -p {p.name}=VALUE.",
            )
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
    out = [
        "# Saved queries",
        "",
        "Generated from the headers of `queries/*.cypher` by `make docs`; a test fails when "
        "this page is stale. Run one with `kg query run NAME -p name=value ...`; write your "
        "own as described in [writing-queries.md](writing-queries.md).",
        "",
    ]
    by_cat: dict[str, list[SavedQuery]] = {}
    for q in sorted(lib.queries.values(), key=lambda q: (q.category, q.name)):
        by_cat.setdefault(q.category, []).append(q)
    for cat, qs in by_cat.items():
        out += [f"## {cat}", ""]
        for q in qs:
            out += [
                f"### `{q.name}`: {q.title}",
                "",
                q.description,
                "",
                f"Mode: {q.mode}. Returns: {q.returns}.",
                "",
            ]
            if q.params:
                out += [
                    "| parameter | type | required | default | description |",
                    "| --- | --- | --- | --- | --- |",
                ]
                for p in q.params:
                    default = "" if p.default is None else f"`{p.default}`"
                    desc = p.description
                    if p.values is not None:
                        desc += f" (one of: {', '.join(p.values)})"
                    out.append(
                        f"| `{p.name}` | {p.type} | {'yes' if p.required else 'no'} | "
                        f"{default} | {desc} |"
                    )
                out.append("")
            example = " ".join(f"-p {p.name}=..." for p in q.params if p.required)
            out += ["```sh", f"kg query run {q.name} {example}".rstrip(), "```", ""]
    return "\n".join(out)
