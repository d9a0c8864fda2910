"""Judgements files: who decided that two ids are one entity (``same_as``) or two
(``not_same``), when and why. A judgements file is a case of its own, validated like record
files (every error names file, line, record and field), reviewed like code, and reversible:
delete a judgement and apply the file again. See docs/record-format.md.

    case: {id: chechnya-judgements, title: Who is who across our Chechnya cases}
    judgements:
      - same_as: [ramzan-kadyrov, kadyrov-r]
        who: anna
        when: 2026-11-27
        why: Same head of the Chechen Republic, Cyrillic spelling in the Russian case.
      - not_same: [ramzan-kadyrov, akhmat-kadyrov]
        who: anna
        when: 2026-11-27T08:15:00Z
        why: Father and son.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, field_validator

from . import records as R
from .collection import slugify
from .errors import InputError, Problem, UsageError
from .model_errors import _validate_model
from .readers import (
    RawRecord,
    _decode,
    _Loader,
    _sub,
    _Walker,
    _YamlProblem,
    display_path,
    sub_lines,
)

DECISIONS = ("same_as", "not_same")
WHEN_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


class JudgementRecord(R._Model):
    ids: list[R.Slug] = Field(min_length=2, max_length=2)
    who: R.NonBlank
    when: str
    why: R.NonBlank

    @field_validator("ids")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a judgement names two different ids")
        return value

    @field_validator("when")
    @classmethod
    def _when(cls, value: str) -> str:
        if not WHEN_RE.match(value.strip()):
            raise ValueError(
                f"expected a date or date and time such as 2026-11-27 or "
                f"2026-11-27T08:15:00Z, got {value!r}"
            )
        try:
            dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise ValueError(f"not a calendar date: {value!r}") from None
        return value.strip()


@dataclass(frozen=True)
class Judgement:
    decision: str  # same_as | not_same
    a: str  # the two ids, sorted
    b: str
    who: str
    when: str
    why: str
    case: str
    file: str = ""
    line: int = 0

    @property
    def key(self) -> str:
        return f"{self.decision}:{self.a}:{self.b}"

    @property
    def pair(self) -> tuple[str, str]:
        return (self.a, self.b)

    def as_row(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "decision": self.decision,
            "a": self.a,
            "b": self.b,
            "who": self.who,
            "when": self.when,
            "why": self.why,
            "case": self.case,
            "file": self.file,
            "line": self.line,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Judgement:
        return cls(
            row["decision"],
            row["a"],
            row["b"],
            row["who"],
            row["when"],
            row["why"],
            row["case"],
            row.get("file") or "",
            int(row.get("line") or 0),
        )


@dataclass
class JudgementFile:
    path: Path
    case: str
    title: str | None
    judgements: list[Judgement]


def is_judgements_file(path: Path) -> bool:
    """A YAML file whose top level has `judgements:` (cheap: looks at unindented keys)."""
    if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
        return False
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            return any(line.startswith("judgements:") for line in f)
    except OSError:
        return False


def _parse(path: Path) -> tuple[Any, dict, list[Problem]]:
    shown = display_path(path)
    problems: list[Problem] = []
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError([Problem(shown, 0, "-", "-", f"cannot read: {e.strerror}")]) from None
    text = _decode(raw, shown, problems)
    if text is None:
        raise InputError(problems)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        walker = _Walker(loader)
        data = walker.value(root, ()) if root is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = " ".join(x for x in (e.context, e.problem) if x)
        raise InputError(
            [Problem(shown, mark.line + 1 if mark else 1, "-", "-", f"malformed YAML: {what}")]
        ) from None
    except (yaml.YAMLError, RecursionError) as e:
        raise InputError([Problem(shown, 1, "-", "-", f"malformed YAML: {e}")]) from None
    except _YamlProblem as e:
        raise InputError([Problem(shown, e.line, "-", "-", e.message)]) from None
    finally:
        loader.dispose()
    return data, walker.lines, problems


def read(path: Path) -> JudgementFile:
    """Read and validate a judgements file; raise InputError with every problem."""
    shown = display_path(path)
    data, lines, problems = _parse(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(
            [
                Problem(
                    shown,
                    1,
                    "-",
                    "-",
                    "a judgements file must be a mapping with 'case:' and 'judgements:'",
                )
            ]
        )
    case_id, title = slugify(path.stem), None
    items: list[Any] = []
    for key, value in data.items():
        kline = lines.get((key,), 1)
        if key == "case":
            raw = RawRecord(
                "case",
                value if isinstance(value, dict) else {},
                shown,
                kline,
                _sub(lines, ("case",)),
                1,
            )
            if not isinstance(value, dict):
                problems.append(
                    Problem(shown, kline, "case", "case", "expected a mapping with id, title")
                )
                continue
            model = _validate_model(raw, R.Case, problems)
            if model is not None:
                case_id, title = model.id, model.title
        elif key == "judgements":
            if value is None:
                continue
            if not isinstance(value, list):
                problems.append(Problem(shown, kline, "-", key, "'judgements' must be a list"))
                continue
            items = value
        else:
            problems.append(
                Problem(
                    shown,
                    kline,
                    "-",
                    str(key),
                    f"unknown top-level key {key!r}; expected case, judgements",
                )
            )
    out: list[Judgement] = []
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    per_item = sub_lines(lines, 2)
    for i, item in enumerate(items):
        line = lines.get(("judgements", i), 1)
        label = f"judgement#{i + 1}"
        if not isinstance(item, dict):
            problems.append(Problem(shown, line, label, "-", "each judgement must be a mapping"))
            continue
        decisions = [d for d in DECISIONS if d in item]
        if len(decisions) != 1:
            problems.append(
                Problem(
                    shown,
                    line,
                    label,
                    "-",
                    "a judgement has exactly one of same_as: [ID, ID] or not_same: [ID, ID]",
                )
            )
            continue
        decision = decisions[0]
        data_ = {("ids" if k == decision else k): v for k, v in item.items()}
        sub = per_item.get(("judgements", i), {})
        sub = {(("ids",) + p[1:] if p and p[0] == decision else p): ln for p, ln in sub.items()}
        raw = RawRecord(decision, data_, shown, line, sub, i + 1)
        if isinstance(data_.get("ids"), list) and all(isinstance(x, str) for x in data_["ids"]):
            label = f"{decision}[{', '.join(data_['ids'])}]"
        raw.data = data_
        before = len(problems)
        model = _validate_model(raw, JudgementRecord, problems)
        for n in range(before, len(problems)):
            p = problems[n]
            problems[n] = Problem(
                p.file, p.line, label, p.field.replace("ids", decision, 1), p.message
            )
        if model is None:
            continue
        a, b = sorted(model.ids)
        if (a, b) in seen:
            first = seen[(a, b)]
            problems.append(
                Problem(
                    shown,
                    line,
                    label,
                    decision,
                    f"this pair is judged again (first at line {first[1]}, "
                    f"{first[0]}); keep one judgement per pair",
                )
            )
            continue
        seen[(a, b)] = (decision, line)
        out.append(
            Judgement(decision, a, b, model.who, model.when, model.why, case_id, shown, line)
        )
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.line))
    return JudgementFile(path, case_id, title, out)


def _yaml_str(value: str) -> str:
    """A JSON string is a YAML double-quoted scalar: one line, any text, safely escaped."""
    return json.dumps(value, ensure_ascii=False)


def append(
    path: Path,
    decision: str,
    a: str,
    b: str,
    who: str,
    why: str,
    when: str | None = None,
    case_id: str | None = None,
) -> Judgement:
    """Add one judgement at the end of the file (made with a case header if new), keeping
    everything already written, comments included."""
    if decision not in DECISIONS:
        raise UsageError(f"internal: decision {decision!r}")
    when = when or dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace(
        "+00:00", "Z"
    )
    a, b = sorted((a, b))
    if not path.exists():
        cid = case_id or slugify(path.stem)
        head = f"case:\n  id: {cid}\n  title: Entity resolution judgements\njudgements:\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(head, encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    top = [ln for ln in text.splitlines() if ln and not ln[0].isspace() and not ln.startswith("#")]
    if not top or not top[-1].startswith("judgements:") or top[-1].strip() != "judgements:":
        if any(ln.startswith("judgements:") for ln in top):
            raise UsageError(
                f"{path}: cannot append: 'judgements:' must be the last top-level "
                "key, written as a block list (not judgements: [])"
            )
        text += ("" if text.endswith("\n") or not text else "\n") + "judgements:\n"
    elif text and not text.endswith("\n"):
        text += "\n"
    entry = (
        f"  - {decision}: [{a}, {b}]\n    who: {_yaml_str(who)}\n"
        f"    when: {_yaml_str(when)}\n    why: {_yaml_str(why)}\n"
    )
    path.write_text(text + entry, encoding="utf-8")
    return Judgement(decision, a, b, who, when, why, case_id or "")
