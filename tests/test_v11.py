"""Record format v1.1 (statement links, source lineage, date bounds) against the real Neo4j,
and the queries that reason with it: reversals, timeline, independent origins, as-of."""

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from conftest import CASES

from kg import queries as Q
from kg.errors import InputError, UsageError
from kg.loader import load
from kg.render import rows_to_plain
from kg.validation import collect

pytestmark = pytest.mark.neo4j

V11 = CASES / "v11"


def rows(store, cypher, **params):
    return [dict(r) for r in store.read(cypher, params).records]


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "records.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def test_v11_case_loads_into_the_contract_graph(store):
    load(store, [V11])
    rels = store.counts()["relationships"]
    assert rels["REVISES"] == 1 and rels["RETRACTS"] == 1 and rels["REPEATS"] == 1
    assert rels["CONFIRMS"] == 1 and rels["CONTRADICTS"] == 1
    assert rels["COPY_OF"] == 1 and rels["KNOWN_THROUGH"] == 1
    got = rows(
        store,
        "MATCH (a:Statement)-[r:REVISES]->(b:Statement) "
        "RETURN a.id AS a, b.id AS b, r.sources AS s",
    )
    assert got == [{"a": "olan-fight", "b": "olan-denial", "s": ["wire-article"]}]
    # a relation record between statements: relation-made (sources, no `statement`)
    got = rows(
        store,
        "MATCH (a)-[r:CONTRADICTS]->(b) RETURN a.id AS a, b.id AS b, "
        "r.sources AS s, r.statement AS owner",
    )
    assert got == [{"a": "ngo-rebuttal", "b": "olan-fight", "s": ["ngo-report"], "owner": None}]
    # via as a list: one VIA edge each, SAID.via keeps the first
    assert rows(
        store, "MATCH (:Statement {id: 'olan-denial'})-[:VIA]->(o) RETURN o.id AS o ORDER BY o"
    ) == [{"o": "varania-press-agency"}, {"o": "varania-tv"}]
    assert rows(store, "MATCH ()-[s:SAID]->(:Statement {id: 'olan-denial'}) RETURN s.via AS v") == [
        {"v": "varania-press-agency"}
    ]
    got = rows(
        store,
        "MATCH (s:Statement {id: 'olan-denial'}) RETURN s.date_bound AS b, "
        "s.original_text AS t, s.original_language AS l, s.date_precision AS p",
    )
    assert got == [
        {"b": "on-or-before", "t": "Il a quitté le consulat vivant.", "l": "fr", "p": "day"}
    ]
    assert rows(store, "MATCH (s:Source {id: 'ngo-report'}) RETURN s.published_bound AS b") == [
        {"b": "on-or-before"}
    ]
    assert rows(store, "MATCH (e:Event {id: 'consulate-killing'}) RETURN e.date_bound AS b") == [
        {"b": "on-or-after"}
    ]
    assert rows(store, "MATCH (:Source {id: 'harbour-copy'})-[:COPY_OF]->(s) RETURN s.id AS s") == [
        {"s": "wire-article"}
    ]
    assert rows(store, "MATCH (o:Organization {kind: 'collective'}) RETURN o.id AS o") == [
        {"o": "varanian-officials"}
    ]


def test_v11_reload_is_idempotent_and_follows_changes(store, tmp_path):
    case = tmp_path / "v11"
    shutil.copytree(V11, case)
    load(store, [case])
    digest = store.digest()
    second = load(store, [case]).summary()
    assert store.digest() == digest
    assert all(
        v["created"] == v["updated"] == v["deleted"] == 0 for v in second["relationships"].values()
    )
    # the statement no longer revises: its edge goes; the relation-made CONTRADICTS stays
    path = case / "records.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "    revises:\n      - {statement: olan-denial, reported_by: "
        '[{source: wire-article, quote: "died in a fight"}]}\n',
        "",
    )
    text = text.replace(
        "retracts: [{statement: olan-denial, reported_by: [ngo-report]}]",
        "retracts: [{statement: olan-denial, reported_by: [ngo-report, vpa-report]}]",
    )
    path.write_text(text, encoding="utf-8")
    load(store, [case])
    rels = store.counts()["relationships"]
    assert "REVISES" not in rels and rels["CONTRADICTS"] == 1
    assert rows(store, "MATCH ()-[r:RETRACTS]->() RETURN r.sources AS s") == [
        {"s": ["ngo-report", "vpa-report"]}
    ]


