"""The Maven route to the Neo4j server jars, and the maintainer command that pins them.

- :func:`maven_classpath` resolves ``kg/resources/neo4j-pom.xml`` with ``mvn
  dependency:build-classpath`` (``KG_JARS=maven``; Maven's cache ``~/.m2`` keeps the jars).
- :func:`resolve` asks Maven for the same resolution as coordinates plus files, and
  ``python -m kg.maven lock`` (``make neo4j-lock``) writes it, with each jar's sha256 and
  size, to ``kg/resources/neo4j-jars.json``: the manifest :mod:`kg.fetch` downloads from.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

from .config import NEO4J_VERSION
from .errors import RuntimeUnavailable
from .fetch import Jar, Manifest

MAVEN_HINT = (
    "Maven needs to reach Maven Central (or the mirror in your settings.xml) once; "
    "after that its cache (~/.m2) is enough. Or unset KG_JARS to let kg fetch the "
    "jars itself."
)


def pom_text(version: str = NEO4J_VERSION) -> str:
    return (
        resources.files("kg")
        .joinpath("resources/neo4j-pom.xml")
        .read_text(encoding="utf-8")
        .replace("@NEO4J_VERSION@", version)
    )


def _mvn() -> str:
    mvn = shutil.which("mvn")
    if not mvn:
        raise RuntimeUnavailable(
            "KG_JARS=maven, but Maven (mvn) is not installed.",
            hint="Install Maven, or unset KG_JARS: kg then fetches the "
            "pinned jars itself (Python only).",
        )
    return mvn


def _run_maven(workdir: Path, goal_args: list[str], log: Path) -> None:
    pom = workdir / "pom.xml"
    pom.write_text(pom_text(), encoding="utf-8")
    cmd = [_mvn(), "-B", "-q", "-f", str(pom), *goal_args]
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    if proc.returncode != 0:
        lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        tail = [ln for ln in lines if ln.strip() not in ("", "[ERROR]")][:8]
        raise RuntimeUnavailable(
            f"Maven could not resolve the Neo4j {NEO4J_VERSION} jars (see {log}):\n  "
            + "\n  ".join(tail),
            hint=MAVEN_HINT,
        )


def maven_classpath(root: Path, logs: Path) -> str:
    """The classpath Maven resolves (kept in ROOT/classpath-VERSION.txt while its files exist)."""
    cp_file = root / f"classpath-{NEO4J_VERSION}.txt"
    if cp_file.exists():
        cp = cp_file.read_text(encoding="utf-8").strip()
        if cp and all(Path(p).exists() for p in cp.split(os.pathsep)):
            return cp
    root.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    _run_maven(
        root,
        [
            "dependency:build-classpath",
            f"-Dmdep.outputFile={cp_file}",
            "-Dmdep.includeScope=runtime",
        ],
        logs / "maven.log",
    )
    if not cp_file.exists():
        raise RuntimeUnavailable(
            f"Maven wrote no classpath (see {logs / 'maven.log'}).", hint=MAVEN_HINT
        )
    return cp_file.read_text(encoding="utf-8").strip()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def resolve(workdir: Path | None = None) -> Manifest:
    """Maven's resolution of the pom: every runtime jar, in classpath order, with checksums."""
    with tempfile.TemporaryDirectory(prefix="kg-lock-") as tmp:
        work = Path(workdir or tmp)
        listing, cp_file = work / "list.txt", work / "classpath.txt"
        _run_maven(
            work,
            [
                "dependency:list",
                f"-DoutputFile={listing}",
                "-DincludeScope=runtime",
                "-DoutputAbsoluteArtifactFilename=true",
            ],
            work / "maven-list.log",
        )
        _run_maven(
            work,
            [
                "dependency:build-classpath",
                f"-Dmdep.outputFile={cp_file}",
                "-Dmdep.includeScope=runtime",
            ],
            work / "maven-cp.log",
        )
        by_path: dict[str, tuple[str, str, str, str | None]] = {}
        for line in listing.read_text(encoding="utf-8").splitlines():
            fields = line.strip().split(":")
            # group:artifact:jar[:classifier]:version[:scope]:/path/to/file.jar (the path may
            # hold ':' on Windows): the path is the longest tail that names a file.
            if len(fields) < 5 or fields[2] != "jar":
                continue
            group, artifact = fields[0], fields[1]
            found = next(
                (
                    ":".join(fields[k:])
                    for k in range(3, len(fields))
                    if Path(":".join(fields[k:])).is_file()
                ),
                None,
            )
            if found is None:
                continue
            version = Path(found).parent.name
            stem = Path(found).name[: -len(".jar")]
            prefix = f"{artifact}-{version}"
            classifier = stem[len(prefix) + 1 :] if stem.startswith(prefix + "-") else None
            by_path[str(Path(found))] = (group, artifact, version, classifier)
        jars = []
        for entry in cp_file.read_text(encoding="utf-8").strip().split(os.pathsep):
            path = Path(entry)
            group, artifact, version, classifier = by_path[str(path)]
            jars.append(
                Jar(
                    group=group,
                    artifact=artifact,
                    version=version,
                    classifier=classifier,
                    sha256=_sha256(path),
                    size=path.stat().st_size,
                )
            )
        if len(jars) != len(by_path):
            raise RuntimeUnavailable(
                "Maven's list and classpath disagree "
                f"({len(by_path)} jars listed, {len(jars)} on the classpath)."
            )
        return Manifest(neo4j_version=NEO4J_VERSION, jars=tuple(jars))


def manifest_path() -> Path:
    return Path(__file__).resolve().parent / "resources" / "neo4j-jars.json"


def main(argv: list[str]) -> int:
    if argv[:1] != ["lock"]:
        print("usage: python -m kg.maven lock [--check]", file=sys.stderr)
        return 2
    try:
        manifest = resolve()
    except RuntimeUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    text = manifest.dumps()
    target = manifest_path()
    if "--check" in argv:
        same = target.exists() and target.read_text(encoding="utf-8") == text
        print(f"{target}: {'matches' if same else 'differs from'} Maven's resolution")
        return 0 if same else 1
    tmp = target.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    print(
        f"wrote {target}: {len(manifest.jars)} jars, {manifest.total_size / 1e6:.1f} MB, "
        f"Neo4j {manifest.neo4j_version}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
