"""Where kg finds its Neo4j: a server named by KG_NEO4J_* variables, or its own local one."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

from .errors import ConfigError

if TYPE_CHECKING:
    from .runtime import LocalNeo4j

NEO4J_VERSION = "5.26.30"  # the 5.26 LTS line, community edition
DEFAULT_PORT = 7687


@dataclass(frozen=True)
class Settings:
    uri: str
    user: str
    password: str | None
    database: str
    managed: bool  # True: kg's own local server under `home`
    home: Path
    password_file: Path | None

    def describe(self) -> str:
        """The URI without any credential, safe to print."""
        return redact_uri(self.uri)


def redact_uri(uri: str) -> str:
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri


_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")


def split_userinfo(uri: str) -> tuple[str, str | None, str | None]:
    """(uri without user:password@, user, password) of a URI such as
    bolt://neo4j:secret@host:7687. The driver never sees the credentials in the URI, so its
    error messages cannot repeat them."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri, None, None
    if "@" not in parts.netloc:
        return uri, None, None
    info, host = parts.netloc.rsplit("@", 1)
    user, _, password = info.partition(":")
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return clean, unquote(user) or None, unquote(password) if _ else None


def mask_secrets(text: str, env: Mapping[str, str] = os.environ) -> str:
    """Text safe to print: user information in any URI masked, and the configured
    password (from KG_NEO4J_PASSWORD or KG_NEO4J_URI) replaced wherever it appears."""
    text = _USERINFO.sub(r"\1***@", text)
    secrets = [env.get("KG_NEO4J_PASSWORD") or ""]
    uri = env.get("KG_NEO4J_URI") or ""
    if uri:
        secrets.append(split_userinfo(uri)[2] or "")
    for secret in secrets:
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def kg_home(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("KG_HOME") or ".kg").absolute()


def seconds(name: str, default: float, env: Mapping[str, str] = os.environ) -> float:
    """A KG_* duration in seconds; a value that is not a positive number is a ConfigError
    naming the variable (read when used, never at import: a bad value is never an internal
    error)."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not (value > 0 and value != float("inf")):
        raise ConfigError(f"{name} must be a positive number of seconds, got {raw!r}")
    return value


def start_timeout(env: Mapping[str, str] = os.environ) -> float:
    """KG_START_TIMEOUT: how long `kg db start` waits for Bolt (default 180 s)."""
    return seconds("KG_START_TIMEOUT", 180.0, env)


def fetch_timeout(env: Mapping[str, str] = os.environ) -> float:
    """KG_FETCH_TIMEOUT: the network timeout of one jar download (default 60 s)."""
    return seconds("KG_FETCH_TIMEOUT", 60.0, env)


# Values from the environment that end up in neo4j.conf or on the Java command line.
_MEMORY_RE = re.compile(r"^[1-9][0-9]{0,6}[kKmMgG]?$")


def memory_setting(name: str, default: str) -> str:
    """KG_NEO4J_HEAP / KG_NEO4J_PAGECACHE: a size such as 512m or 2g, nothing else (a line
    break would add settings to neo4j.conf)."""
    value = os.environ.get(name, default).strip()
    if not _MEMORY_RE.match(value):
        raise ConfigError(f"{name} must be a size such as 512m or 2g, not {value[:40]!r}")
    return value


JIT_FLAGS = {
    # The client compiler alone: Neo4j's code is compiled within seconds of first use, so
    # the first load after a start runs at the speed of the next. HotSpot's second compiler
    # (C2) spent more CPU compiling than a 10,000-record load spent writing, on two cores,
    # through the first two loads (docs/benchmarks.md, "Cold and warm").
    "quick": ["-XX:TieredStopAtLevel=1"],
    # HotSpot's default (C1, then C2 for hot code): slow to warm up, about twice as fast on
    # whole-graph queries over a million records once warm (docs/server.md, "JIT").
    "full": [],
}
# Bolt's TLS cipher suites by JIT mode, in the server's order of preference (Java picks its
# own first that the client offers). The client compiler alone does not turn AES-GCM into the
# CPU's AES instructions (C2 does); Java's ChaCha20-Poly1305 costs less than AES-GCM then: a
# 10,000-record load spent 0.42 s of the server's network thread instead of 0.66 s, and took
# 4.91-5.18 s instead of 5.23-5.57 (docs/benchmarks.md). TLS 1.2 suites for older clients.
# Empty: Java's default order (AES-GCM first).
BOLT_CIPHERS = {
    "quick": (
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ),
    "full": (),
}
# `auto` (the default): quick for a database smaller than this on disk (an empty one, a case
# of some 100,000 records), full above (a graph whose long queries pay for the compiler).
AUTO_FULL_BYTES = 256 * 2**20


def jit_mode(env: Mapping[str, str] = os.environ, store_bytes: int = 0) -> str:
    """KG_NEO4J_JIT: how kg's own server compiles Neo4j's code: quick, full or auto (the
    default: quick below AUTO_FULL_BYTES of database files, full from there)."""
    value = env.get("KG_NEO4J_JIT", "auto").strip().lower() or "auto"
    if value == "auto":
        return "full" if store_bytes >= AUTO_FULL_BYTES else "quick"
    if value not in JIT_FLAGS:
        raise ConfigError(f"KG_NEO4J_JIT must be auto, quick or full, not {value[:40]!r}")
    return value


def managed_port(env: Mapping[str, str] = os.environ) -> int:
    raw = env.get("KG_BOLT_PORT", str(DEFAULT_PORT))
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"KG_BOLT_PORT must be a port number, got {raw!r}") from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"KG_BOLT_PORT must be between 1 and 65535, got {port}")
    return port


def load_settings(env: Mapping[str, str] = os.environ) -> Settings:
    home = kg_home(env)
    uri = env.get("KG_NEO4J_URI")
    if uri:
        uri, uri_user, uri_password = split_userinfo(uri)
        password = env.get("KG_NEO4J_PASSWORD") or uri_password
        pw_file = env.get("KG_NEO4J_PASSWORD_FILE")
        if password is None and pw_file:
            try:
                password = Path(pw_file).read_text(encoding="utf-8").strip()
            except OSError as e:
                raise ConfigError(
                    f"cannot read KG_NEO4J_PASSWORD_FILE {pw_file}: {e.strerror}"
                ) from None
        return Settings(
            uri=uri,
            user=env.get("KG_NEO4J_USER") or uri_user or "neo4j",
            password=password,
            database=env.get("KG_NEO4J_DATABASE", "neo4j"),
            managed=False,
            home=home,
            password_file=Path(pw_file) if pw_file else None,
        )
    from .runtime import LocalNeo4j

    return local_settings(LocalNeo4j(home, managed_port(env)))


def local_settings(local: LocalNeo4j) -> Settings:
    """Settings for kg's own local server (a kg.runtime.LocalNeo4j)."""
    return Settings(
        uri=local.uri,
        user="neo4j",
        password=local.read_password(),
        database="neo4j",
        managed=True,
        home=local.home,
        password_file=local.password_file,
    )