def test_v1_records_still_load_the_same(store):
    load(store, [CASES / "contract"])
    assert rows(store, "MATCH ()-[s:SAID]->(:Statement {id: 'stmt-claim'}) RETURN s.via AS v") == [
        {"v": "org-ngo"}
    ]


def test_v11_mistakes_are_located(tmp_path):
    case = _write(
        tmp_path / "bad",
        """\
        organizations:
          - {id: a, name: A, parent: b}
          - {id: b, name: B, parent: a}
          - {id: c, name: C, kind: collectiv}
        people:
          - {id: p, name: P}
        sources:
          - {id: s1, title: S1, copy_of: s1}
          - {id: s2, title: S2, published_bound: on-or-before}
          - {id: s3, title: S3, known_through: p}
        events:
          - {id: e, title: E, start: 2018, end: 2019, date_bound: on-or-after}
        statements:
          - {id: st, speaker: p, text: T, revises: [st2], date: 2018, date_bound: before}
          - {id: st2, speaker: p, text: T2, retracts: [{statement: e}], via: [a, p]}
          - {id: st3, speaker: p, text: T3, confirms: [{statement: st2, reported_by: [nope]}]}
        relations:
          - {type: COPY_OF, from: s1, to: s2}
          - {type: REVISES, from: e, to: st}
        """,
    )
    with pytest.raises(InputError) as err:
        collect([case])
    text = str(err.value)
    f = str(case / "records.yaml")
    assert f"{f}:2: a: parent: parent goes round in a circle: a -> b -> a" in text
    assert "kind: expected 'government'" in text and "'collective'" in text
    assert (
        f"{f}:8: s1: -: copy_of names the source itself" in text
        or "copy_of names the source itself" in text
    )
    assert "published_bound needs published" in text
    assert "s3: known_through: 'p' is a person; expected a source" in text
    assert "date_bound needs date" in text
    assert "date_bound: expected 'on-or-before' or 'on-or-after'" in text
    assert "st2: retracts[0].statement: 'e' is a event; expected a statement" in text
    assert "st2: via[1]: 'p' is a person; expected a organization" in text
    assert "st3: confirms[0].reported_by[0].source: reference 'nope' not found" in text
    assert "COPY_OF is made by the source field copy_of" in text
    assert "REVISES cannot go from a event to a statement" in text


@pytest.fixture
def v11(store):
    load(store, [V11])
    return store


def run(store, name, **params):
    q = Q.Library.load().get(name)
    res = Q.run(store, q, Q.bind(q, {k: str(v) for k, v in params.items()}))
    return rows_to_plain(list(res.keys), res.records)


def test_corroboration_counts_origins_and_says_how(v11):
    row = run(v11, "corroboration")[0]
    assert (row["id"], row["sources"], row["independent_origins"]) == ("consulate-killing", 5, 3)
    assert row["origins"] == ["rights-watchers", "varania-government", "wire-service"]
    assert row["counted"] == [
        "rights-watchers: ngo-report",
        "varania-government: vpa-report, vtv-broadcast (common owner varania-government)",
        "wire-service: harbour-copy, wire-article (copies of wire-article)",
    ]
    # as of 21 October: the month-dated broadcast (known by 31 October) and later sources drop
    row = run(v11, "corroboration", as_of="2018-10-21")[0]
    assert (row["sources"], row["origins"]) == (2, ["varania-government", "wire-service"])
    # nothing was known by then: the event is not shown
    assert run(v11, "corroboration", as_of="2018-10-05") == []


