"""The load's fast paths (issue 20) give the graph the plain paths give: relationships found
by element id, two relationship batches at once when they share no node, smaller first
chunks, remembered word normalisation; and kg's server JIT setting."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kg import loader
from kg.config import AUTO_FULL_BYTES, JIT_FLAGS, jit_mode
from kg.errors import ConfigError
from kg.loader import load
from kg.seal.scrub import _ASCII_WORD, norm, norm_word, words
from kg.synth import write_case
from kg.writers import create_edges_disjoint, edge_units


def _node(i: str) -> dict:
    return {"id": i, "props": {"id": i, "name": i, "cases": ["x"], "kg_records": ["x {}"]}}


def test_jit_setting_is_quick_for_small_graphs_and_full_for_large_ones():
    small, large = 10 * 2**20, AUTO_FULL_BYTES
    assert JIT_FLAGS[jit_mode({})] == JIT_FLAGS[jit_mode({}, small)] == ["-XX:TieredStopAtLevel=1"]
    assert jit_mode({}, large) == "full" and JIT_FLAGS["full"] == []
    assert jit_mode({"KG_NEO4J_JIT": " Full "}, small) == "full"
    assert jit_mode({"KG_NEO4J_JIT": "quick"}, large) == "quick"
    with pytest.raises(ConfigError, match="KG_NEO4J_JIT must be auto, quick or full"):
        jit_mode({"KG_NEO4J_JIT": "-XX:+Evil"})


def test_the_server_says_which_jit_it_runs(neo4j_env):
    from kg.runtime import LocalNeo4j

    local = LocalNeo4j(Path(neo4j_env["KG_HOME"]), int(neo4j_env["KG_BOLT_PORT"]))
    st = local.state()
    if st.get("runtime") == "java":  # a fresh test database is small: auto chose quick
        assert st["jit"] == "quick" and local.store_bytes() < AUTO_FULL_BYTES


def test_first_chunks_are_small_then_double():
    items = [loader.Entity("person", f"p{i}", {}, None) for i in range(20_000)]
    sizes = [n for _e, _r, n in loader._chunks(iter(items), 10_000)]
    assert sizes[:4] == [1_000, 2_000, 4_000, 8_000] and sum(sizes) == 20_000
    assert [n for _e, _r, n in loader._chunks(iter(items[:300]), 100)] == [100, 100, 100]
    # a 10,000-record input is read in chunks of 2,500 (the pipeline fills); large ones in
    # chunks of CHUNK_RECORDS; small ones in one
    assert loader._chunk_size(10_000, 10_000) == 2_500
    assert loader._chunk_size(1_000_000, 10_000) == 10_000
    assert loader._chunk_size(300, 10_000) == 1_000


@pytest.mark.parametrize(
    "word", ["Testov", "ТЕСТОВ", "Ǆemal", "ﬁx", "İstanbul", "Straße", "Zelimkhan", "Ахмед", "x²"]
)
def test_remembered_normalisation_equals_norm(word):
    assert norm_word(word) == norm(word) == norm_word(word)
    assert words(f"«{word}» and {word}") == [norm(word), "and", norm(word)]


def _scrubber():
    from kg.seal.scrub import Scrubber

    sc = Scrubber()
    sc.add("person", "[P1]", ["Zelimkhan Testov", "Ахмед Кадиев"], ["case-person-07"])
    sc.add(
        "organization", "[O1]", ["Sokiryanskaya Sources Group", "Sokiryanskaya Sources"], ["org-x"]
    )
    sc.add("person", "[P2]", ["Anna"], ["idx", "org-xs", "a.b-07"], frozenset())
    sc.add("person", "[P3]", [], [f"filler-{i}" for i in range(64)])  # enough for the pre-test
    return sc


_WORDS = [
    "zelimkhan",
    "Testov",
    "TESTOV",
    "sokiryanskaya",
    "sources",
    "group",
    "Ахмед",
    "кадиев",
    "anna",
    "annA's",
    "case-person-07",
    "case-person-070",
    "org-x",
    "x",
    "-",
    "ﬁx",
    "l'avocat",
    "tab\\there",
    '\\"',
    "«свидетель»",
    "Straße",
    "  ",
    "\n",
    "CASE-PERSON-07",
    "x.case-person-07.y",
    "case-person-07\u212a",
    "\u0130case-person-07",
    "\u212aorg-x",
    "ORG-X!",
    "\u0130dx",
    "org-x\u017f",
    "idx",
    "IDX",
    "idx_y",
    "idx2",
    "\u0131dx",
    "a.b-07",
    "xa.b-07",
    "Ze\u0301limkhan",
    "Tes\u00adtov",
    "testov2017",
    "@testov_z",
    "\u200b",
    "A.B-07",
    ".b-07",
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(_WORDS[:10]) | st.sampled_from(_WORDS) | st.text(max_size=4), max_size=8
    ),
    st.sampled_from([" ", "", "-", '"', ", "]),
)
@example(["Sokiryanskaya", "sources", "x"], " ")
@example(["zelimkhan", "x"], " ")
@example(["case-person-07"], '"')
@example(["\u0130dx"], " ")  # lower() makes "i̇dx" of it: once a KeyError in _spans
@example(["org-x\u017f"], " ")
@example(["\u0131dx"], "-")  # dotless i: the pattern takes it for i
@example(["IDX", "idx_y"], " ")  # a one-run id, whole and inside a longer run
@example(["idx2", "x"], " ")  # a hidden id's last run, and a one-run id inside a longer run
@example(["sources", "sokiryanskaya", "sources"], " ")  # a phrase's first two words, later
@example(["xorg-x", "org-x"], " ")  # a longer id inside a longer run, then whole
@example(["\u0130org-x", "org-\u212a"], "")  # case traps around and inside a longer id
@example(["zorg", "-x"], "")  # a longer id's last run, the rest of the id glued to a word
@example(["org_x", "idx_y", "a_org-x"], " ")  # underscores: inside a word, between runs
def test_mentions_any_is_whether_mentions_finds_any(parts, sep):
    sc, text = _scrubber(), sep.join(parts)
    assert sc.mentions_any(text) == bool(sc.mentions(text))
    id_re = sc._ids_re()
    assert not sc._id_few
    assert sc._may_name_id(text) or id_re.search(text) is None  # the id pre-test never lies
    assert sc._names_id(text) == (id_re.search(text) is not None)  # one-run ids without it
    if text.isascii():  # given its lower(), as mentions_any does
        assert sc._names_id(text, text.lower()) == (id_re.search(text) is not None)
    assert sc._may_hold_phrase(words(text)) or not sc._word_spans(text)  # nor the phrase one
    if text.isascii():  # the ASCII word pattern finds the words the general one does
        assert _ASCII_WORD.findall(text.lower()) == words(text)


_TEXTS = st.tuples(
    st.lists(st.sampled_from(_WORDS) | st.text(max_size=4), max_size=6),
    st.sampled_from([" ", "\n", "\t", '"', "\\", "\\n", "\x01"]),
).map(lambda t: t[1].join(t[0]))


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["text", "description", "name"]), _TEXTS, max_size=3),
    st.lists(_TEXTS, max_size=3),
    st.sampled_from(["whole", "other", "two", "glued"]),
)
@example({"description": "x\nTestov"}, [], "whole")  # a name after an escaped line break
@example({"text": "a.b-07"}, ["x"], "two")
@example({"text": "Testov"}, [], "glued")
def test_quick_clear_seals_a_node_as_scrubbing_every_text_does(texts, aliases, entry):
    """A public node whose record entries mention no hidden record keeps the texts they hold,
    and its edges' texts they hold, without scanning them (Sealing.quick_clear): the same
    rows as scanning every text."""
    import orjson

    from kg import seal as S
    from kg.mapping import EdgeRow, GraphRows, NodeRow

    props = {"id": "n", **texts, "aliases": aliases}
    glued = {k: "a" + v + "b" for k, v in texts.items()}  # each text inside a longer word
    data = {"whole": props, "other": {"id": "n", "name": "Other"}, "glued": glued}.get(entry, props)
    entries = ["c " + orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()]
    if entry == "two":  # a second case's record, without the texts
        entries.append('d {"id":"n","name":"Other"}')
    row = NodeRow("n", "Person", dict(props, kg_records=entries), ("c",))
    said = EdgeRow("REPORTED_BY", "n", "src", {"quote": texts.get("text", "x")}, "n")
    rows = GraphRows(nodes=[row], edges=[said])  # the node's edge: its quote from its record
    sealing = S.Sealing(S.Keyring(b"k" * 32), {}, _scrubber())
    quick = sealing.rows(rows)
    sealing.quick_clear = False
    assert sealing.rows(rows) == quick


def test_the_id_pre_test_knows_every_character_that_folds_into_ascii():
    import re
    import sys

    from kg.seal.scrub import _CASE_TRAPS, _TRAP_ASCII

    alnum = re.compile("[a-z0-9]", re.IGNORECASE)
    for c in map(chr, range(0x80, sys.maxunicode + 1)):
        if alnum.match(c) or re.search("[A-Za-z0-9]", c.lower()):
            assert c in _CASE_TRAPS, hex(ord(c))
    for c in _CASE_TRAPS:  # turned into the one letter the case-blind pattern takes it for
        letters = [a for a in "abcdefghijklmnopqrstuvwxyz0123456789" if re.fullmatch(a, c, re.I)]
        assert letters == [c.translate(_TRAP_ASCII)], hex(ord(c))


def test_element_id_path_never_attaches_to_a_node_that_replaced_the_written_one(store):
    ends = store.merge_nodes("Person", [_node(i) for i in "abc"], [])
    store.write("MATCH (n:Entity {id: 'a'}) DETACH DELETE n")
    store.merge_nodes("Person", [_node("z")], [])  # may take a's place
    row = {"start": "a", "end": "c", "props": {"cases": ["x"]}, "s": ends["a"], "e": ends["c"]}
    store.create_edges("ASSOCIATED_WITH", [row], by_element_id=True)
    assert store.counts()["relationships"] == {}
    row = {"start": "c", "end": "b", "props": {"cases": ["x"]}}
    units = edge_units("ASSOCIATED_WITH", [row], 10, {"c": ends["c"]})
    assert [u[2] for u in units] == [False]  # b's element id unknown: found by its id
    store.create_edges("ASSOCIATED_WITH", units[0][1], by_element_id=units[0][2])
    assert store.counts()["relationships"] == {"ASSOCIATED_WITH": 1}


@pytest.mark.parametrize("fast", [True, False])
def test_a_node_made_meanwhile_by_another_load_keeps_its_record(store, monkeypatch, fast):
    """The load planned the node as new; another case's load made it first. Set whole or
    through the full statement, the node ends with both records and both cases."""
    monkeypatch.setattr(store, "fast_nodes", fast)

    def row(case, name):
        rec = case + ' {"id": "a"}'
        return {"id": "a", "props": {"id": "a", "name": name, "cases": [case], "kg_records": [rec]}}

    first = store.merge_nodes("Person", [row("zeta", "Z")], [])
    again = store.merge_nodes("Person", [row("alpha", "A"), _node("b")], [])
    assert again["a"] == first["a"] and set(again) == {"a", "b"}
    got = store.read("MATCH (n:Person {id: 'a'}) RETURN properties(n) AS p").records[0]["p"]
    assert got == {
        "id": "a",
        "name": "A",
        "cases": ["alpha", "zeta"],
        "kg_records": ['alpha {"id": "a"}', 'zeta {"id": "a"}'],
    }


def test_an_equal_edge_made_meanwhile_gains_the_case_instead_of_a_twin(store):
    """Another load made the edge between this load's planning and its write: one edge,
    both cases; rows without an equal edge in the same batch are created as usual."""
    ends = store.merge_nodes("Person", [_node(i) for i in "abcd"], [])
    store.write(
        "MATCH (a:Entity {id: 'a'}), (b:Entity {id: 'b'}) "
        "CREATE (a)-[:AFFILIATED_WITH {role: 'head', cases: ['other'], "
        "kg_records: ['other {}']}]->(b)"
    )

    def row(s, e, role):
        props = {"role": role, "cases": ["x"], "kg_records": ["x {}"]}
        return {"start": s, "end": e, "props": props, "s": ends[s], "e": ends[e]}

    rows = [row("a", "b", "head"), row("a", "b", "deputy"), row("c", "d", "head")]
    store.create_edges("AFFILIATED_WITH", rows, key=("role",), by_element_id=True)
    got = store.read(
        "MATCH (a)-[r:AFFILIATED_WITH]->(b) RETURN a.id AS a, b.id AS b, r.role AS role, "
        "r.cases AS cases, r.kg_records AS recs ORDER BY a, role"
    ).records
    assert [(r["a"], r["b"], r["role"], r["cases"], r["recs"]) for r in got] == [
        ("a", "b", "deputy", ["x"], ["x {}"]),
        ("a", "b", "head", ["other", "x"], ["other {}", "x {}"]),
        ("c", "d", "head", ["x"], ["x {}"]),
    ]


def test_a_load_waits_for_another_making_the_same_edge_and_joins_it(store):
    """The guard against two loads making twins: creating an edge takes the start node's
    lock before looking for an equal edge. Here another transaction holds that lock, makes
    the equal edge meanwhile and commits: the load waits, then finds the edge and adds its
    case to it. (Without the lock first, its look would find nothing and make a twin.)"""
    store.merge_nodes("Person", [_node(i) for i in "ab"], [])
    store._lock_key()
    row = {"start": "a", "end": "b", "props": {"cases": ["x"]}}
    done = threading.Event()
    with store.driver.session(database=store.database) as session:
        tx = session.begin_transaction()
        tx.run("MATCH (n:Entity {id: 'a'}) REMOVE n.kg_lock").consume()  # holds a's lock
        worker = threading.Thread(
            target=lambda: (store.create_edges("ASSOCIATED_WITH", [row]), done.set())
        )
        worker.start()
        blocked = not done.wait(1.5)
        tx.run(
            "MATCH (a:Entity {id: 'a'}), (b:Entity {id: 'b'}) "
            "CREATE (a)-[:ASSOCIATED_WITH {cases: ['other']}]->(b)"
        ).consume()
        tx.commit()
        worker.join(30)
    assert blocked and done.is_set()
    got = store.read("MATCH ()-[r:ASSOCIATED_WITH]->() RETURN r.cases AS c").records
    assert [r["c"] for r in got] == [["other", "x"]]


def test_relationship_batches_sharing_a_node_are_never_written_at_once(store):
    store.merge_nodes("Person", [_node(f"n{i}") for i in range(8)], [])

    def rows(pairs):
        return [{"start": a, "end": b, "props": {"cases": ["x"]}} for a, b in pairs]

    units = [
        ("ASSOCIATED_WITH", rows([("n0", "n1"), ("n1", "n2")]), False),
        ("ASSOCIATED_WITH", rows([("n2", "n3")]), False),  # shares n2 with the first
        ("ASSOCIATED_WITH", rows([("n4", "n5")]), False),  # shares nothing
        ("ASSOCIATED_WITH", rows([("n5", "n6"), ("n7", "n0")]), False),
    ]
    running: list[set] = []
    overlaps: list[tuple] = []
    concurrent = []
    lock = threading.Lock()
    real = store.create_edges

    def watched(t, batch, key=(), by_element_id=False):
        nodes = {r["start"] for r in batch} | {r["end"] for r in batch}
        with lock:
            overlaps.extend((nodes, o) for o in running if nodes & o)
            concurrent.append(len(running))
            running.append(nodes)
        time.sleep(0.2)  # long enough for a second transaction to start, were it allowed
        try:
            real(t, batch, key=key, by_element_id=by_element_id)
        finally:
            with lock:
                running.remove(nodes)

    store.create_edges = watched
    with ThreadPoolExecutor(max_workers=2) as pool:
        create_edges_disjoint(store, units, pool)
    assert overlaps == [] and max(concurrent) == 1  # two at once, never two sharing a node
    assert store.counts()["relationships"] == {"ASSOCIATED_WITH": 6}


def test_a_failing_batch_fails_the_write_after_the_other_one_finished(store):
    store.merge_nodes("Person", [_node(i) for i in "abcd"], [])
    good = ("ASSOCIATED_WITH", [{"start": "a", "end": "b", "props": {"cases": ["x"]}}], False)
    bad = ("NOT_A_TYPE", [{"start": "c", "end": "d", "props": {"cases": ["x"]}}], False)
    with ThreadPoolExecutor(max_workers=2) as pool, pytest.raises(Exception):
        create_edges_disjoint(store, [bad, good], pool)
    assert store.counts()["relationships"] == {"ASSOCIATED_WITH": 1}


def test_fast_paths_give_the_graph_of_the_plain_paths(store, tmp_path, monkeypatch):
    """Loads through element ids, parallel batches, small first chunks and nodes set whole
    when made; the same cases again with every fast path off (one chunk, no element ids, one
    batch at a time, every node through the full statement)."""
    case = tmp_path / "c"
    write_case(case, 3_000, seed=21, case="fast")
    # a second case defining 800 of the same entities: nodes with two cases' records
    lines = next(case.glob("*.jsonl")).read_text(encoding="utf-8").splitlines()
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "d.jsonl").write_text(
        '{"record": "case", "id": "again", "title": "Again"}\n' + "\n".join(lines[1:801]) + "\n",
        encoding="utf-8",
    )
    load(store, [case], batch_size=500)
    load(store, [tmp_path / "d"], batch_size=500)
    fast = store.digest(cases=True)
    store.reset()
    import kg.writers as W

    monkeypatch.setattr(loader, "FIRST_CHUNK", 10**9)
    monkeypatch.setattr(
        W,
        "edge_units",
        lambda name, rows, size, written: [
            (name, rows[i : i + size], False) for i in range(0, len(rows), size)
        ],
    )

    def one_at_a_time(st, units, pool):
        for t, rows, by_eid in units:
            st.create_edges(t, rows, key=W.edge_key_props(t), by_element_id=by_eid)

    monkeypatch.setattr(W, "create_edges_disjoint", one_at_a_time)
    monkeypatch.setattr(store, "fast_nodes", False)  # every node through the full statement
    load(store, [case], batch_size=500)
    load(store, [tmp_path / "d"], batch_size=500)
    assert store.digest(cases=True) == fast


def test_batched_statements_take_their_rows_in_a_map(store, tmp_path, monkeypatch):
    """Neo4j plans a statement again for each order of magnitude of a list parameter's length:
    a load's, a reload's, an unload's and an export's batched statements take their rows or
    ids inside the map `$batch`, so that a load plans nothing the warm-up planned."""
    import re

    import neo4j
    from neo4j._sync.work.transaction import TransactionBase

    from kg.loader import unload
    from kg.selection import Selection, select

    sent: list[tuple[str, dict]] = []
    tx_run, execute_query = TransactionBase.run, neo4j.Driver.execute_query

    def run(self, query, parameters=None, **kw):
        sent.append((str(query), dict(parameters or {}, **kw)))
        return tx_run(self, query, parameters, **kw)

    def eager(self, query, parameters_=None, *a, **kw):
        sent.append((str(getattr(query, "text", query)), dict(parameters_ or {})))
        return execute_query(self, query, parameters_, *a, **kw)

    monkeypatch.setattr(TransactionBase, "run", run)
    monkeypatch.setattr(neo4j.Driver, "execute_query", eager)
    case = tmp_path / "c"
    write_case(case, 400, seed=3, case="maps")
    load(store, [case])
    path = next(case.glob("*.jsonl"))
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:300]).replace("Place", "Lieu") + "\n", encoding="utf-8")
    load(store, [case])  # updates, deletions, retractions
    select(store, Selection(case="maps"), with_citations=True)
    unload(store, "maps")
    unwound = [(m.group(1), q, p) for q, p in sent for m in re.finditer(r"UNWIND \$(\w+)", q)]
    assert {name for name, _q, _p in unwound} == {"batch"}, unwound[:3]
    lists = [(q[:60], k) for q, p in sent for k, v in p.items() if isinstance(v, list)]
    assert all(k in ("out", "inc", "cases") for _q, k in lists), lists[:5]


@pytest.mark.neo4j
def test_a_small_input_keeps_its_validated_records_and_loads_the_same_graph(
    store, monkeypatch, tmp_path
):
    """Pass two takes the records pass one validated (a small input) or reads and validates
    the input again: the same graph, with cases sharing ids and confidential records."""
    import kg.inputs

    for case, extra in (("alpha", "description: From alpha."), ("bravo", "aliases: [Pe One]")):
        (tmp_path / f"{case}.yaml").write_text(
            f"case: {{id: {case}, title: {case}}}\n"
            f"people:\n  - id: p1\n    name: Person One\n    {extra}\n"
            f"statements:\n  - id: {case}-s1\n    text: Said in {case}.\n    speaker: p1\n"
            "relations:\n  - {type: ASSOCIATED_WITH, from: p1, to: zelimkhan-testov}\n"
        )
    cases = Path(__file__).resolve().parent / "cases"
    inputs = [cases / "sealed", tmp_path / "alpha.yaml", tmp_path / "bravo.yaml"]
    seen = []
    real = loader.iter_valid

    def spy(inp, checker):
        seen.append(checker.validated is not None)
        return real(inp, checker)

    monkeypatch.setattr(loader, "iter_valid", spy)
    load(store, inputs)
    kept = store.canonical_lines(cases=True)
    store.write("MATCH (n) DETACH DELETE n")
    monkeypatch.setattr(kg.inputs, "KEEP_BYTES", 0)
    load(store, inputs)
    assert seen == [True, False]
    assert store.canonical_lines(cases=True) == kept


@pytest.mark.neo4j
def test_a_load_switches_threads_often_and_restores_the_interval(store, monkeypatch):
    import sys

    seen = []
    real = store.merge_nodes

    def spy(*a, **k):
        seen.append(sys.getswitchinterval())
        return real(*a, **k)

    monkeypatch.setattr(store, "merge_nodes", spy)
    before = sys.getswitchinterval()
    load(store, [Path(__file__).resolve().parent / "cases" / "sealed"])
    assert seen and set(seen) == {loader.SWITCH_INTERVAL}
    assert sys.getswitchinterval() == before


def test_the_drivers_retry_warning_is_not_shown(caplog):
    """A deadlock between the two relationship writers is retried (docs/reliability.md); the
    driver's warning about it would read as a failure in the middle of a load that succeeds."""
    import logging

    import kg.connection  # noqa: F401

    log = logging.getLogger("neo4j.session")
    log.warning("Transaction failed and will be retried in %ss (%s)", 0.05, "DeadlockDetected")
    log.warning("something else")
    assert [r.getMessage() for r in caplog.records] == ["something else"]
