"""Bad input, generated: valid synthetic cases broken in every way the contract can be broken.

Every broken case must end in InputError whose problems name a file and a line, never in
another exception, never in a hang. CI runs a bounded number of examples; `make fuzz` runs
many more and records the counts in test-artifacts/fuzz-stats.json (docs/reliability.md).
"""

import json
import os
import random
import signal
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.errors import InputError
from kg.synth import generate
from kg.validation import collect

EXAMPLES = int(os.environ.get("KG_FUZZ_EXAMPLES", "120"))
STATS: Counter = Counter()

MUTATIONS = [
    "wrong_type",
    "missing_field",
    "dangling_ref",
    "wrong_kind_ref",
    "duplicate_across_files",
    "impossible_date",
    "bad_encoding",
    "truncated",
    "enormous_string",
    "deep_nesting",
    "billion_laughs",
    "nul_byte",
    "unknown_field",
    "bad_enum",
    "unknown_kind",
    "bad_id",
]
REQUIRED = {
    "person": "name",
    "organization": "name",
    "location": "name",
    "event": "title",
    "source": "title",
    "statement": "text",
}


def _records(seed: int, size: int) -> list[dict]:
    return [r for r in generate(size, seed=seed, case=f"f{seed}") if r["record"] != "case"]


def _write(folder: Path, recs: list[dict], fmt: str, name: str = "a") -> Path:
    if fmt == "jsonl":
        path = folder / f"{name}.jsonl"
        path.write_text(
            "".join(
                json.dumps({k: v for k, v in r.items() if v is not None}, ensure_ascii=False) + "\n"
                for r in recs
            ),
            encoding="utf-8",
        )
        return path
    keys = {
        "source": "sources",
        "person": "people",
        "organization": "organizations",
        "location": "locations",
        "event": "events",
        "statement": "statements",
        "relation": "relations",
    }
    doc: dict = {}
    for r in recs:
        r = {k: v for k, v in r.items() if v is not None}
        kind = r.pop("record")
        doc.setdefault(keys.get(kind, kind + "s"), []).append(r)  # unknown kinds: unknown keys
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _pick(rng: random.Random, recs: list[dict], kinds=None) -> dict:
    pool = [
        r for r in recs if r["record"] != "relation" and (kinds is None or r["record"] in kinds)
    ]
    return rng.choice(pool)


def break_case(folder: Path, seed: int, size: int, fmt: str, mutation: str, payload: str) -> None:
    rng = random.Random(seed * 31 + len(mutation))
    recs = _records(seed, size)
    target = _pick(rng, recs)
    if mutation == "wrong_type":
        target[REQUIRED[target["record"]]] = rng.choice([[1, 2], {"x": 1}, None, True])
        if target[REQUIRED[target["record"]]] is None:
            target[REQUIRED[target["record"]]] = [payload]
    elif mutation == "missing_field":
        target.pop(REQUIRED[target["record"]])
    elif mutation == "dangling_ref":
        ev = _pick(rng, recs, ("event",))
        ev["located_in"] = "nowhere-" + str(seed)
    elif mutation == "wrong_kind_ref":
        stt = _pick(rng, recs, ("statement",))
        stt["speaker"] = _pick(rng, recs, ("location",))["id"]
    elif mutation == "duplicate_across_files":
        _write(folder, [dict(target)], "jsonl" if fmt == "yaml" else "yaml", name="z-dup")
    elif mutation == "impossible_date":
        ev = _pick(rng, recs, ("event",))
        ev["date"] = rng.choice(
            ["2019-02-30", "2019-13", "20190", "2019-00-10", payload[:8] or "x"]
        )
        if ev["date"].strip() and ev["date"].isdigit() and len(ev["date"]) == 4:
            ev["date"] = "2019-02-30"
    elif mutation == "enormous_string":
        target["description"] = "x" * 1_000_001
    elif mutation == "unknown_field":
        target["nmae_" + str(seed)] = payload
    elif mutation == "bad_enum":
        stt = _pick(rng, recs, ("statement",))
        stt["about"][0]["stance"] = "deny" + payload[:3]
    elif mutation == "unknown_kind":
        recs.append({"record": "persn", "id": "x-" + str(seed), "name": payload or "x"})
    elif mutation == "bad_id":
        target["id"] = "Bad Id " + payload
    path = _write(folder, recs, fmt)
    raw = path.read_bytes()
    if mutation == "bad_encoding":
        cut = rng.randrange(len(raw) // 2, len(raw))
        path.write_bytes(raw[:cut] + b"\xff\xfe\xfa" + raw[cut:])
    elif mutation == "truncated":
        if fmt == "jsonl":
            lines = raw.split(b"\n")
            i = rng.randrange(len(lines) - 1)
            lines[i] = lines[i][: max(1, len(lines[i]) // 2)]
            path.write_bytes(b"\n".join(lines))
        else:
            path.write_bytes(
                raw[: rng.randrange(len(raw) // 3, len(raw))] + b'\n  - {id: "unterminated'
            )
    elif mutation == "deep_nesting":
        depth = rng.choice([100, 5_000, 50_000])
        extra = b"\n" if fmt == "yaml" else b""
        if fmt == "yaml":
            path.write_bytes(raw + extra + b"extra_nesting: " + b"[" * depth + b"]" * depth + b"\n")
        else:
            path.write_bytes(
                raw
                + b'{"record": "person", "id": "deep", "name": '
                + b"[" * depth
                + b"]" * depth
                + b"}\n"
            )
    elif mutation == "billion_laughs":
        bomb = [b"lol0: &a0 [x, x, x, x, x, x, x, x, x]"]
        for i in range(1, 10):
            bomb.append(
                f"lol{i}: &a{i} [".encode() + b", ".join([f"*a{i - 1}".encode()] * 9) + b"]"
            )
        (folder / "bomb.yaml").write_bytes(b"\n".join(bomb) + b"\n")
    elif mutation == "nul_byte":
        cut = rng.randrange(len(raw) // 2, len(raw) - 1)
        path.write_bytes(raw[:cut] + b"\x00" + raw[cut:])


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(1, 10_000),
    size=st.integers(15, 60),
    fmt=st.sampled_from(["yaml", "jsonl"]),
    mutation=st.sampled_from(MUTATIONS),
    payload=st.text(max_size=20),
)
def test_broken_input_is_always_a_clear_error(seed, size, fmt, mutation, payload):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "case"
        folder.mkdir()
        break_case(folder, seed, size, fmt, mutation, payload)
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(30)
        try:
            with pytest.raises(InputError) as e:
                collect([folder])
        except Hang:
            pytest.fail(f"validation hung on {mutation}")
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        assert e.value.problems
        for p in e.value.problems:
            assert p.file and p.line >= 1 and p.message, (mutation, str(p))
        STATS[mutation] += 1
        STATS["total"] += 1


def test_valid_generated_cases_validate():
    for seed in range(1, 6):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            _write(folder, _records(seed, 200), "yaml" if seed % 2 else "jsonl")
            assert collect([folder]).records > 150


def test_record_fuzz_stats():
    """Runs last in this file: keeps the counts for docs/reliability.md."""
    out = ROOT / "test-artifacts" / "fuzz-stats.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps({"examples": EXAMPLES, "tried": dict(sorted(STATS.items()))}, indent=2)
    )
    assert STATS["total"] > 0
