"""The command line, through click's CliRunner: exact output and exit codes."""

import json
import os
import stat
import textwrap

import pytest
from conftest import CASES, CHECHNYA

from kg.cli import cli


def test_validate_ok(runner):
    res = runner.invoke(cli, ["validate", str(CHECHNYA)])
    assert res.exit_code == 0
    assert res.output == "valid: 52 records in 6 files (case: chechnya-2017)\n"


def test_validate_reports_every_error_without_traceback(runner, tmp_path):
    f = tmp_path / "c" / "a.yaml"
    f.parent.mkdir()
    f.write_text(
        textwrap.dedent("""
        people:
          - {id: p, name: P, located_in: x}
          - {id: q}
        """).lstrip()
    )
    res = runner.invoke(cli, ["validate", str(f.parent)])
    assert res.exit_code == 1
    assert res.output == (
        f"error: {f}:2: p: located_in: reference 'x' not found; define it in the input, or "
        "load with --allow-existing to use the database's\n"
        f"{f}:3: q: name: required field is missing\n"
        "2 errors in the input; nothing was written.\n"
    )
    assert "Traceback" not in res.output


def test_validate_json(runner, tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("people:\n  - {id: p}\n")
    res = runner.invoke(cli, ["validate", "--format", "json", str(f)])
    assert res.exit_code == 1
    assert json.loads(res.output) == {
        "valid": False,
        "errors": [
            {
                "file": str(f),
                "line": 2,
                "record": "p",
                "field": "name",
                "message": "required field is missing",
            }
        ],
    }


def test_missing_path(runner, tmp_path):
    res = runner.invoke(cli, ["validate", str(tmp_path / "nope")])
    assert res.exit_code == 1
    assert res.output.startswith(f"error: {tmp_path / 'nope'}:0: -: -: no such file or folder\n")


@pytest.mark.neo4j
def test_load_and_cypher(runner, store):
    res = runner.invoke(cli, ["load", str(CASES / "contract")])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("18 records from 2 files, case contract-case (loaded):\n")
    assert "DENIED           1        0        0        0" in res.output
    res = runner.invoke(
        cli,
        [
            "cypher",
            "MATCH (p:Person) WHERE p.id = $id RETURN p.name AS name, p.aliases AS aliases",
            "-p",
            "id=person-author",
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == [{"name": "Анна Автор", "aliases": ["Anna Avtor", "А. Автор"]}]
    res = runner.invoke(
        cli,
        [
            "cypher",
            "MATCH (e:Event {id: 'event-main'}) RETURN e.start AS s, e.title AS t",
            "--format",
            "csv",
        ],
    )
    assert res.output == "s,t\n2020-01-01,Main event\n"
    res = runner.invoke(
        cli,
        ["cypher", "MATCH (e:Event {id: 'event-main'}) RETURN e.id AS id, e.victims_max AS max"],
    )
    assert res.output == "id          max\n----------  ---\nevent-main  5\n(1 row)\n"


@pytest.mark.neo4j
def test_query_timeout_stops_the_query_on_the_server(runner, store, tmp_path):
    long = "UNWIND range(1, 100000) AS a UNWIND range(1, 100000) AS b RETURN count(*) AS n"
    res = runner.invoke(cli, ["cypher", long, "--timeout", "0.5"])
    assert res.exit_code == 4
    assert res.output == (
        "error: the query ran longer than 0.5 s and the server stopped it; nothing was changed.\n"
        "Narrow it (a more specific entity, fewer hops), or allow longer with --timeout SECONDS "
        "(or KG_QUERY_TIMEOUT).\n"
    )
    folder = tmp_path / "q"
    folder.mkdir()
    (folder / "slow.cypher").write_text(
        "// name: slow\n// title: Slow\n// category: test\n"
        "// description: Counts to ten billion.\n" + long + "\n"
    )
    res = runner.invoke(
        cli, ["query", "run", "slow", "--queries", str(folder)], env={"KG_QUERY_TIMEOUT": "0.5"}
    )
    assert res.exit_code == 4 and "ran longer than 0.5 s" in res.output
    res = runner.invoke(cli, ["cypher", "RETURN 1 AS one", "--timeout", "0"])
    assert res.exit_code == 2 and "--timeout" in res.output
    res = runner.invoke(cli, ["cypher", "RETURN 1 AS one", "--timeout", "30"])
    assert res.exit_code == 0 and res.output.startswith("one")


@pytest.mark.neo4j
def test_cypher_renders_graph_objects(runner, store):
    runner.invoke(cli, ["load", str(CASES / "contract")])
    res = runner.invoke(
        cli,
        [
            "cypher",
            "MATCH p = (g:Organization {id: 'org-gov'})-[d:DENIED]->(e) RETURN g, d, p",
            "--format",
            "json",
        ],
    )
    row = json.loads(res.output)[0]
    assert row["g"]["labels"] == ["Entity", "Organization"]
    assert row["g"]["properties"]["name"] == "Government"
    assert row["d"] == {
        "type": "DENIED",
        "start": "org-gov",
        "end": "event-main",
        "properties": {"statement": "stmt-denial", "cases": ["contract-case"]},
    }
    assert "kg_records" not in row["g"]["properties"]  # kg's bookkeeping stays out of results
    assert [n["properties"]["id"] for n in row["p"]["nodes"]] == ["org-gov", "event-main"]
    assert row["p"]["relationships"][0]["type"] == "DENIED"


@pytest.mark.neo4j
def test_cypher_refuses_writes_without_flag(runner, store):
    before = store.digest()
    res = runner.invoke(cli, ["cypher", "CREATE (n:Entity {id: 'x'})"])
    assert res.exit_code == 4
    assert res.output == (
        "error: this query writes to the database, and kg runs queries "
        "read-only unless told otherwise; nothing was changed.\n"
        "Re-run with --write if the write is intended.\n"
    )
    assert store.digest() == before
    res = runner.invoke(cli, ["cypher", "MATCH (n) DETACH DELETE n"])
    assert res.exit_code == 4
    res = runner.invoke(
        cli,
        [
            "cypher",
            "--write",
            "CREATE (n:Scratch {id: 'x'}) RETURN n.id AS id",
            "--format",
            "jsonl",
        ],
    )
    assert res.exit_code == 0 and res.output == '{"id": "x"}\n'


@pytest.mark.neo4j
def test_cypher_syntax_error_is_a_message(runner, store):
    res = runner.invoke(cli, ["cypher", "MATCH (n RETURN n"])
    assert res.exit_code == 4
    assert res.output.startswith("error: Cypher syntax error:")
    assert "Traceback" not in res.output


@pytest.mark.neo4j
def test_load_bad_input_writes_nothing(runner, store, tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("people:\n  - {id: p, name: P}\n  - {id: q, name: Q, located_in: p}\n")
    res = runner.invoke(cli, ["load", str(f)])
    assert res.exit_code == 1
    assert "a.yaml:3: q: located_in: 'p' is a person; expected a location" in res.output
    assert store.counts()["nodes"] == {}


@pytest.mark.neo4j
def test_db_status_json_never_shows_the_password(runner, neo4j_env):
    res = runner.invoke(cli, ["db", "status", "--json"])
    info = json.loads(res.output)
    assert {"uri", "user", "database", "version", "running", "password_file"} <= set(info)
    assert info["running"] is True and info["uri"].startswith("bolt://127.0.0.1:")
    pw_file = info["password_file"]
    password = open(pw_file).read().strip()
    assert password not in res.output
    assert stat.S_IMODE(os.stat(pw_file).st_mode) == 0o600
    assert open(pw_file).read().count("\n") == 1


@pytest.mark.neo4j
def test_db_start_is_idempotent(runner, neo4j_env):
    res = runner.invoke(cli, ["db", "start"])
    assert res.exit_code == 0 and "already running" in res.output


@pytest.mark.neo4j
def test_reset_needs_yes(runner, store):
    runner.invoke(cli, ["load", str(CASES / "contract")])
    res = runner.invoke(cli, ["db", "reset"])
    assert res.exit_code == 2 and "add --yes" in res.output
    assert store.counts()["nodes"] != {}
    res = runner.invoke(cli, ["db", "reset", "--yes"])
    assert res.exit_code == 0 and store.counts()["nodes"] == {}


def test_no_server_is_a_clear_message(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("KG_NEO4J_URI", "bolt://127.0.0.1:1")
    monkeypatch.setenv("KG_NEO4J_PASSWORD", "secret-value")
    res = runner.invoke(cli, ["cypher", "RETURN 1"])
    assert res.exit_code == 4
    assert res.output == (
        "error: no Neo4j answers at bolt://127.0.0.1:1.\n"
        "Check KG_NEO4J_URI and that the server is up.\n"
    )
    assert "secret-value" not in res.output


def test_local_server_not_set_up(runner, tmp_path, monkeypatch):
    monkeypatch.delenv("KG_NEO4J_URI", raising=False)
    monkeypatch.setenv("KG_HOME", str(tmp_path / "fresh"))
    res = runner.invoke(cli, ["cypher", "RETURN 1"])
    assert res.exit_code == 4
    assert "has not been set up" in res.output and "kg db start" in res.output


def test_cli_reference_is_current():
    from conftest import ROOT

    from kg.clidoc import reference

    assert (ROOT / "docs" / "cli.md").read_text() == reference(), (
        "docs/cli.md is stale: run `make docs`"
    )


def test_a_bad_start_timeout_is_a_clear_error_before_anything_starts(runner, tmp_path):
    env = {"KG_HOME": str(tmp_path / "home"), "KG_START_TIMEOUT": "soon", "KG_NEO4J_URI": None}
    res = runner.invoke(cli, ["db", "start"], env=env)
    assert res.exit_code == 3
    assert res.output == "error: KG_START_TIMEOUT must be a number of seconds, got 'soon'\n"
    assert not (tmp_path / "home" / "neo4j" / "run").exists()


def test_durations_are_read_in_config_when_used():
    from kg.config import ConfigError, fetch_timeout, start_timeout

    assert start_timeout({}) == 180.0 and fetch_timeout({"KG_FETCH_TIMEOUT": "5"}) == 5.0
    with pytest.raises(ConfigError, match="KG_FETCH_TIMEOUT must be a positive number"):
        fetch_timeout({"KG_FETCH_TIMEOUT": "-1"})
