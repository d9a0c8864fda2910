"""Reading a sheet (CSV, TSV, XLSX) as its header and rows, each row with the number a
person sees in the sheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from .errors import InputError, Problem, UsageError
from .readers import display_path


def read_rows(
    path: Path, delimiter: str | None = None
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(columns, [(row number as the user sees it, {column: text})])."""
    from .safeio import read_bytes, regular_file_problem

    suffix = path.suffix.lower()
    not_regular = regular_file_problem(path)
    if not_regular:  # a FIFO would block the read forever
        raise InputError([Problem(display_path(path), 0, "-", "-", not_regular)])
    if suffix in (".xlsx", ".xlsm"):
        try:
            import openpyxl
        except ImportError:
            raise UsageError("reading .xlsx needs openpyxl: pip install 'kg[xlsx]'") from None
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = wb.worksheets[0]
        it = sheet.iter_rows(values_only=True)
        header = [str(c).strip() if c is not None else "" for c in next(it, [])]
        rows = []
        for n, values in enumerate(it, start=2):
            row = {h: _cell(v) for h, v in zip(header, values) if h}
            if any(row.values()):
                rows.append((n, row))
        return header, rows
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(
            [
                Problem(
                    display_path(path),
                    line,
                    "-",
                    "-",
                    "not valid UTF-8; save the sheet as CSV UTF-8",
                )
            ]
        ) from None
    delim = delimiter or ("\t" if suffix in (".tsv", ".tab") else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header = [h.strip() for h in next(reader, [])]
    rows = []
    for values in reader:
        n = reader.line_num
        if not any(v.strip() for v in values):
            continue
        rows.append((n, {h: v for h, v in zip(header, values) if h}))
    return header, rows


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
