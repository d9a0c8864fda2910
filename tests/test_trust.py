"""Trust, tried on purpose: faults mid-load, concurrent loads, hostile text, secrets, backups."""

import json
import os
import re
import signal
import threading
from pathlib import Path

import networkx as nx
import pytest
from conftest import CHECHNYA

from kg.cli import cli
from kg.config import Settings, local_settings
from kg.errors import DatabaseError, InputError
from kg.export import export, script_statements
from kg.loader import load
from kg.runtime import LocalNeo4j
from kg.selection import Selection, select
from kg.store import Store, connect
from kg.synth import write_case

pytestmark = pytest.mark.neo4j

HOSTILE = [
    "'}) DETACH DELETE n //",
    '"}) MATCH (n) DETACH DELETE n //',
    "`) DETACH DELETE n //",
    "$id {id} ${x}",
    "\\' OR 1=1 --",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(2)</script>",
    "Kаdyrоv (Cyrillic а and о)",
    "\u202eevil\u202c",
    "zero\u200bwidth",
    "🙂 emoji",
    "Line1\nLine2\r\nLine3\ttab",
    "back\\slash \\\\ double",
    "semi; colon // comment /* c */",
    "CALL dbms.killQueries(['x'])",
    "@@DATA@@ @@VIS_JS@@",
    "\u2028\u2029 separators",
    "null",
    "NaN",
    "日本語とعربي",
]


def _local(neo4j_env) -> LocalNeo4j:
    return LocalNeo4j(Path(neo4j_env["KG_HOME"]), int(neo4j_env["KG_BOLT_PORT"]))


def test_load_killed_midway_converges(store, neo4j_env, tmp_path):
    case = tmp_path / "case"
    write_case(case, 6000, seed=3)
    load(store, [case])
    clean = store.digest()
    store.write("MATCH (n) DETACH DELETE n")
    local = _local(neo4j_env)
    settings = local_settings(local)
    drv = local.driver(max_transaction_retry_time=2, connection_timeout=3)
    batches = {"n": 0}

    class KillAfterThree:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def update(self, n):
            batches["n"] += 1
            if batches["n"] == 3:
                os.killpg(local.state()["pid"], signal.SIGKILL)

    try:
        with pytest.raises(DatabaseError) as e:
            load(
                Store(drv, "neo4j", managed=True, where=local.uri),
                [case],
                batch_size=300,
                chunk_records=1000,
                progress_factory=lambda total: KillAfterThree(),
            )
        assert "no Neo4j answers" in str(e.value) and "kg db start" in str(e.value)
        assert batches["n"] == 3
    finally:
        drv.close()
        local._reap(local.state()["pid"])
        local.start()
    with connect(settings) as fresh:
        s = Store(fresh, "neo4j")
        assert s.digest() != clean  # the killed load left a partial graph...
        load(s, [case])  # ...and a re-run converges to the clean load's graph
        assert s.digest() == clean


def test_concurrent_overlapping_loads_leave_no_duplicates(store, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_case(a, 4000, seed=9, case="overlap")
    b.mkdir()
    for f in a.iterdir():  # the same records, declared as another case
        text = f.read_text().replace(
            '{"record": "case", "id": "overlap"', '{"record": "case", "id": "other"'
        )
        (b / f.name).write_text(text)
    errors = []

    def run(path):
        try:
            load(store, [path], batch_size=400)
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(p,)) for p in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    dup_nodes = store.read(
        "MATCH (n:Entity) WITH n.id AS id, count(*) AS c WHERE c > 1 RETURN count(*) AS d"
    )
    assert dup_nodes.records[0]["d"] == 0
    dup_rels = store.read(
        "MATCH (a)-[r]->(b) WITH a, b, type(r) AS t, properties(r) AS p, count(*) AS c "
        "WHERE c > 1 RETURN count(*) AS d"
    )
    assert dup_rels.records[0]["d"] == 0
    cases = store.read("MATCH (n:Entity) RETURN DISTINCT n.cases AS c").records
    assert {tuple(sorted(r["c"])) for r in cases} == {("other", "overlap")}
    before = store.digest()
    load(store, [a])  # and a sequential reload changes nothing
    assert store.digest() == before


def _hostile_case(tmp_path: Path) -> Path:
    folder = tmp_path / "hostile"
    folder.mkdir()
    lines = [{"record": "source", "id": "src", "title": HOSTILE[0]}]
    for i, text in enumerate(HOSTILE):
        lines.append(
            {
                "record": "person",
                "id": f"p{i}",
                "name": text,
                "aliases": [text, text + "!"],
                "description": text,
                "extra": {"note": text},
                "reported_by": [{"source": "src", "quote": text}],
            }
        )
        lines.append(
            {
                "record": "statement",
                "id": f"s{i}",
                "speaker": f"p{i}",
                "text": text,
                "about": [{"target": f"p{(i + 1) % len(HOSTILE)}", "stance": "denies"}],
            }
        )
    (folder / "h.jsonl").write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8"
    )
    return folder


