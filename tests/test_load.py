"""Loading into the real Neo4j: the contract's graph, idempotency, reloads, sharing, refusal."""

import shutil
import textwrap
from pathlib import Path

import pytest
from conftest import CASES, CHECHNYA

from kg.errors import InputError
from kg.loader import load

pytestmark = pytest.mark.neo4j


def rows(store, cypher, **params):
    return [dict(r) for r in store.read(cypher, params).records]


def test_contract_case_graph(store):
    load(store, [CASES / "contract"])
    counts = store.counts()
    assert counts["nodes"] == {
        "Event": 3,
        "Location": 2,
        "Organization": 3,
        "Person": 2,
        "Source": 1,
        "Statement": 2,
    }
    assert counts["relationships"] == {
        "ABOUT": 3,
        "AFFILIATED_WITH": 1,
        "ASSOCIATED_WITH": 1,
        "AUTHORED_BY": 1,
        "DENIED": 1,
        "FOLLOWED": 1,
        "INVOLVED_IN": 2,
        "LOCATED_IN": 5,
        "PART_OF": 2,
        "PUBLISHED_BY": 1,
        "REPORTED_BY": 2,
        "RESPONDED_TO": 1,
        "SAID": 2,
        "TRIGGERED_BY": 1,
        "VIA": 1,
    }
    # every node is an Entity with exactly one kind label, and its cases
    assert rows(store, "MATCH (n:Entity) WHERE size(labels(n)) <> 2 RETURN n") == []
    # and the case itself, as a :Case node
    assert rows(
        store,
        "MATCH (n) WHERE NOT n:Entity AND NOT n:KgMeta RETURN labels(n) AS l, n.id AS id, "
        "n.records AS r",
    ) == [{"l": ["Case"], "id": "contract-case", "r": 18}]
    assert len(rows(store, "MATCH (m:KgMeta) RETURN m")) == 1  # the sealing key's fingerprint
    assert rows(store, "MATCH (n:Entity) WHERE n.cases <> ['contract-case'] RETURN n") == []
    # directions, dates as Neo4j dates
    got = rows(
        store,
        "MATCH (g:Organization)-[d:DENIED]->(e:Event) "
        "RETURN g.id AS g, e.id AS e, d.statement AS s, e.start AS start, "
        "e.end AS end, e.date_precision AS p",
    )
    assert len(got) == 1 and got[0]["g"] == "org-gov" and got[0]["s"] == "stmt-denial"
    assert (
        got[0]["start"].iso_format() == "2020-01-01" and got[0]["end"].iso_format() == "2020-02-15"
    )
    assert rows(
        store,
        "MATCH (:Person {id: 'person-author'})-[:SAID]->(s:Statement)"
        "-[:VIA]->(o:Organization) RETURN o.id AS o",
    ) == [{"o": "org-ngo"}]
    assert rows(
        store, "MATCH (:Organization {id: 'org-ngo'})-[:PART_OF]->(p) RETURN p.id AS p"
    ) == [{"p": "org-umbrella"}]
    assert rows(
        store,
        "MATCH (:Event {id: 'event-sub'})-[r:PART_OF]->(:Event {id: 'event-main'}) "
        "RETURN r.sources AS s",
    ) == [{"s": ["src-report"]}]


def test_text_loads_intact(store):
    load(store, [CASES / "contract"])
    got = rows(store, "MATCH (s:Statement {id: 'stmt-claim'}) RETURN s.text AS t")[0]["t"]
    assert got == "Line one\nline two — «quoted» 中文 \\ {x} `y`"
    title = rows(store, "MATCH (s:Source) RETURN s.title AS t")[0]["t"]
    assert title == 'Report with "quotes", back\\slashes, {braces} and `backticks`'
    name = rows(store, "MATCH (o:Organization {id: 'org-ngo'}) RETURN o.name AS n")[0]["n"]
    assert name == "NGO <img src=x onerror=alert(1)>"
    quote = rows(store, "MATCH ()-[r:REPORTED_BY]->() WHERE r.page = 'p. 3' RETURN r.quote AS q")
    assert quote == [{"q": "'}) DETACH DELETE n //"}]
    assert rows(
        store, "MATCH (p:Person {id: 'person-author'}) RETURN p.name AS n, p.aliases AS a"
    ) == [{"n": "Анна Автор", "a": ["Anna Avtor", "А. Автор"]}]


