"""Declarative tabular loaders: a mapping file says how rows of a CSV, TSV or XLSX sheet
become records of the contract. See docs/loaders.md.

    name: statements
    case: {id: statements-sheet}        # optional; default: the sheet's file name
    allow_existing: true                # references may name entities already loaded
    records:                            # each row makes these records (when they apply)
      - kind: person
        when: speaker                   # only if this column is not empty
        id: {template: "{speaker|slug}"}
        fields:
          name: {column: speaker}
      - kind: statement
        id: {template: "stmt-{speaker|slug}-{date|slug}-{quote|hash}"}
        fields:
          speaker: {template: "{speaker|slug}"}
          text: {column: quote}
          date: {column: date, date: {}}
          about:
            - target: {template: "{about|slug}"}
              stance: {column: stance, lookup: {denied: denies, claims: asserts}, lower: true}

A value is `{column: NAME}`, `{template: "text {col|filter}"}` (filters: slug, hash, lower,
upper, strip) or `{value: CONSTANT}`, with optional `split: ";"` (a list), `lookup: {...}` (with
`default:`), `lower: true`, `type: int|float|bool`, `date: {formats: [...], precision: ...,
precision_column: C, precision_map: {...}}`, `default:`. Empty values are left out. A list
field is a list of item mappings (each with an optional `when`, and `each: {column: C, split:
";"}` for one item per value, as {_item}). A top-level `date_formats: [...]` names the formats
of every date value that names none; a date with day and month both in digits (4/8/2017) is
read only in a format the mapping names. Rows that make the same id
are merged: list fields are united, the first row's other fields are kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import records as R
from .errors import InputError, Problem, UsageError
from .readers import RawRecord, display_path
from .sheets import _cell, read_rows  # noqa: F401
from .validation import slugify

_PLACEHOLDER = re.compile(r"\{([^{}|]+)(?:\|([a-z0-9|]+))?\}")
DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%Y/%m/%d", "%B %Y", "%Y-%m", "%Y")
# 4/8/2017 is 4 August in most of the world and April 8 in the US (and in ACLED sheets saved
# by a US Excel): a date with the day and the month both in digits is read only in a format
# the mapping names (`date_formats:` at the top, or `date: {formats: [...]}` on the value).
_DAY_MONTH_DIGITS = re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$")


@dataclass
class Mapping:
    name: str
    path: Path
    records: list[dict[str, Any]]
    case: dict[str, Any] | None
    allow_existing: bool
    delimiter: str | None


def load_mapping(path: Path) -> Mapping:
    from .readers import YamlLimitError, load_limited_yaml
    from .safeio import read_bytes
    from .sheetmap import check_mapping

    shown = display_path(path)
    lines: dict[tuple[Any, ...], int] = {}
    try:  # a regular file only, with the YAML limits of record files (alias bombs, depth)
        data = load_limited_yaml(
            read_bytes(path).decode("utf-8", "replace"), record_scalars=False, lines=lines
        )
    except OSError as e:
        raise UsageError(f"cannot read mapping {shown}: {e.strerror}") from None
    except YamlLimitError as e:
        raise InputError([Problem(shown, e.line, "-", "-", e.message)]) from None
    if not isinstance(data, dict):
        raise InputError([Problem(shown, 1, "-", "records", "a mapping needs a list of records")])
    problems = check_mapping(data, shown=shown, lines=lines)  # before any sheet is read
    if problems:
        raise InputError(problems)
    formats = data.get("date_formats")
    if formats is not None:
        _name_date_formats(data["records"], [formats] if isinstance(formats, str) else formats)
    return Mapping(
        name=str(data.get("name", path.stem)),
        path=path,
        records=data["records"],
        case=data.get("case"),
        allow_existing=bool(data.get("allow_existing", False)),
        delimiter=data.get("delimiter"),
    )


def _name_date_formats(spec: Any, formats: list[str]) -> None:
    """Give every date value that names no formats of its own the mapping's date_formats."""
    if isinstance(spec, dict):
        if "date" in spec and ("column" in spec or "template" in spec):
            if not isinstance(spec["date"], dict):
                spec["date"] = {}
            spec["date"].setdefault("formats", list(formats))
        for v in spec.values():
            _name_date_formats(v, formats)
    elif isinstance(spec, list):
        for v in spec:
            _name_date_formats(v, formats)


# --- values ------------------------------------------------------------------------------------


class _RowError(Exception):
    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


def _filter(value: str, name: str) -> str:
    if name == "slug":
        return slugify(value) if value.strip() else ""
    if name == "hash":
        return hashlib.sha1(value.encode("utf-8")).hexdigest()[:10]
    if name == "lower":
        return value.lower()
    if name == "upper":
        return value.upper()
    if name == "strip":
        return value.strip()
    raise _RowError("-", f"unknown template filter {name!r}")