def test_single_source_and_contested_count_origins(v11):
    rows = {r["id"]: r for r in run(v11, "single-source")}
    assert rows["olan-denial"]["origin"] == "varania-government"
    assert rows["olan-denial"]["counted"] == [
        "varania-government: vpa-report, vtv-broadcast (common owner varania-government)"
    ]
    assert rows["olan-fight"]["counted"] == [
        "wire-service: harbour-copy, wire-article (copies of wire-article)"
    ]
    assert "consulate-killing" not in rows
    row = run(v11, "contested")[0]
    assert (row["supporting_origins"], row["opposing_origins"]) == (2, 1)
    assert row["opposing_counted"] == [
        "varania-government: vpa-report, vtv-broadcast (common owner varania-government)"
    ]


def test_a_shared_owner_and_a_copy_join_one_origin(store, tmp_path):
    """A copy joins its original; its publisher's owner joins the owner's other outlets."""
    case = _write(
        tmp_path / "lineage",
        """\
        organizations:
          - {id: gov, name: Gov}
          - {id: tv, name: TV, parent: gov}
          - {id: agency, name: Agency, parent: gov}
          - {id: paper, name: Paper}
          - {id: other, name: Other}
        sources:
          - {id: s-agency, title: A, publisher: agency}
          - {id: s-tv, title: B, publisher: tv, copy_of: s-paper}
          - {id: s-paper, title: C, publisher: paper}
          - {id: s-other, title: D, publisher: other, known_through: s-paper}
          - {id: s-nopub, title: E}
        events:
          - {id: e, title: E, reported_by: [s-agency, s-tv, s-paper, s-other, s-nopub]}
        relations:
          - {type: PART_OF, from: other, to: gov}
        """,
    )
    load(store, [case])
    row = run(store, "corroboration")[0]
    assert (row["sources"], row["independent_origins"]) == (5, 3)
    assert row["counted"] == [
        "gov: s-agency, s-paper, s-tv (common owner gov; copies of s-paper)",
        "other: s-other",
        "s-nopub: s-nopub",
    ]


def test_reversals_list_one_speakers_story_in_order_with_sources(v11):
    rows = run(v11, "reversals")
    assert [(r["step"], r["date"], r["statement"], r["change"], r["sources"]) for r in rows] == [
        (1, "on or before 2018-10-05", "olan-denial", [], ["vpa-report", "vtv-broadcast"]),
        (2, "2018-10-10", "olan-repeat", ["repeats olan-denial"], ["vtv-broadcast"]),
        (
            3,
            "2018-10-20",
            "olan-fight",
            ["revises olan-denial [wire-article]"],
            ["harbour-copy", "wire-article"],
        ),
        (4, "2018-10-25", "olan-retraction", ["retracts olan-denial [ngo-report]"], ["ngo-report"]),
    ]
    assert {r["speaker"] for r in rows} == {"Minister Olan"}
    assert rows[0]["stances"] == ["denies consulate-killing"]
    # as of 21 October the retraction was not yet known
    assert [r["statement"] for r in run(v11, "reversals", as_of="2018-10-21")] == [
        "olan-denial",
        "olan-fight",
    ]


def test_timeline_shows_statements_and_honours_bounds(v11):
    rows = run(v11, "timeline")
    assert [(r["type"], r["id"]) for r in rows][:3] == [
        ("event", "consulate-killing"),
        ("statement", "olan-denial"),
        ("statement", "olan-repeat"),
    ]
    # said on or before 5 October: possibly inside 1-3 October, certainly not after the 6th
    got = {r["id"]: r["fit"] for r in run(v11, "timeline", since="2018-10-01", until="2018-10-03")}
    assert got == {"consulate-killing": "overlaps", "olan-denial": "overlaps"}
    assert "olan-denial" not in {r["id"] for r in run(v11, "timeline", since="2018-10-06")}
    got = {r["id"]: r["fit"] for r in run(v11, "timeline", since="2018-10-02", until="2018-10-05")}
    assert got["olan-denial"] == "overlaps"
    with pytest.raises(UsageError, match="did you mean .event."):
        run(v11, "timeline", kinds="events")