def test_loading_twice_changes_nothing(store):
    first = load(store, [CHECHNYA]).summary()
    digest = store.digest()
    second = load(store, [CHECHNYA]).summary()
    assert store.digest() == digest
    assert all(v["created"] == 0 and v["updated"] == 0 for v in second["nodes"].values())
    assert all(
        v["created"] == v["updated"] == v["deleted"] == 0 for v in second["relationships"].values()
    )
    assert sum(v["created"] for v in first["nodes"].values()) == 52 - 8  # 8 relations


def test_reload_replaces_what_a_record_made(store, tmp_path):
    case = tmp_path / "case"
    shutil.copytree(CASES / "contract", case)
    load(store, [case])
    f = case / "records.yaml"
    text = f.read_text()
    text = text.replace("      - {target: event-main, stance: denies}\n", "")
    text = text.replace("name: Umbrella", "name: Umbrella renamed")
    text = text.replace("    parent: org-umbrella\n", "")
    f.write_text(text)
    summary = load(store, [case]).summary()
    assert rows(store, "MATCH ()-[r:DENIED]->() RETURN r") == []
    assert rows(
        store,
        "MATCH (:Statement {id: 'stmt-denial'})-[a:ABOUT]->(t) RETURN t.id AS t, a.stance AS s",
    ) == [{"t": "person-author", "s": "disputes"}]
    assert rows(store, "MATCH (:Organization {id: 'org-ngo'})-[r:PART_OF]->() RETURN r") == []
    assert rows(store, "MATCH (o:Organization {id: 'org-umbrella'}) RETURN o.name AS n") == [
        {"n": "Umbrella renamed"}
    ]
    assert summary["relationships"]["DENIED"]["deleted"] == 1
    assert summary["relationships"]["ABOUT"]["deleted"] == 1
    # umbrella renamed; org-ngo's record (kept per case, kg_records) lost its parent
    assert summary["nodes"]["Organization"]["updated"] == 2
    # and the result equals a clean load of the changed files
    digest = store.digest()
    store.write("MATCH (n) DETACH DELETE n")
    load(store, [case])
    assert store.digest() == digest


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))


def test_entity_shared_between_cases(store, tmp_path):
    _write(
        tmp_path / "a" / "r.yaml",
        """
        case: {id: case-a}
        people: [{id: shared-person, name: Shared}]
        organizations: [{id: only-a, name: A}]
        """,
    )
    _write(
        tmp_path / "b" / "r.yaml",
        """
        case: {id: case-b}
        people: [{id: shared-person, name: Shared}]
        """,
    )
    load(store, [tmp_path / "a"])
    load(store, [tmp_path / "b"])
    assert rows(store, "MATCH (p:Person) RETURN p.id AS id, p.cases AS cases") == [
        {"id": "shared-person", "cases": ["case-a", "case-b"]}
    ]
    load(store, [tmp_path / "a"])  # reloading a case keeps the other case on the node
    assert rows(store, "MATCH (p:Person) RETURN p.cases AS cases") == [
        {"cases": ["case-a", "case-b"]}
    ]
    store.write("MATCH (n) DETACH DELETE n")
    load(store, [tmp_path / "a", tmp_path / "b"])  # together: one node, both cases
    assert rows(store, "MATCH (p:Person) RETURN p.cases AS cases") == [
        {"cases": ["case-a", "case-b"]}
    ]