def _template(tpl: str, row: dict[str, str], columns: list[str]) -> tuple[str, list[str]]:
    used: list[str] = []

    def sub(m: re.Match) -> str:
        col, filters = m.group(1).strip(), m.group(2)
        if col not in row and col not in columns and col != "_item":
            raise _RowError(col, f"the mapping uses column {col!r}, which the sheet does not have")
        used.append(col)
        value = (row.get(col) or "").strip()
        for f in (filters or "").split("|"):
            if f:
                value = _filter(value, f)
        return value

    return _PLACEHOLDER.sub(sub, tpl), used


def _parse_date(text: str, spec: dict[str, Any], row: dict[str, str], column: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    precision = spec.get("precision")
    if spec.get("precision_column"):
        code = (row.get(spec["precision_column"]) or "").strip()
        precision = (spec.get("precision_map") or {}).get(code, precision)
        if code and precision is None:
            raise _RowError(spec["precision_column"], f"unknown precision code {code!r}")
    for fmt in spec.get("formats") or DEFAULT_DATE_FORMATS:
        try:
            d = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        has_day = "%d" in fmt
        has_month = "%m" in fmt or "%B" in fmt or "%b" in fmt
        natural = "day" if has_day else "month" if has_month else "year"
        order = {"day": 2, "month": 1, "year": 0}
        p = precision if precision in order and order[precision] <= order[natural] else natural
        return (
            f"{d.year:04d}"
            if p == "year"
            else f"{d.year:04d}-{d.month:02d}"
            if p == "month"
            else d.isoformat()
        )
    if not spec.get("formats") and _DAY_MONTH_DIGITS.match(text):
        raise _RowError(
            column,
            f"{text!r} has the day and the month in digits: day/month "
            f"(4 August) or month/day (April 8)? Name the format in the mapping: "
            f'date_formats: ["%m/%d/%Y"] for US dates (ACLED sheets saved by a '
            f'US Excel), ["%d/%m/%Y"] for day first',
        )
    raise _RowError(
        column,
        f"cannot read {text!r} as a date"
        + (
            f" in the formats the mapping names ({', '.join(spec['formats'])})"
            if spec.get("formats")
            else ""
        ),
    )


def value(spec: Any, row: dict[str, str], columns: list[str]) -> tuple[Any, str | None]:
    """(value, source column) of a value spec for one row; None when empty."""
    if not isinstance(spec, dict):
        return spec, None
    column = None
    if "value" in spec:
        v: Any = spec["value"]
    elif "column" in spec:
        column = spec["column"]
        if column not in row and column not in columns and not spec.get("optional"):
            raise _RowError(
                column, f"the mapping uses column {column!r}, which the sheet does not have"
            )
        v = row.get(column, "")
    elif "template" in spec:
        v, used = _template(spec["template"], row, columns)
        column = used[0] if len(used) == 1 else ", ".join(used) if used else None
    else:
        raise _RowError("-", f"a value needs column, template or value: {spec!r}")
    if isinstance(v, str):
        v = v.strip()
    if v in ("", None):
        return spec.get("default"), column
    if "split" in spec:
        parts = [p.strip() for p in str(v).split(spec["split"]) if p.strip()]
        return [_one(p, spec, row, column) for p in parts], column
    return _one(v, spec, row, column), column


def _one(v: Any, spec: dict[str, Any], row: dict[str, str], column: str | None) -> Any:
    if isinstance(v, str):
        if spec.get("lower"):
            v = v.lower()
        if spec.get("slug"):
            v = slugify(v)
    if "lookup" in spec:
        table = {str(k).lower(): x for k, x in spec["lookup"].items()}
        key = str(v).lower().strip()
        if key in table:
            v = table[key]
        elif "lookup_default" in spec:
            v = spec["lookup_default"]
        else:
            raise _RowError(
                column or "-",
                f"{v!r} is not one of the values the mapping knows "
                f"({', '.join(map(str, spec['lookup']))})",
            )
    if "date" in spec and isinstance(v, str):
        return _parse_date(v, spec["date"] or {}, row, column or "-")
    kind = spec.get("type")
    try:
        if kind == "int":
            return int(float(str(v).replace(",", "")))
        if kind == "float":
            return float(str(v).replace(",", ""))
        if kind == "bool":
            return str(v).strip().lower() in ("1", "true", "yes", "y", "x")
    except ValueError:
        raise _RowError(column or "-", f"expected a {kind}, got {v!r}") from None
    return v


def _fields(
    spec: dict[str, Any], row: dict[str, str], columns: list[str], names: dict[str, str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, vspec in spec.items():
        if isinstance(vspec, list):  # a list of item mappings
            items = []
            for item in vspec:
                when = item.get("when") if isinstance(item, dict) else None
                if when and not (row.get(when) or "").strip():
                    continue
                spec_ = {k: x for k, x in item.items() if k not in ("when", "each")}
                if isinstance(item, dict) and "each" in item:  # one item per value, as {_item}
                    each, _ = value(item["each"], row, columns)
                    rows_ = [
                        {**row, "_item": str(x)}
                        for x in (each if isinstance(each, list) else [each] if each else [])
                    ]
                else:
                    rows_ = [row]
                for r in rows_:
                    sub = _fields(spec_, r, columns, {})
                    if sub and sub not in items:
                        items.append(sub)
            if items:
                out[name] = items
            continue
        if isinstance(vspec, dict) and not ({"column", "template", "value"} & set(vspec)):
            sub = _fields(vspec, row, columns, {})  # a nested mapping, e.g. victims: {min, max}
            if sub:
                out[name] = sub
            continue
        v, column = value(vspec, row, columns)
        if v not in (None, "", []):
            out[name] = v
            if column:
                names[name] = column
    return out


def required_columns(spec: Any, out: set[str] | None = None) -> set[str]:
    """Every column a mapping reads (optional ones excepted)."""
    out = set() if out is None else out
    if isinstance(spec, dict):
        if isinstance(spec.get("column"), str) and not spec.get("optional"):
            out.add(spec["column"])
        if isinstance(spec.get("when"), str):
            out.add(spec["when"])
        if isinstance(spec.get("precision_column"), str):
            out.add(spec["precision_column"])
        if isinstance(spec.get("template"), str):
            out.update(m.group(1).strip() for m in _PLACEHOLDER.finditer(spec["template"]))
        for v in spec.values():
            if isinstance(v, (dict, list)):
                required_columns(v, out)
    elif isinstance(spec, list):
        for v in spec:
            required_columns(v, out)
    out.discard("_item")
    return out


def map_rows(mapping: Mapping, sheet: Path) -> list[RawRecord]:
    """The records a sheet makes, as raw records located by row and column."""
    shown = display_path(sheet)
    columns, rows = read_rows(sheet, mapping.delimiter)
    missing = sorted(required_columns(mapping.records) - set(columns))
    if missing:
        raise InputError(
            [
                Problem(
                    shown,
                    1,
                    "header",
                    f"[column {c}]",
                    f"the mapping {mapping.name!r} needs column {c!r}, which the "
                    f"sheet does not have (it has: {', '.join(columns)})",
                )
                for c in missing
            ]
        )
    case = (mapping.case or {}).get("id") or slugify(sheet.stem)
    problems: list[Problem] = []
    by_id: dict[tuple[str, str], RawRecord] = {}
    out: list[RawRecord] = []
    counts: dict[str, int] = {}
    expanded: list[tuple[int, dict[str, str], dict[str, Any]]] = []
    for n, row in rows:
        for spec in mapping.records:
            when = spec.get("when")
            if when and not (row.get(when) or "").strip():
                continue
            if "each" in spec:  # one record per item of a list value, as {_item}
                try:
                    items, _ = value(spec["each"], row, columns)
                except _RowError as e:
                    problems.append(
                        Problem(shown, n, f"row {n}", f"[column {e.column}]", e.message)
                    )
                    continue
                for item in items if isinstance(items, list) else [items] if items else []:
                    expanded.append((n, {**row, "_item": str(item)}, spec))
            else:
                expanded.append((n, row, spec))
    for n, row, spec in expanded:
        try:
            kind, _ = (
                value(spec["kind"], row, columns)
                if isinstance(spec["kind"], dict)
                else (spec["kind"], None)
            )
            if kind not in R.KINDS:
                raise _RowError(str(spec["kind"]), f"{kind!r} is not a record kind")
            names: dict[str, str] = {}
            data = _fields(spec.get("fields") or {}, row, columns, names)
            if kind != "relation":
                rid, col = value(spec["id"], row, columns)
                if not rid:
                    raise _RowError(col or "-", "the id is empty for this row")
                data = {"id": rid, **data}
                if col:
                    names["id"] = col
        except _RowError as e:
            problems.append(Problem(shown, n, f"row {n}", f"[column {e.column}]", e.message))
            continue
        counts[kind] = counts.get(kind, 0) + 1
        raw = RawRecord(
            kind,
            data,
            shown,
            n,
            {},
            counts[kind],
            case_dir=str(sheet),
            case=case,
            field_names=names,
            if_missing=bool(spec.get("if_missing")),
        )
        key = (kind, str(data.get("id"))) if kind != "relation" else None
        if key and key in by_id:
            _merge_row(by_id[key].data, data)
            continue
        if key:
            by_id[key] = raw
        out.append(raw)
    if problems:
        raise InputError(problems)
    if mapping.case:
        out.insert(
            0,
            RawRecord("case", dict(mapping.case), shown, 1, {}, 1, case_dir=str(sheet), case=case),
        )
    return out


def _merge_row(into: dict[str, Any], data: dict[str, Any]) -> None:
    for k, v in data.items():
        if isinstance(v, list) and isinstance(into.get(k), list):
            for item in v:
                if item not in into[k]:
                    into[k].append(item)
        elif k not in into:
            into[k] = v


def mapped_raws(mapping: Mapping, sheets: list[Path]) -> list[RawRecord]:
    raws: list[RawRecord] = []
    problems: list[Problem] = []
    for sheet in sheets:
        try:
            raws.extend(map_rows(mapping, Path(sheet)))
        except InputError as e:
            problems.extend(e.problems)
    if problems:
        raise InputError(problems)
    return raws