def test_as_of_on_query_run_export_analyze_and_cypher(runner, v11, tmp_path):
    from kg.cli import cli

    # between the wire article (21 Oct) and the NGO report (Nov): the rebuttal is not yet known
    res = runner.invoke(
        cli,
        [
            "query",
            "run",
            "claims-about",
            "-p",
            "id=consulate-killing",
            "--as-of",
            "2018-10-21",
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    said = {s for r in json.loads(res.output) for s in r["statement_ids"]}
    assert said == {"olan-denial", "olan-fight", "officials-confirm"}
    res = runner.invoke(
        cli, ["query", "run", "claims-about", "-p", "id=consulate-killing", "--format", "json"]
    )
    assert "ngo-rebuttal" in res.output
    res = runner.invoke(
        cli,
        [
            "export",
            "json",
            "--out",
            str(tmp_path / "g.json"),
            "--case",
            "v11-case",
            "--as-of",
            "2018-10-21",
        ],
    )
    assert res.exit_code == 0, res.output
    graph = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))
    ids = {n["id"] for n in graph["nodes"]}
    assert {"olan-fight", "wire-article", "vpa-report", "consulate-killing"} <= ids
    assert not ids & {
        "ngo-rebuttal",
        "olan-retraction",
        "ngo-report",
        "harbour-copy",
        "vtv-broadcast",
        "olan-repeat",
    }
    # curated records no source reports stay, flagged
    people = {n["id"]: n for n in graph["nodes"] if n["id"] == "minister-olan"}
    assert "minister-olan" in people and json.dumps(people["minister-olan"]).count("unsourced")
    assert all(e.get("type") != "CONTRADICTS" for e in graph.get("edges", graph.get("links", [])))
    res = runner.invoke(
        cli,
        [
            "analyze",
            "centrality",
            "--case",
            "v11-case",
            "--as-of",
            "2018-10-21",
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    ranked = [r["id"] for r in json.loads(res.output)]
    assert "ngo-rebuttal" not in ranked and "olan-fight" in ranked
    assert not any(r.endswith("-report") or r.endswith("-article") for r in ranked)  # no sources
    res = runner.invoke(
        cli, ["analyze", "centrality", "--case", "v11-case", "--with-sources", "--format", "json"]
    )
    assert "wire-article" in res.output
    res = runner.invoke(
        cli,
        [
            "cypher",
            "--as-of",
            "2018-10",
            "MATCH (s:Source) WHERE s.known_by <= $as_of RETURN s.id AS id ORDER BY id",
            "--format",
            "json",
        ],
    )
    assert [r["id"] for r in json.loads(res.output)] == [
        "harbour-copy",
        "vpa-report",
        "vtv-broadcast",
        "wire-article",
    ]
    # a query without as_of refuses --as-of, and names those that take it
    res = runner.invoke(
        cli, ["query", "run", "network", "-p", "id=minister-olan", "--as-of", "2018-10-21"]
    )
    assert res.exit_code == 2 and "does not take --as-of" in res.output
    res = runner.invoke(
        cli, ["query", "run", "statements-about", "-p", "id=consulate-killing", "-p", "stance=deny"]
    )
    assert res.exit_code == 2
    assert "'stance'" in res.output and "did you mean 'denies'" in res.output


def test_known_when_shows_the_sequence(v11):
    rows = run(v11, "known-when", id="consulate-killing")
    assert [(r["known_by"], r["source"]) for r in rows] == [
        ("2018-10-06", "vpa-report"),
        ("2018-10-21", "wire-article"),
        ("2018-10-22", "harbour-copy"),
        ("2018-10-31", "vtv-broadcast"),
        ("2018-11-30", "ngo-report"),
    ]
    assert rows[0]["denied"] == ["Minister Olan: olan-denial"]
    assert rows[1]["asserted"] == [
        "Minister Olan: olan-fight",
        "Varanian officials: officials-confirm",
    ]
    assert rows[4]["published"] == "on or before 2018-11"
    assert len(run(v11, "known-when", id="consulate-killing", as_of="2018-10-21")) == 2


def test_the_interval_rule():
    from kg.dates import PartialDate as P
    from kg.dates import interval, known_by, overlaps, within

    march = interval(P.parse("2020-03"))
    assert not known_by(march, P.parse("2020-03-10")) and known_by(march, P.parse("2020-03"))
    assert within(march, P.parse("2020"), P.parse("2020"))
    assert overlaps(march, P.parse("2020-03-10"), P.parse("2020-03-11"))
    assert not within(march, P.parse("2020-03-10"), P.parse("2020-03-11"))
    before = interval(P.parse("2020-03-05"), "on-or-before")
    assert overlaps(before, P.parse("2019"), P.parse("2019")) and not within(
        before, P.parse("2019")
    )
    assert known_by(before, P.parse("2020-03-05"))
    after = interval(P.parse("2020-03"), "on-or-after")
    assert not known_by(after, P.parse("2099")) and overlaps(after, P.parse("2030"))
    assert not overlaps(None, P.parse("2020")) and within(None)


def test_affiliations_through_sub_organizations(v11):
    rows = run(v11, "affiliations", id="varania-government")
    assert [(r["person_id"], r["depth"], r["through"]) for r in rows] == [
        ("minister-olan", 1, "varania-information-ministry")
    ]
    rows = run(v11, "affiliations", id="minister-olan")
    assert [(r["organization_id"], r["depth"]) for r in rows] == [
        ("varania-information-ministry", 0),
        ("varania-government", 1),
    ]


def test_shortest_paths_ignore_mentions_and_sources_by_default(store, tmp_path):
    case = _write(
        tmp_path / "paths",
        """\
        people:
          - {id: a, name: A}
          - {id: b, name: B}
          - {id: c, name: C}
        events:
          - {id: e, title: E, participants: [{actor: c, role: witness}, {actor: b, role: victim}]}
        sources:
          - {id: s, title: S}
        statements:
          - {id: m, speaker: a, text: "A mentions B", about: [{target: b, stance: mentions}],
             reported_by: [s]}
          - {id: n, speaker: c, text: "C", reported_by: [s]}
        """,
    )
    load(store, [case])
    ids = [r["ids"] for r in run(store, "shortest-paths", **{"from": "a", "to": "b"})]
    assert ids == []  # only a mention (or the shared source) links them
    ids = [
        r["ids"]
        for r in run(store, "shortest-paths", **{"from": "a", "to": "b", "via_mentions": "true"})
    ]
    assert ids == [["a", "m", "b"]]
    ids = [r["ids"] for r in run(store, "shortest-paths", **{"from": "c", "to": "b"})]
    assert ids == [["c", "e", "b"]]
    ids = [
        r["ids"]
        for r in run(store, "shortest-paths", **{"from": "a", "to": "c", "via_sources": "true"})
    ]
    assert ids == [["a", "m", "s", "n", "c"]]


def test_v11_case_validates_against_the_json_schema():
    import datetime as dt

    import jsonschema
    import yaml

    def plain(x):
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, list):
            return [plain(v) for v in x]
        return x.isoformat() if isinstance(x, dt.date) else x

    schema = json.loads(
        (Path(__file__).parent.parent / "schema" / "records.schema.json").read_text(
            encoding="utf-8"
        )
    )
    data = plain(yaml.safe_load((V11 / "records.yaml").read_text(encoding="utf-8")))
    jsonschema.validate(data, schema)
    data["statements"][0]["via"] = "varania-tv"  # v1's single outlet stays valid
    jsonschema.validate(data, schema)
