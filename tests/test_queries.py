"""Saved queries: the library, parameters, user folders, and exact rows on the Chechnya case."""

import json
import textwrap
from pathlib import Path

import pytest
from conftest import CHECHNYA, ROOT

from kg import queries as Q
from kg.cli import cli
from kg.errors import InputError, UsageError, WriteRefused
from kg.loader import load
from kg.render import rows_to_plain
from kg.seal import label_for


def test_library_has_the_investigators_questions():
    lib = Q.Library.load()
    assert len(lib.queries) >= 15
    for q in lib.queries.values():
        assert q.title and q.description and q.category and q.origin == "bundled"
        assert {p.name for p in q.params} == Q.cypher_parameters(q.cypher)


def test_cypher_parameters_ignores_strings_and_comments():
    assert Q.cypher_parameters(
        "MATCH (n {id: $id}) // $not\nRETURN '$no', \"$nope\", `$x`, $y"
    ) == {"id", "y"}


def test_docs_are_current():
    expected = Q.docs_markdown(Q.Library.load())
    assert (ROOT / "docs" / "queries.md").read_text() == expected, (
        "docs/queries.md is stale: run `make docs`"
    )


def _query_file(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f"{name}.cypher"
    p.write_text(textwrap.dedent(text).lstrip())
    return p


def test_bad_headers_name_file_and_line(tmp_path):
    p = _query_file(
        tmp_path,
        "bad",
        """
        // name: bad
        // title: A bad one
        // category: tests
        // description: declares x, uses y
        // mode: sometimes
        // params:
        //   - {name: x, type: string}
        //   - {name: z, type: number}
        RETURN $y
        """,
    )
    with pytest.raises(InputError) as e:
        Q.parse_query_file(p)
    got = [str(x) for x in e.value.problems]
    assert f"{p}:5: bad: mode: expected read or write, got 'sometimes'" in got
    assert (
        f"{p}:8: bad: params[1].type: expected one of string, int, float, bool, date, list, "
        "search, got 'number'" in got
    )
    assert f"{p}:6: bad: params: the Cypher uses $y, which the header does not declare" in got
    assert f"{p}:7: bad: params: $x is declared but the Cypher does not use it" in got


def test_param_binding_errors_name_the_parameter():
    q = Q.Library.load().get("timeline")
    assert Q.bind(q, {"since": "2017-04", "until": "2017-04"})["until"].isoformat() == "2017-04-30"
    with pytest.raises(UsageError, match="parameter 'since' expects a date like 2017"):
        Q.bind(q, {"since": "last spring"})
    with pytest.raises(UsageError, match="query 'timeline' has no parameter 'place_id'"):
        Q.bind(q, {"place_id": "x"})
    with pytest.raises(UsageError, match="query 'said-by' needs parameter 'id'"):
        Q.bind(Q.Library.load().get("said-by"), {})
    with pytest.raises(UsageError, match="parameter 'hops' expects a whole number, got 'two'"):
        Q.bind(Q.Library.load().get("network"), {"id": "x", "hops": "two"})
    with pytest.raises(UsageError, match="no saved query named 'denial' \\(did you mean 'denials'"):
        Q.Library.load().get("denial")
    with pytest.raises(
        UsageError,
        match="parameter 'stance' expects one of asserts, denies, "
        ".*got 'deny' \\(did you mean 'denies'\\?\\)",
    ):
        Q.bind(Q.Library.load().get("statements-about"), {"id": "x", "stance": "deny"})
    assert (
        Q.bind(Q.Library.load().get("statements-about"), {"id": "x", "stance": "calls-for"})[
            "stance"
        ]
        == "calls-for"
    )
    assert (
        Q.bind(Q.Library.load().get("search"), {"q": 'a:b (c) "d"'})["q"] == 'a\\:b \\(c\\) \\"d\\"'
    )


def test_user_folder_overrides_and_is_listed(tmp_path, runner, monkeypatch):
    _query_file(
        tmp_path / "mine",
        "denials",
        """
        // name: denials
        // title: My denials
        // category: mine
        // description: overrides the bundled one
        // overrides: true
        RETURN 1 AS one
        """,
    )
    lib = Q.Library.load((tmp_path / "mine",))
    assert lib.get("denials").title == "My denials"
    res = runner.invoke(cli, ["query", "list", "--queries", str(tmp_path / "mine")])
    assert (
        f"  denials              My denials  [{tmp_path / 'mine'}, overrides the bundled query]"
    ) in res.output
    monkeypatch.setenv("KG_QUERIES", str(tmp_path / "mine"))
    res = runner.invoke(cli, ["query", "list", "--format", "json"])
    item = next(x for x in json.loads(res.output) if x["name"] == "denials")
    assert item == {
        "name": "denials",
        "title": "My denials",
        "category": "mine",
        "description": "overrides the bundled one",
        "mode": "read",
        "returns": "rows",
        "params": [],
        "origin": str(tmp_path / "mine"),
    }


def test_query_list_json_shape(runner):
    res = runner.invoke(cli, ["query", "list", "--format", "json"])
    items = json.loads(res.output)
    net = next(x for x in items if x["name"] == "network")
    assert net["params"][1] == {"name": "hops", "type": "int", "required": False, "default": 2}
    assert set(net) == {
        "name",
        "title",
        "category",
        "description",
        "mode",
        "returns",
        "params",
        "origin",
    }


def test_query_show(runner):
    res = runner.invoke(cli, ["query", "show", "denials"])
    assert res.exit_code == 0
    assert res.output.startswith(
        "denials: Every denial, with who denied what, when, and the evidence\n"
    )
    assert "MATCH (who:Entity)-[d:DENIED]->(what:Entity)" in res.output


# --- against the real Neo4j ---------------------------------------------------------------


@pytest.fixture
def chechnya(store):
    load(store, [CHECHNYA])
    return store


def P(real_id: str) -> str:
    """The placeholder id a confidential record has in the database (kg.seal)."""
    from kg.seal import load_key

    return load_key().pid(real_id)


def run(store, name, **params):
    q = Q.Library.load().get(name)
    res = Q.run(store, q, Q.bind(q, {k: str(v) for k, v in params.items()}))
    return rows_to_plain(list(res.keys), res.records)


@pytest.mark.neo4j
def test_every_bundled_query_explains(store):
    for q in Q.Library.load().queries.values():
        params = {p.name: None for p in q.params}
        store.read("EXPLAIN " + q.cypher, params)


@pytest.mark.neo4j
def test_denials(chechnya):
    rows = run(chechnya, "denials")
    assert [
        (r["denier_id"], r["denied_id"], r["statement"], r["date"], r["sources"]) for r in rows
    ] == [
        (
            "alvi-karimov",
            "abduction-campaign-2017",
            "karimov-denial",
            "2017",
            ["interfax-karimov-2017", "seed-article-2017"],
        ),
        (
            "alvi-karimov",
            P("detained-men-chechnya-2017"),
            "karimov-denial",
            "2017",
            ["interfax-karimov-2017", "seed-article-2017"],
        ),
        (
            "chechen-government",
            "abduction-campaign-2017",
            "chechen-government-denial",
            "2017",
            ["seed-article-2017"],
        ),
        (
            "chechen-government",
            "killings-2017",
            "chechen-government-denial",
            "2017",
            ["seed-article-2017"],
        ),
    ]
    assert rows[0]["text"].startswith("“You cannot arrest or repress people who just don’t exist")
    assert rows[0]["verbatim"] is True and rows[2]["verbatim"] is False
    assert len(run(chechnya, "denials", about="killings-2017")) == 1


@pytest.mark.neo4j
def test_claims_about_and_contested(chechnya):
    rows = run(chechnya, "claims-about", id="abduction-campaign-2017")
    assert [(r["stance"], r["statements"]) for r in rows] == [
        ("asserts", 2),
        ("corroborates", 2),
        ("denies", 2),
        ("calls-for", 1),
    ]
    assert rows[2]["statement_ids"] == ["karimov-denial", "chechen-government-denial"]
    rows = [
        {k: r[k] for k in ("id", "entity", "supporters", "opponents")}
        for r in run(chechnya, "contested")
    ]
    assert rows == [
        {
            "id": "abduction-campaign-2017",
            "entity": "Abduction and detention of up to 100 men suspected of being gay",
            "supporters": ["Ekaterina L. Sokiryanskaya", "The New York Times", "Novaya Gazeta"],
            "opponents": ["Alvi Karimov", "Government of the Chechen Republic"],
        },
        {
            "id": "killings-2017",
            "entity": "Killing of at least three of the detained men",
            "supporters": ["Novaya Gazeta"],
            "opponents": ["Government of the Chechen Republic"],
        },
    ]


@pytest.mark.neo4j
def test_single_source_and_corroboration(chechnya):
    assert [(r["kind"], r["id"], r["origin"]) for r in run(chechnya, "single-source")] == [
        ("event", "hotline-2017", "the-guardian"),
        ("event", "killings-2017", "novaya-gazeta"),
        ("event", "pride-parade-applications-2017", "new-york-times"),
        ("event", "prophylactic-sweep-order-2017", "novaya-gazeta"),
        ("event", "releases-2017", "amnesty-international"),
        ("event", "torture-2017", "novaya-gazeta"),
        ("statement", "chechen-government-denial", "seed-article-2017"),
    ]
    rows = run(chechnya, "corroboration")
    assert rows[0] == {
        "id": "abduction-campaign-2017",
        "event": "Abduction and detention of up to 100 men suspected of being gay",
        "status": "corroborated",
        "independent_origins": 4,
        "sources": 4,
        "origins": ["new-york-times", "novaya-gazeta", "seed-article-2017", "the-guardian"],
        "counted": [
            "new-york-times: nyt-report-2017",
            "novaya-gazeta: novaya-gazeta-report-2017",
            "seed-article-2017: seed-article-2017",
            "the-guardian: guardian-report-2017",
        ],
        "supporting_speakers": 3,
        "contesting_speakers": 2,
    }
    assert [(r["id"], r["independent_origins"]) for r in rows[1:3]] == [
        ("amnesty-petition-launch-2017", 2),
        ("hotline-2017", 1),
    ]


@pytest.mark.neo4j
def test_actor_questions(chechnya):
    rows = run(chechnya, "said-by", id="ekaterina-sokiryanskaya")
    assert [(r["statement"], r["via"], r["verbatim"]) for r in rows] == [
        ("sokiryanskaya-guardian-quote", "The Guardian", True),
        ("sokiryanskaya-many-sources", None, False),
    ]
    assert rows[0]["about"] == [
        "abduction-campaign-2017 (corroborates)",
        "torture-2017 (corroborates)",
    ]
    assert [
        (r["person_id"], r["role"]) for r in run(chechnya, "affiliations", id="chechen-government")
    ] == [
        ("alvi-karimov", "Spokesman for the head of the republic"),
        ("ramzan-kadyrov", "President"),
    ]
    assert [
        (r["organization_id"], r["role"])
        for r in run(chechnya, "affiliations", id="ramzan-kadyrov")
    ] == [("chechen-government", "President")]
    assert [
        (r["role"], r["id"]) for r in run(chechnya, "participants", id="abduction-campaign-2017")
    ] == [("perpetrator", "chechen-government"), ("victim", P("detained-men-chechnya-2017"))]
    assert [
        (r["event_id"], r["role"], r["date"])
        for r in run(chechnya, "involvement", id="chechen-government")
    ] == [
        ("abduction-campaign-2017", "perpetrator", "2017"),
        ("killings-2017", "perpetrator", "2017"),
        ("prophylactic-sweep-order-2017", "organizer", "2017"),
        ("torture-2017", "perpetrator", "2017"),
        ("amnesty-petition-launch-2017", "target", "2017-04"),
    ]
    assert run(chechnya, "actor-links", id="alvi-karimov") == [
        {
            "actor": "alvi-karimov",
            "other": "chechen-government",
            "link": "AFFILIATED_WITH (Spokesman for the head of the republic)",
        },
        {"actor": "alvi-karimov", "other": "ramzan-kadyrov", "link": "ASSOCIATED_WITH (spokesman)"},
    ]


@pytest.mark.neo4j
def test_evidence_questions(chechnya):
    assert [
        (r["speaker"], r["stance"], r["date"])
        for r in run(chechnya, "statements-about", id="killings-2017")
    ] == [
        ("Government of the Chechen Republic", "denies", "2017"),
        ("Novaya Gazeta", "asserts", "2017"),
        ("Amnesty International", "calls-for", "2017-04"),
    ]
    assert len(run(chechnya, "statements-about", id="killings-2017", stance="denies")) == 1
    assert run(chechnya, "sources-of", id="killings-2017") == [
        {
            "source": "novaya-gazeta-report-2017",
            "title": "Novaya Gazeta report on the abduction of gay men in Chechnya",
            "kind": "article",
            "publisher": "Novaya Gazeta",
            "published": "2017",
            "reliability": None,
            "credibility": None,
            "quote": "at least three of the men have been killed in an organized government campaign",
            "page": None,
            "url": None,
        }
    ]
    rows = run(chechnya, "who-reported-what", publisher="novaya-gazeta")
    assert [(r["kind"], r["id"]) for r in rows] == [
        ("Event", "abduction-campaign-2017"),
        ("Event", "killings-2017"),
        ("Event", "prophylactic-sweep-order-2017"),
        ("Event", "torture-2017"),
        ("Organization", P("detained-men-chechnya-2017")),
        ("Statement", "novaya-gazeta-abduction-claim"),
        ("Statement", "novaya-gazeta-sweep-claim"),
    ]
    assert len(run(chechnya, "who-reported-what")) == 51
    assert [r["id"] for r in run(chechnya, "unsourced")] == [
        "chechnya",
        "moscow",
        "north-caucasus",
        "russia",
        "st-petersburg",
    ]
    assert [
        (r["response_id"], r["answered_id"], r["sources"]) for r in run(chechnya, "responses")
    ] == [
        ("amnesty-call-for-investigations", "karimov-denial", ["seed-article-2017"]),
        ("amnesty-petition-launch-2017", "abduction-campaign-2017", ["amnesty-petition-2017"]),
    ]


@pytest.mark.neo4j
def test_places_and_time(chechnya):
    in_caucasus = [r["id"] for r in run(chechnya, "events-in-place", place="north-caucasus")]
    assert in_caucasus == [
        "abduction-campaign-2017",
        "killings-2017",
        "pride-parade-applications-2017",
        "prophylactic-sweep-order-2017",
        "releases-2017",
        "torture-2017",
    ]
    assert len(run(chechnya, "events-in-place", place="russia")) == 7
    assert run(chechnya, "events-in-place", place="moscow") == []
    rows = run(chechnya, "timeline", since="2017-04", until="2017-04", kinds="event")
    assert [(r["id"], r["fit"]) for r in rows][-1] == ("amnesty-petition-launch-2017", "within")
    assert {r["fit"] for r in rows[:-1]} == {"overlaps"} and len(rows) == 8
    assert run(chechnya, "timeline", since="2018") == []
    assert len(run(chechnya, "timeline", place="st-petersburg", kinds="event")) == 1
    assert run(chechnya, "timeline", until="2016-12-31") == []
    # statements come in date order with the events (those about events in the place too)
    both = run(chechnya, "timeline", since="2017-04", until="2017-04")
    assert {r["type"] for r in both} == {"event", "statement"} and len(both) > len(rows)
    in_place = run(chechnya, "timeline", place="north-caucasus")
    assert "karimov-denial" in [r["id"] for r in in_place]


@pytest.mark.neo4j
def test_search_and_connections(chechnya):
    assert [r["id"] for r in run(chechnya, "search", q="Karimov")][:1] == ["alvi-karimov"]
    assert [r["id"] for r in run(chechnya, "search", q="Чечня")] == ["chechnya"]
    assert run(chechnya, "search", q='Karimov" OR (') is not None  # escaped, no Lucene error
    rows = run(
        chechnya, "shortest-paths", **{"from": "alvi-karimov", "to": "amnesty-international"}
    )
    assert {tuple(r["ids"]) for r in rows} == {
        (
            "alvi-karimov",
            "abduction-campaign-2017",
            "amnesty-call-for-investigations",
            "amnesty-international",
        ),
        (
            "alvi-karimov",
            "abduction-campaign-2017",
            "amnesty-petition-launch-2017",
            "amnesty-international",
        ),
        (
            "alvi-karimov",
            "chechen-government",
            "amnesty-petition-launch-2017",
            "amnesty-international",
        ),
        (
            "alvi-karimov",
            "chechen-government",
            "amnesty-remind-authorities",
            "amnesty-international",
        ),
        (
            "alvi-karimov",
            "karimov-denial",
            "amnesty-call-for-investigations",
            "amnesty-international",
        ),
    }
    assert rows[0]["p"]["nodes"][0]["properties"]["id"] == "alvi-karimov"
    one_hop = run(chechnya, "network", id="alvi-karimov", hops=1)
    assert len(one_hop) == 6
    assert len(run(chechnya, "network", id="alvi-karimov", hops=2)) > 6


@pytest.mark.neo4j
def test_read_query_that_writes_fails_and_changes_nothing(chechnya, tmp_path, runner):
    _query_file(
        tmp_path / "q",
        "sneaky",
        """
        // name: sneaky
        // title: Looks like a read
        // category: tests
        // description: deletes everything
        MATCH (n) DETACH DELETE n
        """,
    )
    before = chechnya.digest()
    with pytest.raises(WriteRefused):
        Q.run(chechnya, Q.Library.load((tmp_path / "q",)).get("sneaky"), {})
    res = runner.invoke(cli, ["query", "run", "sneaky", "--queries", str(tmp_path / "q")])
    assert res.exit_code == 4 and "read-only" in res.output
    assert chechnya.digest() == before


@pytest.mark.neo4j
def test_query_run_cli_formats_and_redaction(chechnya, runner, tmp_path):
    res = runner.invoke(
        cli, ["query", "run", "participants", "-p", "id=abduction-campaign-2017", "--format", "csv"]
    )
    assert res.output == (
        "role,id,actor,kind\n"
        "perpetrator,chechen-government,Government of the Chechen Republic,Organization\n"
        f"victim,{P('detained-men-chechnya-2017')},"
        f"{label_for('organization', P('detained-men-chechnya-2017'))},Organization\n"
    )
    res = runner.invoke(
        cli,
        [
            "query",
            "run",
            "participants",
            "-p",
            "id=abduction-campaign-2017",
            "--format",
            "jsonl",
            "--include-confidential",
        ],
    )
    assert "Men detained in Chechnya on suspicion of being gay" in res.output
    assert "warning: --include-confidential" in res.output
    out = tmp_path / "o.json"
    res = runner.invoke(
        cli,
        ["query", "run", "said-by", "-p", "id=alvi-karimov", "--format", "json", "--out", str(out)],
    )
    assert res.exit_code == 0 and json.loads(out.read_text())[0]["statement"] == "karimov-denial"
    res = runner.invoke(cli, ["query", "run", "said-by", "-p", "idd=x"])
    assert res.exit_code == 2
    assert (
        res.output == "error: query 'said-by' has no parameter 'idd' (it takes: id, as_of, case)\n"
    )
    # kg cypher redacts the same way
    sok = P("sokiryanskaya-sources-in-chechnya")
    res = runner.invoke(
        cli, ["cypher", f"MATCH (n {{id: '{sok}'}}) RETURN n.name AS name, n.description AS d, n"]
    )
    assert "Sokiryanskaya's sources" not in res.output and "The many people" not in res.output
    assert label_for("organization", sok) in res.output
    res = runner.invoke(
        cli,
        [
            "cypher",
            "--include-confidential",
            "--format",
            "json",
            f"MATCH (n {{id: '{sok}'}}) RETURN n.name AS name, n",
        ],
    )
    assert "Sokiryanskaya's sources" in res.output and "The many people" in res.output


def test_unknown_header_keys_fail_naming_file_line_and_key(tmp_path):
    p = _query_file(
        tmp_path,
        "typo",
        """
        // name: typo
        // title: A typo
        // category: tests
        // descripton: misspelt
        // params:
        //   - {name: x, type: string, defualt: a}
        RETURN $x
        """,
    )
    with pytest.raises(InputError) as e:
        Q.parse_query_file(p)
    got = [str(x) for x in e.value.problems]
    assert got == [
        f"{p}:4: typo: descripton: unknown key 'descripton' (did you mean 'description'?); "
        "expected: category, description, mode, name, overrides, params, returns, title",
        f"{p}:6: typo: params[0].defualt: unknown key 'defualt' (did you mean 'default'?); "
        "expected: default, description, name, required, span, type, values",
    ]
