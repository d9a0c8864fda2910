"""The Neo4j server jars without Maven: a pinned manifest, a fetcher and a per-user cache.

``kg/resources/neo4j-jars.json`` lists every jar kg's local Neo4j runs (group, artifact,
version, classifier, sha256, size), in classpath order. It is generated from Maven's
resolution of ``kg/resources/neo4j-pom.xml`` by ``make neo4j-lock`` (:mod:`kg.maven`) and
checked against Maven by a test.

:func:`ensure_jars` downloads what the cache lacks straight from a Maven repository
(``KG_MAVEN_MIRROR``, default Maven Central) with the standard layout
``GROUP/PATH/ARTIFACT/VERSION/ARTIFACT-VERSION[-CLASSIFIER].jar``, verifies each sha256,
and returns the classpath. Downloads go to ``NAME.part`` and are renamed into place only
once their checksum matches, so an interrupted fetch resumes (HTTP Range) and nothing half
fetched is ever put on a classpath. Every cached jar is hashed again before each use: a jar
that no longer matches the manifest is fetched again, never run.

The cache (``KG_CACHE_DIR``, default ``$XDG_CACHE_HOME/kg`` or ``~/.cache/kg``) is shared
by every ``KG_HOME`` of the user, so tests and demos fetch once.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import http.client
import json
import os
import shutil
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

from .config import fetch_timeout
from .errors import RuntimeUnavailable
from .progress import Progress, _mb

DEFAULT_MIRROR = "https://repo.maven.apache.org/maven2"
MANIFEST_RESOURCE = "resources/neo4j-jars.json"
WORKERS = 4
CHUNK = 1 << 16
TRIES = 3  # a dropped connection is resumed (HTTP Range) this many times before giving up


class ShortRead(ConnectionError):
    """The server closed the connection before the whole file came."""


@dataclass(frozen=True)
class Jar:
    group: str
    artifact: str
    version: str
    classifier: str | None
    sha256: str
    size: int

    @property
    def coordinate(self) -> str:
        parts = [self.group, self.artifact, self.version]
        if self.classifier:
            parts.append(self.classifier)
        return ":".join(parts)

    @property
    def filename(self) -> str:
        tail = f"-{self.classifier}" if self.classifier else ""
        return f"{self.artifact}-{self.version}{tail}.jar"

    @property
    def path(self) -> str:
        """The jar's path in a Maven repository (and in kg's cache)."""
        return "/".join([*self.group.split("."), self.artifact, self.version, self.filename])

    def as_dict(self) -> dict:
        return {
            "group": self.group,
            "artifact": self.artifact,
            "version": self.version,
            "classifier": self.classifier,
            "sha256": self.sha256,
            "size": self.size,
        }


@dataclass(frozen=True)
class Manifest:
    neo4j_version: str
    jars: tuple[Jar, ...]

    @property
    def total_size(self) -> int:
        return sum(j.size for j in self.jars)

    @classmethod
    def from_dict(cls, data: dict) -> Manifest:
        jars = tuple(
            Jar(
                group=j["group"],
                artifact=j["artifact"],
                version=j["version"],
                classifier=j.get("classifier") or None,
                sha256=j["sha256"].lower(),
                size=int(j["size"]),
            )
            for j in data["jars"]
        )
        return cls(neo4j_version=data["neo4j_version"], jars=jars)

    def dumps(self) -> str:
        """JSON with one jar per line, so a version bump reads as a small diff."""
        head = {
            "neo4j_version": self.neo4j_version,
            "jar_count": len(self.jars),
            "total_size": self.total_size,
            "generated_by": "make neo4j-lock (python -m kg.maven lock): Maven's resolution "
            "of kg/resources/neo4j-pom.xml, in classpath order",
        }
        lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
        body = ",\n".join("    " + json.dumps(j.as_dict()) for j in self.jars)
        return "{\n" + "\n".join(lines) + '\n  "jars": [\n' + body + "\n  ]\n}\n"


def load_manifest(path: Path | None = None) -> Manifest:
    if path is None:
        text = resources.files("kg").joinpath(MANIFEST_RESOURCE).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return Manifest.from_dict(json.loads(text))


# --- settings ---------------------------------------------------------------------------------


def cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    """kg's per-user cache: KG_CACHE_DIR, else $XDG_CACHE_HOME/kg, else ~/.cache/kg."""
    if env.get("KG_CACHE_DIR"):
        return Path(env["KG_CACHE_DIR"]).expanduser().absolute()
    xdg = env.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path(env.get("HOME") or Path.home()) / ".cache"
    return (base / "kg").absolute()


def jar_cache(env: Mapping[str, str] = os.environ) -> Path:
    return cache_dir(env) / "jars"


def mirror_url(env: Mapping[str, str] = os.environ) -> str:
    return (env.get("KG_MAVEN_MIRROR") or DEFAULT_MIRROR).rstrip("/")