def test_hostile_text_round_trips_byte_identical(store, tmp_path, runner):
    load(store, [_hostile_case(tmp_path)])
    assert store.counts()["nodes"] == {
        "Person": len(HOSTILE),
        "Source": 1,
        "Statement": len(HOSTILE),
    }
    res = runner.invoke(
        cli,
        [
            "cypher",
            "MATCH (p:Person) RETURN p.id AS id, p.name AS name, "
            "p.aliases AS aliases, p.extra_note AS note ORDER BY id",
            "--format",
            "json",
        ],
    )
    rows = {r["id"]: r for r in json.loads(res.stdout)}
    for i, text in enumerate(HOSTILE):
        assert rows[f"p{i}"]["name"] == text and rows[f"p{i}"]["aliases"] == [text, text + "!"]
        assert rows[f"p{i}"]["note"] == text
    res = runner.invoke(cli, ["query", "run", "sources-of", "-p", "id=p4", "--format", "json"])
    assert json.loads(res.stdout)[0]["quote"] == HOSTILE[4]
    res = runner.invoke(
        cli, ["query", "run", "said-by", "-p", f"id=p{len(HOSTILE) - 1}", "--format", "jsonl"]
    )
    assert json.loads(res.stdout.splitlines()[0])["text"] == HOSTILE[-1]
    # a parameter value is only ever a value
    res = runner.invoke(cli, ["query", "run", "said-by", "-p", "id='}) DETACH DELETE n //"])
    assert res.exit_code == 0 and store.counts()["nodes"]["Person"] == len(HOSTILE)
    sub = select(store, Selection())
    names = {nid: n["props"]["name"] for nid, n in sub.nodes.items() if n["kind"] == "person"}
    out = tmp_path / "g.json"
    export(sub, "json", out)
    G = nx.node_link_graph(
        json.loads(out.read_text()), edges="links", multigraph=True, directed=True
    )
    assert {n: G.nodes[n]["name"] for n in names} == names
    export(sub, "graphml", tmp_path / "g.graphml")
    G = nx.read_graphml(tmp_path / "g.graphml", force_multigraph=True)
    assert {n: G.nodes[n]["name"] for n in names} == names
    export(sub, "gexf", tmp_path / "g.gexf")
    G = nx.read_gexf(tmp_path / "g.gexf")
    assert {n: G.nodes[n]["name"] for n in names} == names
    export(sub, "html", tmp_path / "g.html")
    page = (tmp_path / "g.html").read_text()
    data = json.loads(
        re.search(r'<script type="application/json" id="kg-data">(.*?)</script>', page, re.S).group(
            1
        )
    )
    assert {n["id"]: n["label"] for n in data["nodes"] if n["kind"] == "person"} == names
    assert "<script>alert" not in page and "<img src=x" not in page
    before = store.digest()
    export(sub, "cypher", tmp_path / "g.cypher")
    store.write("MATCH (n) DETACH DELETE n")
    for statement in script_statements((tmp_path / "g.cypher").read_text()):
        store.write(statement)
    assert store.digest() == before


def test_relation_type_is_never_query_text(store, tmp_path):
    f = tmp_path / "r.jsonl"
    f.write_text(
        '{"record": "person", "id": "a", "name": "A"}\n'
        '{"record": "relation", "type": "PART_OF]->() DETACH DELETE n //", "from": "a", "to": "a"}\n'
    )
    with pytest.raises(InputError) as e:
        load(store, [f])
    assert "unknown relationship type" in str(e.value)


def test_local_server_listens_on_loopback_only(neo4j_env):
    port = int(neo4j_env["KG_BOLT_PORT"])
    listening = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(name).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if state == "0A" and int(p, 16) == port:
                listening.append(addr)
    assert listening, "the test server is not listening"
    loopback = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}
    assert set(listening) <= loopback, listening
    conf = (Path(neo4j_env["KG_HOME"]) / "neo4j" / "conf" / "neo4j.conf").read_text()
    assert "server.http.enabled=false" in conf and "dbms.usage_report.enabled=false" in conf


def test_password_appears_nowhere_but_its_file(neo4j_env, runner, tmp_path):
    root = Path(neo4j_env["KG_HOME"]) / "neo4j"
    password = (root / "password").read_text().strip()
    assert len(password) >= 24 and oct(os.stat(root / "password").st_mode)[-3:] == "600"
    assert oct(os.stat(root).st_mode)[-3:] == "700"
    for f in list((root / "logs").rglob("*")) + [root / "conf" / "neo4j.conf", root / "state.json"]:
        if f.is_file():
            assert password not in f.read_text(errors="replace"), f
    outputs = [
        runner.invoke(cli, args).output
        for args in (
            ["db", "status"],
            ["db", "status", "--json"],
            ["db", "start"],
            ["cypher", "RETURN 1 AS x"],
            ["cypher", "MATCH (n RETURN n"],
        )
    ]
    assert all(password not in o for o in outputs)


