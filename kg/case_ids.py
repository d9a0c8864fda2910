"""Which case each record belongs to: the cases an input declares (case records), and a
record's case from its folder or sheet when none is declared."""

from __future__ import annotations

from pathlib import Path

from . import records as R
from .collection import slugify
from .errors import Problem
from .model_errors import _validate_model
from .readers import RawRecord


def _case_ids(raws: list[RawRecord], problems: list[Problem]) -> dict[str, tuple[str, dict]]:
    """Map each record file's folder to (case id, case fields) from `case` declarations."""
    declared: dict[str, tuple[RawRecord, R.Case]] = {}
    for raw in raws:
        if raw.kind != "case":
            continue
        model = _validate_model(raw, R.Case, problems)
        if model is None:
            continue
        where = raw.case_dir if Path(raw.case_dir).is_file() else str(Path(raw.file).parent)
        key = (
            str(Path(where).resolve())
            if Path(raw.case_dir).is_file()
            else str(Path(raw.file).resolve().parent)
        )
        if key in declared:
            first = declared[key][0]
            problems.append(
                Problem(
                    raw.file,
                    raw.line,
                    model.id,
                    "case",
                    f"a second case declaration in one folder (the first is "
                    f"{first.file}:{first.line}); a folder holds one case",
                )
            )
            continue
        declared[key] = (raw, model)
    return {k: (m.id, m.model_dump(exclude_none=True)) for k, (_, m) in declared.items()}


def _case_of(raw: RawRecord, declared: dict[str, tuple[str, dict]]) -> tuple[str, dict]:
    if raw.case:
        return raw.case, {"id": raw.case}
    arg = Path(raw.case_dir).resolve()
    if arg.is_file():
        hit = declared.get(str(arg))
        if hit:
            return hit
        folder = arg.parent
        return slugify(folder.name), {"id": slugify(folder.name)}
    here = Path(raw.file).resolve().parent
    while True:
        hit = declared.get(str(here))
        if hit:
            return hit
        if here == arg or here.parent == here:
            break
        here = here.parent
    return slugify(arg.name), {"id": slugify(arg.name)}
