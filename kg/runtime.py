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

import json
import os
import secrets
import shutil
import signal
import string
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .config import BOLT_CIPHERS, JIT_FLAGS, NEO4J_VERSION, jit_mode, memory_setting, start_timeout
from .cypher import PING
from .errors import RuntimeUnavailable
from .java import Java, find_java
from .server.backup import BackupMixin
from .server.diagnosis import DiagnosisMixin
from .server.docker import DockerMixin
from .server.paths import PathsMixin
from .server.procs import (  # noqa: F401
    SERVER_CLASS,
    _pid_alive,
    _run,
    docker_answers,
    port_open,
    port_owner,
    proc_cmdline,
    proc_start_time,
    squatter_message,
)
from .server.tls import TlsMixin
from .warmup import warm_up_server  # kg's own query shapes run once (KG_WARMUP)

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
    pid: int | None
    home: Path
    password_file: Path
    java: dict | None = None  # the Java the running server uses: path, version, source

    def as_dict(self) -> dict:
        return {
            "uri": self.uri,
            "user": self.user,
            "database": self.database,
            "version": self.version,
            "running": self.running,
            "password_file": str(self.password_file),
            "runtime": self.runtime,
            "pid": self.pid,
            "home": str(self.home),
            "java": self.java,
        }


# The only variables the server sees (besides NEO4J_HOME and NEO4J_CONF): kg's environment
# may hold credentials (KG_NEO4J_PASSWORD, cloud tokens) the server has no use for.
SERVER_ENV = ("PATH", "JAVA_HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "HOME", "USER")


class LocalNeo4j(PathsMixin, TlsMixin, DockerMixin, DiagnosisMixin, BackupMixin):
    """kg's own server under KG_HOME: the Java backend here, the Docker backend, TLS,
    diagnosis, backups and its paths in kg.server."""

    def __init__(self, home: Path, port: int):
        self._proc: subprocess.Popen | None = None
        self.home = Path(home)
        self.root = self.home / "neo4j"
        self.warmed_s = 0.0  # what the last start spent warming up (kg.warmup)
        self.requested_port = port

    # --- paths and state ------------------------------------------------------------------
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

    def read_password(self) -> str | None:
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
        return self._is_our_server(st)

    def _is_our_server(self, st: dict) -> bool:
        """True only when the pid in the state file is, provably, this home's server: alive,
        started at the time recorded when kg launched it, and running Neo4j's entry point
        with this home folder. A pid reused by another process fails these checks."""
        pid = st.get("pid")
        if not isinstance(pid, int) or pid <= 1 or not _pid_alive(pid):
            return False
        started = st.get("started")
        if started is not None and proc_start_time(pid) not in (None, started):
            return False
        cmd = proc_cmdline(pid)
        if not cmd:
            return False
        line = " ".join(cmd)
        return SERVER_CLASS in line and f"--home-dir={self.root}" in line

    def _signal(self, st: dict, sig: int) -> None:
        """Signal kg's server: its process group only when kg created that group (it starts
        the server as the leader of a new session and records so), else the pid alone."""
        pid = int(st["pid"])
        try:
            if st.get("pgid") == pid and os.getpgid(pid) == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def status(self) -> Status:
        st = self.state()
        running = bool(st) and self._running_from_state(st) and port_open(int(st.get("port") or 0))
        return Status(
            running=running,
            uri=self.uri,
            user="neo4j",
            database="neo4j",
            version=st.get("version", NEO4J_VERSION),
            runtime=st.get("runtime", "-"),
            pid=st.get("pid") if running else None,
            home=self.home,
            password_file=self.password_file,
            java=st.get("java") if running else None,
        )

    # --- java route ---------------------------------------------------------------------------
    def classpath(self) -> str:
        """The server jars: ``KG_JARS=fetch`` (the default) downloads the pinned manifest's jars
        once into the per-user cache, checksums verified (:mod:`kg.fetch`); ``KG_JARS=maven``
        runs Maven on kg's pom (:mod:`kg.maven`)."""
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

    def write_conf(self, port: int, jit: str | None = None) -> Path:
        self._make_root()
        for d in (
            self.conf_dir,
            self.data_dir,
            self.logs_dir,
            self.import_dir,
            self.root / "run",
            self.root / "plugins",
        ):
            d.mkdir(parents=True, exist_ok=True)
        pagecache = memory_setting("KG_NEO4J_PAGECACHE", "256m")
        self.ensure_certificate()
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
server.directories.run={self.root / "run"}
server.directories.plugins={self.root / "plugins"}
server.directories.import={self.import_dir}
# kg never uses LOAD CSV: no file URLs (kg cypher refuses LOAD CSV by its plan as well).
dbms.security.allow_csv_import_from_file_urls=false
# Bolt only over TLS, with the certificate kg made; its driver trusts nothing else, so the
# password never goes to a program that took the port while the server was down.
server.bolt.tls_level=REQUIRED
dbms.ssl.policy.bolt.enabled=true
dbms.ssl.policy.bolt.base_directory={self.cert_dir}
dbms.ssl.policy.bolt.private_key=private.key
dbms.ssl.policy.bolt.public_certificate=public.crt
dbms.ssl.policy.bolt.client_auth=NONE
"""
        ciphers = BOLT_CIPHERS[jit or jit_mode(store_bytes=self.store_bytes())]
        conf += f"dbms.ssl.policy.bolt.ciphers={','.join(ciphers)}\n" if ciphers else ""
        path = self.conf_dir / "neo4j.conf"
        path.write_text(conf, encoding="utf-8")
        return path

    def java_env(self) -> dict:
        """A minimal environment for Java: the variables in SERVER_ENV, nothing else of kg's."""
        env = {k: os.environ[k] for k in SERVER_ENV if k in os.environ}
        env["NEO4J_HOME"] = str(self.root)
        env["NEO4J_CONF"] = str(self.conf_dir)
        return env

    def admin(self, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
        """Run neo4j-admin (org.neo4j.cli.AdminTool) against this server's files."""
        java = self.java().path
        heap = memory_setting("KG_NEO4J_HEAP", "1g")
        cmd = [java, f"-Xmx{heap}", "-cp", self.classpath(), "org.neo4j.cli.AdminTool", *args]
        return _run(cmd, env=self.java_env(), timeout=timeout, cwd=self.root)

    def _start_java(self, port: int) -> int:
        java = self.java()
        cp = self.classpath()
        jit = jit_mode(store_bytes=self.store_bytes())  # (its ciphers too: write_conf)
        self.write_conf(port, jit)
        if not (self.data_dir / "dbms" / "auth.ini").exists():
            self._ensure_password()
            # neo4j-admin reads the password from its file (picocli's @file argument), so it
            # never shows on a command line other local users can list.
            out = self.admin("dbms", "set-initial-password", f"@{self.password_file}")
            if out.returncode != 0:
                raise RuntimeUnavailable(
                    "could not set the initial password: "
                    + (out.stderr or out.stdout).strip()[-500:]
                )
        heap = memory_setting("KG_NEO4J_HEAP", "1g")
        cmd = [
            java.path,
            "-Xms256m",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            *JIT_FLAGS[jit],
            "-XX:-OmitStackTraceInFastThrow",
            "-XX:+DisableExplicitGC",
            "-Djdk.nio.maxCachedBufferSize=262144",
            "-Dio.netty.tryReflectionSetAccessible=true",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "-Dlog4j2.disable.jmx=true",
            "-Dfile.encoding=UTF-8",
            "-cp",
            cp,
            "org.neo4j.server.CommunityEntryPoint",
            f"--home-dir={self.root}",
            f"--config-dir={self.conf_dir}",
        ]
        console = open(self.logs_dir / "console.log", "ab")
        proc = subprocess.Popen(
            cmd,
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.java_env(),
            cwd=self.root,
            start_new_session=True,
        )
        console.close()
        self._proc = proc  # this process's own child: its exit is known without /proc
        # The start time and process group prove later that this pid is still this server.
        self._save_state(
            runtime="java",
            pid=proc.pid,
            started=proc_start_time(proc.pid),
            pgid=proc.pid,
            port=port,
            version=NEO4J_VERSION,
            jit=jit,
            java=java.as_dict(),
        )
        return proc.pid

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self, *, warm: bool = False) -> Status:
        """Start the server if it is not running; return once Bolt answers and, with ``warm``
        (`kg db start`, the test and benchmark servers; unless KG_WARMUP=0), once kg's own
        query shapes have run (kg.warmup), so the first load is not a cold one. Idempotent.
        A start that fails leaves no Java running and says why, from this run's logs."""
        current = self.status()
        if current.running:
            return current
        start_timeout()  # a bad KG_START_TIMEOUT fails here, before anything starts
        port = self.requested_port
        if port_open(port):
            raise RuntimeUnavailable(
                squatter_message(port) + ".",
                hint="Stop that program, or choose another port for kg with KG_BOLT_PORT.",
            )
        runtime = self.choose_runtime()
        marks = self._log_marks()
        if runtime == "docker":
            self._start_docker(port)
        else:
            self._start_java(port)
        try:
            self._wait_for_bolt(port, marks)
        except BaseException:
            self._stop_failed_start()
            raise
        self.warmed_s = warm_up_server(self) if warm else 0.0
        return self.status()

    def _stop_failed_start(self) -> None:
        st = self.state()
        try:
            if st.get("runtime") == "docker" and st.get("container"):
                _run(["docker", "rm", "-f", st["container"]], timeout=60)
            elif self._proc is not None and self._proc.poll() is None:
                # kg's own child, leader of the session kg created for it
                for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
                    try:
                        os.killpg(self._proc.pid, sig)
                    except (ProcessLookupError, PermissionError):
                        break
                    try:
                        self._proc.wait(timeout=wait)
                        break
                    except subprocess.TimeoutExpired:
                        continue
            elif self._is_our_server(st):
                self.stop(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            pass

    def _wait_for_bolt(self, port: int, marks: dict | None = None) -> None:
        from neo4j import GraphDatabase
        from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

        limit = start_timeout()
        deadline = time.monotonic() + limit
        password = self.read_password()
        while time.monotonic() < deadline:
            st = self.state()
            child = self._proc
            if child is not None and st.get("pid") == child.pid:
                gone = child.poll() is not None
            else:
                gone = not self._running_from_state(st)
            if gone:
                code = child.returncode if child is not None else None
                raise self.start_failure(
                    "Neo4j stopped while starting"
                    + (f" (Java exited with status {code})" if code is not None else ""),
                    port,
                    marks,
                )
            if port_open(port):
                try:
                    with GraphDatabase.driver(
                        f"bolt://127.0.0.1:{port}",
                        auth=("neo4j", password or ""),
                        connection_timeout=5,
                        **self.tls_options(),
                    ) as drv:
                        drv.verify_connectivity()
                        drv.execute_query(PING)
                    return
                except AuthError as e:
                    # Proven to be kg's own server: it completed TLS with kg's pinned
                    # certificate, and its pid is the one kg started with this home.
                    raise RuntimeUnavailable(
                        f"kg's own Neo4j (pid {st.get('pid')}, certificate {self.certificate}) "
                        f"rejected the password in {self.password_file}: the database in "
                        f"{self.data_dir} was set up with another password.",
                        hint="Put the right password back into that file if you have it. Or, "
                        "to start afresh, `kg db stop` and move that data folder aside "
                        "(its graph is then no longer used); `kg db restore FILE --yes` "
                        "brings back a dump.",
                    ) from e
                except (ServiceUnavailable, Neo4jError, OSError):
                    pass
            time.sleep(0.5)
        raise self.start_failure(
            f"Neo4j did not answer on port {port} within {limit:.0f} s", port, marks
        )

    def stop(self, timeout: float = 60) -> bool:
        """Stop the server; True if one was running. Only a process proven to be this home's
        server is signalled; a state file naming any other process is stale and removed."""
        st = self.state()
        if not st:
            return False
        if st.get("runtime") == "docker":
            if not self._running_from_state(st):
                return False
            _run(["docker", "stop", st["container"]], timeout=timeout + 30)
            _run(["docker", "rm", "-f", st["container"]], timeout=60)
            return True
        if not self._is_our_server(st):
            self._forget_stale_state(st)
            return False
        pid = int(st["pid"])
        self._signal(st, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._is_our_server(st):
            self._reap(pid)
            time.sleep(0.2)
        if self._is_our_server(st):
            self._signal(st, signal.SIGKILL)
            time.sleep(0.5)
        self._reap(pid)
        return True

    def _forget_stale_state(self, st: dict) -> None:
        """The state file names no server of this home: drop its pid so nothing acts on it."""
        if st.get("pid") is not None:
            self._save_state(**{k: v for k, v in st.items() if k not in ("pid", "started", "pgid")})

    @staticmethod
    def _reap(pid: int) -> None:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