def _split_credentials(url: str) -> tuple[str, str | None, str]:
    """(url without user:password, an Authorization header or None, a printable url)."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return url, None, url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    clean = urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    token = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
    auth = "Basic " + base64.b64encode(token.encode()).decode()
    printable = urllib.parse.urlunsplit((parts.scheme, f"***@{host}", parts.path, "", ""))
    return clean, auth, printable


# --- verification ---------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _valid(path: Path, jar: Jar) -> bool:
    try:
        if path.stat().st_size != jar.size:
            return False
        return sha256_of(path) == jar.sha256
    except OSError:
        return False


# --- the fetch ----------------------------------------------------------------------------------


class _Fetcher:
    def __init__(
        self,
        base: str,
        cache: Path,
        progress: Progress | None,
        opener: Callable = urllib.request.urlopen,
    ):
        self.base, self.auth, self.printable = _split_credentials(base)
        self.cache = cache
        self.progress = progress
        self.opener = opener

    def _request(self, jar: Jar, offset: int) -> urllib.request.Request:
        req = urllib.request.Request(f"{self.base}/{jar.path}")
        req.add_header("User-Agent", "kg (Neo4j server jars)")
        if self.auth:
            req.add_header("Authorization", self.auth)
        if offset:
            req.add_header("Range", f"bytes={offset}-")
        return req

    def fetch(self, jar: Jar) -> None:
        final = self.cache / jar.path
        part = final.with_name(final.name + ".part")
        final.parent.mkdir(parents=True, exist_ok=True)
        for attempt in (1, 2):
            for tries_left in range(TRIES - 1, -1, -1):
                try:
                    self._download(jar, part)
                    break
                except (http.client.HTTPException, ConnectionError, TimeoutError):
                    if not tries_left:  # keep the .part file: the next run resumes it
                        raise
                    time.sleep(0.5)
            if _valid(part, jar):
                os.replace(part, final)
                return
            got = sha256_of(part) if part.exists() else "nothing"
            part.unlink(missing_ok=True)
            if attempt == 2:
                raise RuntimeUnavailable(
                    f"checksum mismatch: {jar.coordinate} downloaded from {self.printable} has "
                    f"sha256 {got}, but kg's manifest pins {jar.sha256} ({jar.size} bytes). "
                    "The file was discarded; nothing was installed.",
                    hint="Something between you and the repository altered the download (a "
                    "proxy, or a mirror serving other files). Try again; if it persists, "
                    "check KG_MAVEN_MIRROR or use KG_JARS=maven.",
                )

    def _download(self, jar: Jar, part: Path) -> None:
        offset = part.stat().st_size if part.exists() else 0
        if offset >= jar.size:  # a whole (or overlong) leftover: check it, or start again
            if offset == jar.size:
                return
            part.unlink()
            offset = 0
        with self.opener(self._request(jar, offset), timeout=fetch_timeout()) as resp:
            status = getattr(resp, "status", 200)
            if offset and status != 206:  # the server ignored Range: start from zero
                offset = 0
            if self.progress and offset:
                self.progress.add(offset)
            with open(part, "ab" if offset else "wb") as out:
                while True:
                    block = resp.read(CHUNK)
                    if not block:
                        break
                    out.write(block)
                    if self.progress:
                        self.progress.add(len(block))
                    if out.tell() > jar.size:
                        break  # longer than pinned: cannot be the right file
                if out.tell() < jar.size:
                    raise ShortRead(
                        f"the connection closed after {out.tell()} of "
                        f"{jar.size} bytes of {jar.filename}"
                    )
        if self.progress:
            self.progress.add(0, finished_file=True)


def missing_jars(manifest: Manifest, cache: Path) -> list[Jar]:
    return [j for j in manifest.jars if not _valid(cache / j.path, j)]


def _seed_from_maven(jars: list[Jar], cache: Path, env: Mapping[str, str]) -> list[Jar]:
    """Copy jars Maven already holds (~/.m2/repository) with the pinned checksum."""
    repo = Path(env.get("HOME") or Path.home()) / ".m2" / "repository"
    if not repo.is_dir():
        return jars
    left = []
    for jar in jars:
        src = repo / jar.path
        if _valid(src, jar):
            dst = cache / jar.path
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_name(dst.name + ".part")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
        else:
            left.append(jar)
    return left


def _describe_network(err: BaseException) -> str:
    reason = getattr(err, "reason", err)
    if isinstance(reason, socket.gaierror):
        return f"the host name could not be resolved ({reason.strerror or reason})"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "the connection timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(reason, ShortRead):
        return str(reason)
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason)


def ensure_jars(
    manifest: Manifest | None = None,
    env: Mapping[str, str] = os.environ,
    stream: TextIO | None = None,
    opener: Callable = urllib.request.urlopen,
) -> list[Path]:
    """Make sure every jar of the manifest is in the cache and intact; return them in order."""
    manifest = manifest or load_manifest()
    cache = jar_cache(env)
    missing = missing_jars(manifest, cache)
    if not missing:
        return [cache / j.path for j in manifest.jars]
    try:
        cache.mkdir(parents=True, exist_ok=True)
        lock = open(cache / ".fetch.lock", "a+b")
    except OSError as e:
        raise _disk_error(e, cache, sum(j.size for j in missing)) from None
    with lock:
        _lock(lock)  # one fetch per cache at a time: another kg may be fetching already
        return _fetch_missing(manifest, cache, env, stream, opener)


def _lock(f) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX: concurrent fetches still end verified, just slower
        return
    fcntl.flock(f.fileno(), fcntl.LOCK_EX)


def _fetch_missing(
    manifest: Manifest, cache: Path, env: Mapping[str, str], stream: TextIO | None, opener: Callable
) -> list[Path]:
    missing = missing_jars(manifest, cache)
    try:
        missing = _seed_from_maven(missing, cache, env)
    except OSError as e:
        raise _disk_error(e, cache, sum(j.size for j in missing)) from None
    if not missing:
        return [cache / j.path for j in manifest.jars]
    need = sum(j.size for j in missing)
    free = shutil.disk_usage(cache).free
    if free < need + (16 << 20):
        raise _full(cache, need, free)
    base = mirror_url(env)
    fetcher = _Fetcher(base, cache, None, opener)
    progress = Progress(need, len(missing), fetcher.printable, stream)
    damaged = [j for j in missing if (cache / j.path).exists()]
    if damaged:
        names = ", ".join(j.filename for j in damaged[:3]) + (" ..." if len(damaged) > 3 else "")
        progress.say(
            f"kg: {len(damaged)} cached jar{'s' if len(damaged) != 1 else ''} did not "
            f"match the manifest's checksum ({names}): fetching again, never running"
        )
    fetcher.progress = progress
    ok = False
    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = [pool.submit(fetcher.fetch, j) for j in missing]
            errors = []
            for f in futures:
                try:
                    f.result()
                except BaseException as e:
                    errors.append(e)
            if errors:
                raise errors[0]
        ok = True
    except RuntimeUnavailable:
        raise
    except ValueError as e:  # urllib: a mirror URL it cannot use
        raise RuntimeUnavailable(
            f"KG_MAVEN_MIRROR={fetcher.printable!r} is not a usable URL: {e}",
            hint=f"Give an http(s) URL of a Maven repository, or unset it to use {DEFAULT_MIRROR}.",
        ) from None
    except http.client.HTTPException as e:  # a connection cut mid-answer
        left = missing_jars(manifest, cache)
        raise _offline(
            fetcher.printable, f"the connection broke ({type(e).__name__})", left, manifest
        ) from None
    except urllib.error.HTTPError as e:
        left = missing_jars(manifest, cache)
        raise RuntimeUnavailable(
            f"{fetcher.printable} answered HTTP {e.code} ({e.reason}) for {e.url}; "
            f"{len(left)} of {len(manifest.jars)} Neo4j jars are still missing.",
            hint="KG_MAVEN_MIRROR must name a Maven repository with the standard layout "
            f"(the default is {DEFAULT_MIRROR}); what was fetched is kept, so rerunning "
            "fetches only the rest.",
        ) from None
    except OSError as e:
        if (
            isinstance(e, urllib.error.URLError)
            or not getattr(e, "errno", None)
            or e.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS)
        ):
            left = missing_jars(manifest, cache)
            raise _offline(fetcher.printable, _describe_network(e), left, manifest) from None
        _drop_partials(cache, missing)
        raise _disk_error(e, cache, need) from None
    finally:
        progress.finish(ok)
    return [cache / j.path for j in manifest.jars]


def _offline(source: str, why: str, left: list[Jar], manifest: Manifest) -> RuntimeUnavailable:
    return RuntimeUnavailable(
        f"no network: could not fetch the Neo4j server jars from {source}: {why}. "
        f"{len(left)} of {len(manifest.jars)} jars ({_mb(sum(j.size for j in left))}) are "
        "still missing; none of them was installed half-way.",
        hint="Connect to the internet and run the command again: it resumes where it stopped. "
        "Behind a proxy, set https_proxy, or KG_MAVEN_MIRROR to your organisation's Maven "
        "repository; with Maven set up, KG_JARS=maven.",
    )


def _drop_partials(cache: Path, jars: list[Jar]) -> None:
    for j in jars:
        (cache / (j.path + ".part")).unlink(missing_ok=True)


def _full(cache: Path, need: int, free: int) -> RuntimeUnavailable:
    return RuntimeUnavailable(
        f"disk full: the Neo4j server jars need {_mb(need)} in {cache}, and only {_mb(free)} "
        "is free there. Nothing was installed.",
        hint="Free some space, or set KG_CACHE_DIR to a folder on a disk with room, and run the "
        "command again.",
    )


def _disk_error(e: OSError, cache: Path, need: int) -> RuntimeUnavailable:
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        try:
            free = shutil.disk_usage(cache).free
        except OSError:
            free = 0
        return _full(cache, need, free)
    return RuntimeUnavailable(
        f"cannot write kg's jar cache {cache}: {e.strerror or e}. Nothing was installed.",
        hint="Set KG_CACHE_DIR to a folder you can write to, and run the command again.",
    )


def classpath(env: Mapping[str, str] = os.environ, stream: TextIO | None = None) -> str:
    return os.pathsep.join(str(p) for p in ensure_jars(env=env, stream=stream))
