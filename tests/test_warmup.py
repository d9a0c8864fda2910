"""The warm-up `kg db start` runs (kg.warmup): the graph is the same before and after."""

from pathlib import Path

import pytest
from conftest import CHECHNYA

from kg import warmup as W
from kg.loader import load

pytestmark = pytest.mark.neo4j


def test_warm_up_leaves_the_graph_as_it_was(store, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("KG_WARMUP", "1")
    load(store, [CHECHNYA])
    before, cases = store.digest(cases=True), store.case_ids()
    meta = "MATCH (n) RETURN count(n) AS n, collect(n.seal_fingerprint) AS fp"
    all_before = store.read(meta).records[0].data()
    W._run(store, W._write_case(tmp_path, 300))  # the steps, errors not swallowed
    assert store.digest(cases=True) == before and store.case_ids() == cases
    assert store.read(meta).records[0].data() == all_before  # no fingerprint, no KgMeta
    assert W.warm_up(store, records=300) > 0
    assert store.digest(cases=True) == before and store.case_ids() == cases


def test_a_warm_up_cut_short_is_finished_by_the_next(store, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("KG_WARMUP", "1")
    before = store.digest(cases=True)
    load(store, [W._write_case(tmp_path, 200)])  # as if the machine stopped mid warm-up
    assert W.CASE in store.case_ids()
    W.warm_up(store, records=200)
    assert W.CASE not in store.case_ids() and store.digest(cases=True) == before


def test_warm_up_is_on_unless_turned_off(store, monkeypatch):
    monkeypatch.delenv("KG_WARMUP", raising=False)
    assert W.enabled()
    for off in ("0", "no", "false", "OFF"):
        monkeypatch.setenv("KG_WARMUP", off)
        assert not W.enabled()
        assert W.warm_up(store) == 0.0
    assert store.counts()["nodes"] == {}


def test_the_warm_up_case_makes_every_relationship_type_and_label(tmp_path: Path):
    """Each relationship type and label has its own write statements (types cannot be
    parameters): the warm-up plans them all, so a first load after a start plans none."""
    from kg import records as R
    from kg.mapping import map_collection
    from kg.validation import collect

    rows = map_collection(collect([W._write_case(tmp_path, 300)]))
    assert {e.type for e in rows.edges} == set(R.ALL_REL_TYPES) - set(R.RESOLUTION_TYPES)
    assert {n.label for n in rows.nodes} == set(R.LABELS.values())
