"""kg's own local Neo4j 5.26 community server: provision, start, stop, status.

State lives under ``$KG_HOME/neo4j``: ``conf/neo4j.conf``, ``data/``, ``logs/``, the
generated password (one line, mode 0600) and ``state.json`` (pid or container, port).

Two ways to run it, tried in this order (``KG_RUNTIME=docker|java`` forces one):
- Docker, where a Docker engine answers: the official ``neo4j`` image, Bolt on 127.0.0.1.
- Java: the community server jars pinned in ``kg/resources/neo4j-jars.json`` are fetched
  once into the per-user cache (:mod:`kg.fetch`; ``KG_JARS=maven`` resolves them with Maven
  instead, :mod:`kg.maven`), then ``org.neo4j.server.CommunityEntryPoint`` runs with kg's
  ``neo4j.conf`` on the Java :func:`kg.java.find_java` picks (JAVA_HOME, the system Java
  17/21, or the packaged one).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .config import NEO4J_VERSION
from .errors import RuntimeUnavailable
from .java import Java, find_java

START_TIMEOUT = float(os.environ.get("KG_START_TIMEOUT", "180"))
INSTALL_HINT = (
    "kg runs its own Neo4j on Java 17 or 21 (pip install 'kg[server]' brings one) or with "
    "Docker (https://docs.docker.com/engine/install/). Or point kg at an existing server with "
    "KG_NEO4J_URI, KG_NEO4J_USER and KG_NEO4J_PASSWORD."
)


@dataclass
class Status:
    running: bool
    uri: str
    user: str
    database: str
    version: str
    runtime: str
    pid: Optional[int]
    home: Path
    password_file: Path
    java: Optional[dict] = None   # the Java the running server uses: path, version, source

    def as_dict(self) -> dict:
        return {"uri": self.uri, "user": self.user, "database": self.database,
                "version": self.version, "running": self.running,
                "password_file": str(self.password_file), "runtime": self.runtime,
                "pid": self.pid, "home": str(self.home), "java": self.java}


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def docker_answers() -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        return _run([docker, "info", "--format", "{{.ServerVersion}}"], timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _pid_alive(pid: Optional[int]) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited child not yet reaped) is not running
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


class LocalNeo4j:
    def __init__(self, home: Path, port: int):
        self.home = Path(home)
        self.root = self.home / "neo4j"
        self.requested_port = port

    # --- paths and state ------------------------------------------------------------------
    @property
    def conf_dir(self) -> Path:
        return self.root / "conf"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def import_dir(self) -> Path:
        return self.root / "import"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    def state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _save_state(self, **state) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
        tmp.replace(self.state_file)

    @property
    def port(self) -> int:
        st = self.state()
        if st.get("port") and self._running_from_state(st):
            return int(st["port"])
        return self.requested_port

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    def read_password(self) -> Optional[str]:
        try:
            return self.password_file.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def _ensure_password(self) -> str:
        existing = self.read_password()
        if existing:
            return existing
        self._make_root()
        # Letters and digits only: a value starting with '-' would read as an option.
        alphabet = string.ascii_letters + string.digits
        password = "".join(secrets.choice(alphabet) for _ in range(32))
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(password + "\n")
        os.chmod(self.password_file, 0o600)
        return password

    # --- runtime choice -------------------------------------------------------------------
    def choose_runtime(self) -> str:
        forced = os.environ.get("KG_RUNTIME", "").strip().lower()
        if forced in ("docker", "java"):
            return forced
        if forced and forced != "auto":
            raise RuntimeUnavailable(f"KG_RUNTIME must be auto, docker or java, not {forced!r}")
        if docker_answers():
            return "docker"
        return "java"

    # --- status -------------------------------------------------------------------------------
    def _running_from_state(self, st: dict) -> bool:
        if st.get("runtime") == "docker":
            name = st.get("container")
            if not name or not shutil.which("docker"):
                return False
            out = _run(["docker", "inspect", "-f", "{{.State.Running}}", name], timeout=15)
            return out.stdout.strip() == "true"
        return _pid_alive(st.get("pid"))

    def status(self) -> Status:
        st = self.state()
        running = bool(st) and self._running_from_state(st) and port_open(int(st["port"]))
        return Status(running=running, uri=self.uri, user="neo4j", database="neo4j",
                      version=st.get("version", NEO4J_VERSION), runtime=st.get("runtime", "-"),
                      pid=st.get("pid") if running else None, home=self.home,
                      password_file=self.password_file,
                      java=st.get("java") if running else None)

    # --- java route ---------------------------------------------------------------------------
    def classpath(self) -> str:
        """The server jars: fetched by kg into the per-user cache, or resolved by Maven.

        ``KG_JARS=fetch`` (the default) downloads the pinned manifest's jars once, checksums
        verified (:mod:`kg.fetch`); ``KG_JARS=maven`` runs Maven on kg's pom (:mod:`kg.maven`).
        """
        route = os.environ.get("KG_JARS", "fetch").strip().lower() or "fetch"
        if route == "maven":
            from .maven import maven_classpath

            return maven_classpath(self.root, self.logs_dir)
        if route not in ("fetch", "auto"):
            raise RuntimeUnavailable(f"KG_JARS must be fetch or maven, not {route!r}")
        from .fetch import classpath

        return classpath()

    def java(self) -> Java:
        """The Java this server runs on (JAVA_HOME, system Java 17/21, packaged); cached."""
        if getattr(self, "_java", None) is None:
            self._java = find_java()
        return self._java

    def _make_root(self) -> None:
        """The server's folder holds the graph and the password: only its owner may enter."""
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)

    def write_conf(self, port: int) -> Path:
        self._make_root()
        for d in (self.conf_dir, self.data_dir, self.logs_dir, self.import_dir,
                  self.root / "run", self.root / "plugins"):
            d.mkdir(parents=True, exist_ok=True)
        pagecache = os.environ.get("KG_NEO4J_PAGECACHE", "256m")
        conf = f"""# Written by kg for its local server; changes are overwritten at each start.
server.default_listen_address=127.0.0.1
server.default_advertised_address=127.0.0.1
server.bolt.enabled=true
server.bolt.listen_address=127.0.0.1:{port}
server.bolt.advertised_address=127.0.0.1:{port}
server.http.enabled=false
server.https.enabled=false
dbms.security.auth_enabled=true
dbms.usage_report.enabled=false
server.memory.pagecache.size={pagecache}
db.tx_log.rotation.retention_policy=2 files
server.directories.data={self.data_dir}
server.directories.logs={self.logs_dir}
server.directories.run={self.root / 'run'}
server.directories.plugins={self.root / 'plugins'}
server.directories.import={self.import_dir}
dbms.security.allow_csv_import_from_file_urls=true
"""
        path = self.conf_dir / "neo4j.conf"
        path.write_text(conf, encoding="utf-8")
        return path

    def java_env(self) -> dict:
        env = dict(os.environ)
        env["NEO4J_HOME"] = str(self.root)
        env["NEO4J_CONF"] = str(self.conf_dir)
        return env

    def admin(self, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
        """Run neo4j-admin (org.neo4j.cli.AdminTool) against this server's files."""
        java = self.java().path
        heap = os.environ.get("KG_NEO4J_HEAP", "1g")
        cmd = [java, f"-Xmx{heap}", "-cp", self.classpath(), "org.neo4j.cli.AdminTool", *args]
        return _run(cmd, env=self.java_env(), timeout=timeout, cwd=self.root)

    def _start_java(self, port: int) -> int:
        java = self.java()
        cp = self.classpath()
        self.write_conf(port)
        if not (self.data_dir / "dbms" / "auth.ini").exists():
            self._ensure_password()
            # neo4j-admin reads the password from its file (picocli's @file argument), so it
            # never shows on a command line other local users can list.
            out = self.admin("dbms", "set-initial-password", f"@{self.password_file}")
            if out.returncode != 0:
                raise RuntimeUnavailable("could not set the initial password: "
                                         + (out.stderr or out.stdout).strip()[-500:])
        heap = os.environ.get("KG_NEO4J_HEAP", "1g")
        cmd = [java.path, "-Xms256m", f"-Xmx{heap}", "-XX:+UseG1GC",
               "-XX:-OmitStackTraceInFastThrow", "-XX:+DisableExplicitGC",
               "-Djdk.nio.maxCachedBufferSize=262144", "-Dio.netty.tryReflectionSetAccessible=true",
               "--add-opens=java.base/java.nio=ALL-UNNAMED",
               "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
               "-Dlog4j2.disable.jmx=true", "-Dfile.encoding=UTF-8",
               "-cp", cp, "org.neo4j.server.CommunityEntryPoint",
               f"--home-dir={self.root}", f"--config-dir={self.conf_dir}"]
        console = open(self.logs_dir / "console.log", "ab")
        proc = subprocess.Popen(cmd, stdout=console, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=self.java_env(), cwd=self.root,
                                start_new_session=True)
        console.close()
        self._save_state(runtime="java", pid=proc.pid, port=port, version=NEO4J_VERSION,
                         java=java.as_dict())
        return proc.pid

    # --- docker route -------------------------------------------------------------------------
    def container_name(self) -> str:
        digest = hashlib.sha1(str(self.home.resolve()).encode()).hexdigest()[:10]
        return f"kg-neo4j-{digest}"

    def _start_docker(self, port: int) -> None:
        password = self._ensure_password()
        name = self.container_name()
        _run(["docker", "rm", "-f", name], timeout=60)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        env_file = self.root / "docker.env"
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"NEO4J_AUTH=neo4j/{password}\n")
        cmd = ["docker", "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:7687",
               "-v", f"{self.data_dir}:/data", "-v", f"{self.logs_dir}:/logs",
               "--env-file", str(env_file),
               "-e", "NEO4J_server_http_enabled=false",
               "-e", "NEO4J_dbms_usage__report_enabled=false",
               "-e", f"NEO4J_server_memory_heap_max__size={os.environ.get('KG_NEO4J_HEAP', '1g')}",
               "-e", "NEO4J_server_memory_pagecache_size="
                     f"{os.environ.get('KG_NEO4J_PAGECACHE', '256m')}",
               f"neo4j:{NEO4J_VERSION}-community"]
        out = _run(cmd, timeout=900)
        if out.returncode != 0:
            raise RuntimeUnavailable("docker could not start Neo4j: "
                                     + out.stderr.strip()[-500:])
        self._save_state(runtime="docker", container=name, port=port, version=NEO4J_VERSION)

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Status:
        """Start the server if it is not running; return once Bolt answers. Idempotent."""
        current = self.status()
        if current.running:
            return current
        port = self.requested_port
        if port_open(port):
            raise RuntimeUnavailable(
                f"port {port} on 127.0.0.1 is already taken by another program.",
                hint="Stop it, or choose another port with KG_BOLT_PORT.")
        runtime = self.choose_runtime()
        if runtime == "docker":
            self._start_docker(port)
        else:
            self._start_java(port)
        self._wait_for_bolt(port)
        return self.status()

    def _wait_for_bolt(self, port: int) -> None:
        from neo4j import GraphDatabase
        from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

        deadline = time.monotonic() + START_TIMEOUT
        password = self.read_password()
        while time.monotonic() < deadline:
            st = self.state()
            if not self._running_from_state(st):
                raise RuntimeUnavailable("Neo4j stopped while starting:\n  "
                                         + "\n  ".join(self.log_tail()))
            if port_open(port):
                try:
                    with GraphDatabase.driver(f"bolt://127.0.0.1:{port}",
                                              auth=("neo4j", password or "")) as drv:
                        drv.verify_connectivity()
                        drv.execute_query("RETURN 1")
                    return
                except AuthError as e:
                    raise RuntimeUnavailable(
                        f"the local Neo4j rejected kg's password ({self.password_file}); "
                        "the data folder was made with another one.",
                        hint="`kg db stop`, then remove $KG_HOME/neo4j/data to start afresh "
                             "(this deletes the local graph).") from e
                except (ServiceUnavailable, Neo4jError, OSError):
                    pass
            time.sleep(0.5)
        raise RuntimeUnavailable(f"Neo4j did not answer on port {port} within "
                                 f"{START_TIMEOUT:.0f} s; see {self.logs_dir}.")

    def log_tail(self, n: int = 12) -> list[str]:
        lines: list[str] = []
        for name in ("console.log", "neo4j.log"):
            p = self.logs_dir / name
            if p.exists():
                lines += p.read_text(encoding="utf-8", errors="replace").splitlines()[-n:]
        return lines[-n:] or ["(no log output)"]

    def stop(self, timeout: float = 60) -> bool:
        """Stop the server; True if one was running."""
        st = self.state()
        if not st or not self._running_from_state(st):
            return False
        if st.get("runtime") == "docker":
            _run(["docker", "stop", st["container"]], timeout=timeout + 30)
            _run(["docker", "rm", "-f", st["container"]], timeout=60)
            return True
        pid = int(st["pid"])
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            return False
        except PermissionError:
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _pid_alive(pid):
            self._reap(pid)
            time.sleep(0.2)
        if _pid_alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            time.sleep(0.5)
        self._reap(pid)
        return True

    # --- backups ----------------------------------------------------------------------------
    def _offline(self, action: str) -> bool:
        st = self.state()
        if st.get("runtime") == "docker":
            raise RuntimeUnavailable(f"`kg db {action}` works with the Java runtime; with Docker use "
                                     "`docker exec` and neo4j-admin in the container.")
        return self.stop()

    def dump(self, out: Path) -> Path:
        """Dump the database to a file (neo4j-admin database dump), restarting if it ran."""
        import tempfile

        was_running = self._offline("dump")
        try:
            with tempfile.TemporaryDirectory(dir=self.root) as tmp:
                res = self.admin("database", "dump", "neo4j", f"--to-path={tmp}",
                                 "--overwrite-destination=true")
                if res.returncode != 0:
                    raise RuntimeUnavailable("neo4j-admin could not dump the database: "
                                             + (res.stderr or res.stdout).strip()[-800:])
                out = Path(out)
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(Path(tmp) / "neo4j.dump"), str(out))
                os.chmod(out, 0o600)
        finally:
            if was_running:
                self.start()
        return out

    def restore(self, dump: Path) -> None:
        """Replace the database with a dump (neo4j-admin database load), restarting if it ran."""
        import tempfile

        dump = Path(dump)
        if not dump.is_file():
            raise RuntimeUnavailable(f"no dump file at {dump}")
        was_running = self._offline("restore")
        try:
            with tempfile.TemporaryDirectory(dir=self.root) as tmp:
                shutil.copyfile(dump, Path(tmp) / "neo4j.dump")
                res = self.admin("database", "load", "neo4j", f"--from-path={tmp}",
                                 "--overwrite-destination=true")
                if res.returncode != 0:
                    raise RuntimeUnavailable("neo4j-admin could not load the dump: "
                                             + (res.stderr or res.stdout).strip()[-800:])
        finally:
            if was_running:
                self.start()

    @staticmethod
    def _reap(pid: int) -> None:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