BROKEN = {
    "unknown reference": (
        "statements.yaml",
        "speaker: alvi-karimov",
        "speaker: alvi-karimof",
        "speaker",
        "reference 'alvi-karimof' not found",
    ),
    "duplicate id": (
        "places.yaml",
        "locations:\n",
        "locations:\n  - {id: moscow, name: Moskva}\n",
        "id",
        "duplicate id",
    ),
    "bad date": (
        "events.yaml",
        "date: 2017-04",
        "date: 2017-04-31",
        "date",
        "2017-04-31 is not a day of the calendar",
    ),
    "unknown field": (
        "actors.yaml",
        "    nationality_x: 1\n",
        None,
        "nationality_x",
        "unknown field",
    ),
    "wrong stance": (
        "statements.yaml",
        "stance: denies",
        "stance: denied",
        "stance",
        "expected 'asserts'",
    ),
    "malformed yaml": ("places.yaml", "kind: country", "kind: [country", "-", "malformed YAML"),
    "wrong kind": (
        "statements.yaml",
        "via: interfax",
        "via: russia",
        "via",
        "'russia' is a location; expected an organization",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_copy_is_refused_and_writes_nothing(store, tmp_path, name):
    load(store, [CASES / "contract"])
    before = store.digest()
    fname, old, new, field, message = BROKEN[name]
    case = tmp_path / "chechnya"
    shutil.copytree(CHECHNYA, case)
    f = case / fname
    text = f.read_text()
    if new is None:  # insert a line after the first person's name
        text = text.replace(
            "    name: Ekaterina L. Sokiryanskaya\n",
            "    name: Ekaterina L. Sokiryanskaya\n" + old,
            1,
        )
    else:
        assert old in text
        text = text.replace(old, new, 1)
    f.write_text(text)
    with pytest.raises(InputError) as e:
        load(store, [case])
    assert store.digest() == before
    hits = [p for p in e.value.problems if message in p.message]
    assert len(e.value.problems) == 1, [str(p) for p in e.value.problems]  # no cascades
    assert hits, [str(p) for p in e.value.problems]
    p = hits[0]
    assert p.file.endswith(fname) and p.line > 0
    assert p.field == field or p.field.endswith("." + field) or p.field.endswith(field)


def test_kind_change_against_database_is_refused(store, tmp_path):
    _write(tmp_path / "a" / "r.yaml", "people: [{id: x, name: X}]\n")
    _write(tmp_path / "b" / "r.yaml", "organizations: [{id: x, name: X}]\n")
    load(store, [tmp_path / "a"])
    before = store.digest()
    with pytest.raises(InputError) as e:
        load(store, [tmp_path / "b"])
    assert "already a person in the database" in str(e.value)
    assert store.digest() == before


def test_allow_existing(store, tmp_path):
    load(store, [CHECHNYA])
    _write(
        tmp_path / "new" / "r.yaml",
        """
        statements:
          - {id: new-claim, speaker: ramzan-kadyrov, text: "A new claim", about: [{target: chechnya, stance: mentions}]}
        """,
    )
    with pytest.raises(InputError):
        load(store, [tmp_path / "new"])
    load(store, [tmp_path / "new"], allow_existing=True)
    assert rows(store, "MATCH (:Person {id: 'ramzan-kadyrov'})-[:SAID]->(s) RETURN s.id AS s") == [
        {"s": "new-claim"}
    ]


def test_dry_run_writes_nothing(store):
    plan = load(store, [CHECHNYA], dry_run=True)
    assert plan.summary()["nodes"]["Person"]["created"] == 3
    assert store.counts()["nodes"] == {}


@pytest.mark.neo4j
def test_streamed_load_in_small_chunks_gives_the_same_graph(store, tmp_path, monkeypatch):
    """Chunks are planned and written one after another; references to records later in the
    input (here: every file written backwards) wait until their nodes are written."""
    import json

    from kg import writers as loader_writers
    from kg.synth import write_case

    case = tmp_path / "fwd"
    write_case(case, 3000, seed=5, case="fwd", per_file=1000)
    # The same relation stated twice, far apart: the later wins, as in one chunk.
    rel = {
        "record": "relation",
        "type": "ASSOCIATED_WITH",
        "from": "per-fwd-1",
        "to": "per-fwd-2",
        "role": "twice",
    }
    parts = sorted(case.glob("*.jsonl"))
    with open(parts[0], "a", encoding="utf-8") as f:
        f.write(json.dumps({**rel, "description": "first"}) + "\n")
    with open(parts[-1], "a", encoding="utf-8") as f:
        f.write(json.dumps({**rel, "description": "second"}) + "\n")
    load(store, [case], chunk_records=1_000_000)
    whole = store.digest()
    store.reset()
    for p in parts:  # backwards: most references now point forward
        lines = p.read_text(encoding="utf-8").splitlines()
        head = [ln for ln in lines if '"record": "case"' in ln]
        p.write_text(
            "\n".join(head + [ln for ln in reversed(lines) if ln not in head]) + "\n",
            encoding="utf-8",
        )
    puts, early_rows = [], []
    real_put = loader_writers._Writers.put

    def put(self, batches, records, early=None):
        sent = batches + (early or [])
        puts.append(sum(len(rows) for op, _t, rows in sent if op == "create_edges"))
        early_rows.append(sum(len(rows) for _op, _t, rows in early or []))
        return real_put(self, batches, records, early)

    monkeypatch.setattr(loader_writers._Writers, "put", put)
    plan = load(store, [case], chunk_records=97, batch_size=50)
    assert store.digest() == whole
    # held back until their later end's chunk, then sent with it: none left for the end
    assert puts[-1] == 0 and sum(puts) == sum(store.counts()["relationships"].values())
    assert sum(early_rows) > 0  # and those between earlier chunks' nodes did not wait
    assert (
        plan.summary()["relationships"]["ASSOCIATED_WITH"]["created"]
        == store.counts()["relationships"]["ASSOCIATED_WITH"]
    )
    got = store.read(
        "MATCH (:Person {id: 'per-fwd-1'})-[r:ASSOCIATED_WITH {role: 'twice'}]->"
        "(:Person {id: 'per-fwd-2'}) RETURN r.description AS d"
    ).records
    assert [r["d"] for r in got] == ["second"]
    again = load(store, [case], chunk_records=500)
    assert all(c["created"] == c["updated"] == 0 for c in again.summary()["nodes"].values())
    assert all(
        c["created"] == c["updated"] == c["deleted"] == 0
        for c in again.summary()["relationships"].values()
    )


@pytest.mark.neo4j
def test_first_load_into_an_empty_database_reads_nothing_and_gives_the_same_graph(
    store, tmp_path, monkeypatch
):
    """Into an empty database, ids the input defines once are not looked up; the graph and
    the summary are the ones a load that looks everything up gives."""
    import gc

    import kg.loader as L
    from kg.store import Store
    from kg.synth import write_case

    case = tmp_path / "first"
    write_case(case, 2000, seed=8, case="first", per_file=700)
    shutil.copytree(CASES / "contract", tmp_path / "contract")  # entities shared by cases
    shutil.copytree(CHECHNYA, tmp_path / "chechnya")
    inputs = [case, tmp_path / "contract", tmp_path / "chechnya"]
    looked_up: list[int] = []
    real = Store.nodes_by_id

    def counting(self, ids, *a, **k):
        looked_up.append(len(ids))
        return real(self, ids, *a, **k)

    monkeypatch.setattr(Store, "nodes_by_id", counting)
    thresholds = gc.get_threshold()
    fresh = load(store, inputs, chunk_records=300).summary()
    assert gc.get_threshold() == thresholds  # the load's collector settings are undone
    fresh_digest, fresh_reads = store.digest(), sum(looked_up)
    store.reset()
    looked_up.clear()
    real_validate = L.validate_input
    monkeypatch.setattr(
        L, "validate_input", lambda *a, **k: (*real_validate(*a, **k)[:2], False)
    )  # "not empty"
    assert load(store, inputs, chunk_records=300).summary() == fresh
    assert store.digest() == fresh_digest
    total = sum(fresh["nodes"][lb]["created"] for lb in fresh["nodes"])
    assert sum(looked_up) == total
    assert fresh_reads < total / 20  # only entities several cases define are looked up
