"""Sealing mapped rows: the one step the loader calls on every chunk (``Sealing.rows``)."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from .. import records as R
from ..mapping import EdgeRow, GraphRows, NodeRow
from .keys import (
    DATE_PROPS,
    EDGE_DATES,
    EDGE_KEPT,
    EDGE_KEPT_BY_TYPE,
    ID_PROPS,
    NOT_TEXT,
    SEALED_PROP,
    Keyring,
    SealKeyError,
    is_token,
)
from .scrub import Scrubber, scrub_value

# --- sealing mapped rows (the one step the loader calls) ------------------------------------

# A JSON string escape (a record's entry in ``kg_records`` is JSON): read as the character it
# stands for. Scanned as written, "\\nTestov" (a line break, then a hidden name) is the word
# "nTestov", and the name would stay in the clear.
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|(.))", re.S)
_ESCAPED = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


def _written_in(value: Any, entries: list[str]) -> bool:
    """Whether the value (a text, or a list of them) is written, as JSON strings, in the
    entries."""
    if isinstance(value, str):
        lit = orjson.dumps(value).decode()
        return any(lit in e for e in entries)
    return all(not isinstance(v, str) or _written_in(v, entries) for v in value)


def _unescaped(text: str) -> str:
    return _ESCAPE.sub(
        lambda m: chr(int(m.group(1), 16)) if m.group(1) else _ESCAPED.get(m.group(2), m.group(2)),
        text,
    )


@dataclass
class Hidden:
    pid: str
    kind: str
    label: str
    names: list[str] = field(default_factory=list)


def _lower(value: Any, level: str, last: bool) -> Any:
    """A date at a lower precision: the first (or last) day of its month or year."""
    if not isinstance(value, dt.date) or level == "day":
        return value
    if level == "month":
        if last:
            nxt = (value.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            return nxt - dt.timedelta(days=1)
        return value.replace(day=1)
    return value.replace(month=12, day=31) if last else value.replace(month=1, day=1)


_PRECISION_RANK = {"day": 0, "month": 1, "year": 2}


@dataclass
class Sealing:
    """What one load seals: its keys, the hidden records (real id -> placeholder) of the
    input and of the database, and the scrubber made from their names."""

    keys: Keyring
    hidden: dict[str, Hidden]
    scrubber: Scrubber
    dates: str = "day"
    # Renames not made yet (a dry run, or before the load may still be refused): the id each
    # renamed record has in the database now. Empty once for_load has renamed them.
    pending: dict[str, str] = field(default_factory=dict)  # stored id now -> real id
    renamed: list[str] = field(default_factory=list)  # real ids whose confidentiality changed
    _real: dict[str, str] = field(default_factory=dict)
    _now: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._real = {h.pid: rid for rid, h in self.hidden.items()}
        self._now = {real: stored for stored, real in self.pending.items()}

    def sid(self, real_id: str) -> str:
        """The id a record has in the database: its placeholder when it is confidential."""
        now = self._now.get(real_id)
        if now is not None:
            return now
        h = self.hidden.get(real_id)
        return h.pid if h is not None else real_id

    def real_id(self, stored_id: str) -> str:
        return self.pending.get(stored_id) or self._real.get(stored_id, stored_id)

    def is_hidden(self, stored_id: str) -> bool:
        return stored_id in self._real

    def rows(self, rows: GraphRows) -> GraphRows:
        """The rows as they may reach the database. Pure: the same rows give the same result."""
        clear: dict[str, list[str]] = {}  # public record id -> its entries, none mentioning
        nodes = [self.node(n, clear) for n in rows.nodes]
        edges = [self.edge(e, clear.get(e.owner) if e.owner else None) for e in rows.edges]
        return GraphRows(nodes=nodes, edges=edges)

    def _dates(self, props: dict[str, Any], out: dict[str, Any]) -> None:
        level = self.dates
        if level == "none":
            return
        for k in DATE_PROPS:
            if k in props:
                out[k] = _lower(props[k], level, last=(k == "end"))
        for k in ("date_precision", "published_precision"):
            if k in props:
                old = props[k]
                out[k] = (
                    old if _PRECISION_RANK.get(old, 0) >= _PRECISION_RANK.get(level, 0) else level
                )
        if level != "day" and "date" in props:
            out["start"] = _lower(props["date"], level, last=False)
            out["end"] = _lower(props["date"], level, last=True)

    def node(self, row: NodeRow, known: dict[str, list[str]] | None = None) -> NodeRow:
        """``known``: filled with the node's record entries when none mentions a hidden record
        (its edges' texts written in them need no scan: quick_clear)."""
        h = self.hidden.get(row.id)
        props = row.props
        if h is not None:
            out: dict[str, Any] = {"id": h.pid, R.NAME_FIELD[h.kind]: h.label, "confidential": True}
            if "cases" in props:  # kept in the clear (KEPT_PROPS): which cases hold it
                out["cases"] = props["cases"]
            self._dates(props, out)
            if isinstance(props.get("kg_conflict_field"), list):
                # Listed by `conflicts` (issue 12): fields and cases in the clear, values
                # sealed (the names of `extra` keys are the record's own text: sealed too).
                out["kg_conflict_field"] = [
                    self.keys.seal(f) if f.startswith("extra.") else f
                    for f in props["kg_conflict_field"]
                ]
                out["kg_conflict_case"] = props["kg_conflict_case"]
                out["kg_conflict_value"] = [self.keys.seal(v) for v in props["kg_conflict_value"]]
            sealed = {k: v for k, v in props.items() if k not in out or out[k] != v}
            sealed["id"] = row.id
            out[SEALED_PROP] = self.keys.seal({"props": sealed})
            if "kg_records" in props:  # issue 12: each case's record, sealed
                out["kg_records"] = [self.seal_entry(r) for r in props["kg_records"]]
                sealed.pop("kg_records", None)
                out[SEALED_PROP] = self.keys.seal({"props": sealed})
            return NodeRow(h.pid, row.label, out, row.cases)
        changed: dict[str, Any] = {}
        out = dict(props)
        entries = props.get("kg_records")
        clear: list[str] = []  # the entries, when none of them mentions a hidden record
        if isinstance(entries, list):  # issue 12: whole records sealed
            marks = [self._mentions_any(r) for r in entries]
            out["kg_records"] = [self.seal_entry(r) if m else r for r, m in zip(entries, marks)]
            if not any(marks):
                clear = entries
                if known is not None:
                    known[row.id] = entries
        for k, v in props.items():
            if k in NOT_TEXT or k == "kg_records" or not isinstance(v, (str, list)):
                continue
            if clear and self.quick_clear and _written_in(v, clear):
                continue  # as it is
            new = scrub_value(self.scrubber, v)
            if new != v:
                changed[k] = v
                out[k] = new
        if isinstance(props.get("kg_conflict_value"), list):
            out["kg_conflict_value"] = [
                self.keys.seal(r) if self._mentions_any(r) else r
                for r in props["kg_conflict_value"]
            ]
        if not changed:
            return row if out == props else NodeRow(row.id, row.label, out, row.cases)
        out[SEALED_PROP] = self.keys.seal({"props": changed})
        return NodeRow(row.id, row.label, out, row.cases)

    # A text written as a JSON string in entries that mention no hidden record mentions none
    # either (its words sit whole between quotes there, escapes read: _mentions_any): a
    # node's texts, and its edges' (a citation's quote), need no scan. False: every text is
    # scanned (tests compare the two).
    quick_clear = True

    def cases(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The :Case nodes' rows (Store.write_cases): a title or description that names a
        hidden record is scrubbed like any public text, its original sealed in kg_sealed
        (null when nothing is hidden: the node keeps no earlier seal)."""
        out = []
        for r in rows:
            props = self.node(NodeRow(r["id"], "Case", r["props"], ())).props
            out.append({"id": r["id"], "props": {**props, SEALED_PROP: props.get(SEALED_PROP)}})
        return out

    def conflicts(self, conflicts: list[Any]) -> list[Any]:
        """Conflicts (kg.contributions.Conflict) as a notice may print them: a value that
        names a hidden record, or its id, shows as [sealed], as `kg query run conflicts`
        shows it (it is sealed in ``kg_conflict_value``)."""
        from dataclasses import replace

        from .unseal import SEALED_SHOWN

        return [
            replace(
                c,
                values=tuple(
                    (case, SEALED_SHOWN if self._mentions_any(v) else v) for case, v in c.values
                ),
            )
            for c in conflicts
        ]

    def seal_entry(self, entry: str) -> str:
        """A case's record in ``kg_records`` ("case-id {json}", kg.contributions), sealed but
        for its case id (and its "if missing" mark): loads and unloads still see whose it is."""
        case, _, rest = entry.partition(" ")
        weak = rest.startswith("?")
        return case + " " + ("?" if weak else "") + self.keys.seal(rest[1:] if weak else rest)

    def _mentions_any(self, value: Any) -> bool:
        if isinstance(value, str):
            if value in self.hidden or self.scrubber.mentions_any(value):
                return True
            if "\\" in value and self.scrubber.mentions_any(_unescaped(value)):
                return True  # as JSON text: a name right after an escaped line break, tab...
            try:
                decoded = json.loads(value) if value[:1] in '{["' else None
            except ValueError:
                return False
            return decoded is not None and decoded != value and self._mentions_any(decoded)
        if isinstance(value, dict):
            return any(self._mentions_any(v) for v in value.values())
        if isinstance(value, list):
            return any(self._mentions_any(v) for v in value)
        return False

    def edge(self, e: EdgeRow, clear: list[str] | None = None) -> EdgeRow:
        """``clear``: the record entries of the edge's owner, when none mentions a hidden
        record (Sealing.node)."""
        start, end = self.sid(e.start), self.sid(e.end)
        owner = self.sid(e.owner) if e.owner is not None else None
        hidden_end = (
            e.start in self.hidden
            or e.end in self.hidden
            or (e.owner is not None and e.owner in self.hidden)
        )
        if e.owner is None and not hidden_end:
            hidden_end = any(s in self.hidden for s in e.props.get("sources", ()))
        kept = EDGE_KEPT_BY_TYPE.get(e.type, ())
        props: dict[str, Any] = {}
        for k, v in e.props.items():
            if k in ID_PROPS and isinstance(v, str):
                props[k] = self.sid(v)
            elif k == "sources":
                props[k] = [self.sid(s) for s in v]
            elif k == "kg_records" and isinstance(v, list):
                props[k] = [
                    self.seal_entry(r) if hidden_end or self._mentions_any(r) else r for r in v
                ]
            elif k == "cases":
                props[k] = v
            elif hidden_end and k in EDGE_DATES:
                if self.dates == "day":
                    props[k] = v
                elif self.dates != "none":
                    props[k] = _lower(v, self.dates, last=(k == "end"))
            elif hidden_end and k not in EDGE_KEPT and k not in kept:
                props[k] = v if is_token(v) else self.keys.seal(v)
            elif (
                isinstance(v, str)
                and not (clear and self.quick_clear and _written_in(v, clear))
                and self.scrubber.mentions_any(v)
            ):
                props[k] = self.keys.seal(v)
            else:
                props[k] = v
        if start == e.start and end == e.end and owner == e.owner and props == e.props:
            return e
        return EdgeRow(e.type, start, end, props, owner)


def open_entry(kind: str, entry: str, sealing: Sealing | None) -> Any:
    """A case's record read back from ``kg_records``, opened with the key when sealed."""
    from ..contributions import Definition

    case, _, rest = entry.partition(" ")
    weak = rest.startswith("?")
    body = rest[1:] if weak else rest
    if not is_token(body):
        return Definition.from_entry(kind, entry)
    if sealing is None:
        raise SealKeyError(
            "this database holds sealed records, and no key opens them here",
            hint="Import the key with `kg key import` (docs/reliability.md).",
        )
    import orjson

    opened = sealing.keys.unseal(body)  # the entry's JSON, as kg.contributions wrote it
    return Definition(
        case, kind, orjson.loads(opened), weak, _entry=case + " " + ("?" if weak else "") + opened
    )