def test_initial_password_never_on_a_command_line(tmp_path, monkeypatch):
    """Another local user can list command lines (ps): the first start hands the password to
    neo4j-admin as an @file argument. (The test session's own server is started this way,
    so the real neo4j-admin reading it is tried on every run.)"""
    import subprocess

    import kg.runtime as RT

    seen: list[list[str]] = []

    def record(cmd, **kw):
        seen.append(list(cmd))
        if "-version" in cmd:
            return subprocess.CompletedProcess(cmd, 0, "", 'openjdk version "17.0.9"')
        return subprocess.CompletedProcess(cmd, 1, "", "stopped here by the test")

    monkeypatch.setattr(RT, "_run", record)
    monkeypatch.setattr(RT.shutil, "which", lambda name: f"/usr/bin/{name}")
    local = LocalNeo4j(tmp_path / "home", 7999)
    monkeypatch.setattr(LocalNeo4j, "classpath", lambda self: "cp")
    with pytest.raises(RT.RuntimeUnavailable, match="initial password"):
        local._start_java(7999)
    password = local.read_password()
    assert password and all(password not in " ".join(cmd) for cmd in seen)
    assert [c for c in seen if "set-initial-password" in c][0][-1] == f"@{local.password_file}"


def test_credentials_never_printed_and_tls_honoured(runner, monkeypatch):
    monkeypatch.setenv("KG_NEO4J_URI", "bolt://127.0.0.1:1")
    monkeypatch.setenv("KG_NEO4J_PASSWORD", "hunter2-secret")
    for args in (["cypher", "RETURN 1"], ["db", "status", "--json"], ["db", "status"]):
        out = runner.invoke(cli, args).output
        assert "hunter2-secret" not in out
    for uri, encrypted in (
        ("neo4j+s://db.example.invalid:7687", True),
        ("bolt+s://db.example.invalid:7687", True),
        ("bolt://127.0.0.1:7687", False),
    ):
        drv = connect(
            Settings(
                uri=uri,
                user="neo4j",
                password="x",
                database="neo4j",
                managed=False,
                home=Path("."),
                password_file=None,
            )
        )
        assert drv.encrypted is encrypted
        drv.close()


def test_dump_wipe_restore(store, neo4j_env, tmp_path, runner):
    load(store, [CHECHNYA])
    before = store.digest()
    dump = tmp_path / "backup" / "kg.dump"
    res = runner.invoke(cli, ["db", "dump", "--out", str(dump)])
    assert res.exit_code == 0, res.output
    assert dump.stat().st_size > 0 and oct(dump.stat().st_mode)[-3:] == "600"
    store.write("MATCH (n) DETACH DELETE n")
    assert store.counts()["nodes"] == {}
    res = runner.invoke(cli, ["db", "restore", str(dump)])
    assert res.exit_code == 2 and "--yes" in res.output
    res = runner.invoke(cli, ["db", "restore", str(dump), "--yes"])
    assert res.exit_code == 0, res.output
    # A fresh driver, as a new kg process has: the session's driver remembers a bookmark
    # from after the dump, which the restored database never reached.
    local = LocalNeo4j(Path(neo4j_env["KG_HOME"]), int(neo4j_env["KG_BOLT_PORT"]))
    with local.driver() as fresh:
        assert Store(fresh, "neo4j").digest() == before


def test_bulk_load_gives_the_same_graph(store, neo4j_env, tmp_path, runner):

    case = tmp_path / "case"
    write_case(case, 3000, seed=21)
    load(store, [case])
    load(store, [CHECHNYA])
    normal = store.digest()
    store.write("MATCH (n) DETACH DELETE n")
    res = runner.invoke(cli, ["load", "--bulk", str(case)])
    assert res.exit_code == 0, res.output  # the database is empty: it runs
    local = _local(neo4j_env)
    with local.driver() as fresh:
        s = Store(fresh, "neo4j")
        assert s.read("MATCH (n) RETURN count(n) AS n").records[0]["n"] > 2000
        res = runner.invoke(cli, ["load", "--bulk", str(CHECHNYA)])
        assert res.exit_code == 2 and "empty database only" in res.output
        load(s, [CHECHNYA])
        assert s.digest() == normal


def test_bulk_load_that_fails_writing_its_files_restarts_the_server(
    store, neo4j_env, tmp_path, runner, monkeypatch
):
    """The server stops while the import files are written; a failure there starts it again
    and leaves the database as it was (empty) and no files behind."""
    import kg.export

    case = tmp_path / "case"
    write_case(case, 1500, seed=4)
    store.write("MATCH (n) DETACH DELETE n")

    def full_disk(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(kg.export.CsvExporter, "finalize", full_disk)
    res = runner.invoke(cli, ["load", "--bulk", str(case)])
    assert res.exit_code != 0 and "No space left on device" in res.output
    assert "Traceback" not in res.output
    local = _local(neo4j_env)
    assert not (local.import_dir / "bulk").exists()
    with local.driver() as fresh:
        assert Store(fresh, "neo4j").read("MATCH (n) RETURN count(n) AS n").records[0]["n"] == 0
