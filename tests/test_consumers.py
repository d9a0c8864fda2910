"""GraphML and GEXF read by the real consumers: JGraphT 1.5.2 (GraphML, schema validation on)
and the Gephi toolkit 0.10.1 (GraphML with "don't merge parallel edges", GEXF with Gephi's
default import). The Java programs under tests/consumers/ print what each tool holds as
JSON; the tests compare it with the graph.

Maven resolves the two artifacts from Maven Central once (its cache ~/.m2 keeps them); the
classpath and the compiled programs are kept in tests/consumers/.build/ (keyed by the
sources), so later runs start the JVM only. Without Java or Maven these tests fail, loudly:
they are never skipped.
"""

import hashlib
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from conftest import CASES, CHECHNYA

from kg.export import export
from kg.export.graphfiles import xml_safe
from kg.loader import load
from kg.selection import Selection, Subgraph, select

HERE = Path(__file__).parent / "consumers"
BUILD = HERE / ".build"


@pytest.fixture(scope="session")
def java_classpath() -> str:
    """The consumers' classpath: their compiled classes and the resolved jars."""
    for tool in ("java", "javac", "mvn"):
        if not shutil.which(tool):
            pytest.fail(
                f"the consumer tests need {tool} (Java 17+ and Maven), which is not installed"
            )
    sources = sorted(HERE.glob("*.java")) + [HERE / "pom.xml"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    out = BUILD / digest
    cp_file, classes = out / "classpath.txt", out / "classes"
    if not (cp_file.exists() and (classes / "GephiRead.class").exists()):
        for old in BUILD.glob("*"):  # builds of earlier sources
            if old.is_dir() and old.name != digest:
                shutil.rmtree(old, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        mvn = subprocess.run(
            [
                "mvn",
                "-B",
                "-q",
                "-f",
                str(HERE / "pom.xml"),
                "dependency:build-classpath",
                f"-Dmdep.outputFile={cp_file}",
            ],
            capture_output=True,
            text=True,
        )
        if mvn.returncode != 0:
            pytest.fail(
                "Maven could not resolve org.jgrapht:jgrapht-io:1.5.2 and "
                "org.gephi:gephi-toolkit:0.10.1:all:\n" + mvn.stdout[-3000:] + mvn.stderr[-2000:]
            )
        javac = subprocess.run(
            [
                "javac",
                "-d",
                str(classes),
                "-cp",
                cp_file.read_text().strip(),
                *map(str, sorted(HERE.glob("*.java"))),
            ],
            capture_output=True,
            text=True,
        )
        if javac.returncode != 0:
            pytest.fail("javac failed:\n" + javac.stderr[-3000:])
    return f"{classes}:{cp_file.read_text().strip()}"


def run_java(cp: str, program: str, *args: str) -> dict:
    res = subprocess.run(
        ["java", "-Xmx512m", "-Djava.awt.headless=true", "-cp", cp, program, *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, f"{program} {' '.join(args)} failed:\n{res.stderr[-4000:]}"
    return json.loads(res.stdout)


@pytest.fixture
def cases(store):
    load(store, [CHECHNYA])
    load(store, [CASES / "contract"])
    load(store, [CASES / "parallel"])
    return store


def _triples(sub: Subgraph) -> Counter:
    return Counter((e["start"], e["type"], e["end"]) for e in sub.edges)


pytestmark = pytest.mark.neo4j


def test_graphml_is_schema_valid_and_read_whole_by_jgrapht_and_gephi(
    cases, tmp_path, java_classpath
):
    sub = select(cases, Selection(), include_confidential=True)
    out = tmp_path / "g.graphml"
    export(sub, "graphml", out)
    want = _triples(sub)
    assert max(want.values()) >= 2  # parallel relationships (the same type, the same ends) are in

    jg = run_java(java_classpath, "JGraphTRead", str(out))  # throws on any schema violation
    assert sorted(jg["nodes"]) == sorted(sub.nodes)
    assert Counter(map(tuple, jg["edges"])) == want

    ge = run_java(java_classpath, "GephiRead", str(out), "no-merge")
    assert sorted(n[0] for n in ge["nodes"]) == sorted(sub.nodes)
    assert Counter((e["source"], e["type"], e["target"]) for e in ge["edges"]) == want
    assert not [i for i in ge["issues"] if not i.startswith("INFO")], ge["issues"]
    denials = sorted(
        e["attributes"]["statement"]
        for e in ge["edges"]
        if e["type"] == "DENIED" and e["source"] == "par-ministry"
    )
    assert denials == ["par-denial-1", "par-denial-2"]
    labels = dict(map(tuple, ge["nodes"]))
    assert labels["par-report"] == "Report with a form feed\u240cand a vertical tab\u240binside"
    assert labels["par-raid"] == "Raid\ton\r\nthe office"  # tab, CR and LF arrive as they were


def test_gexf_default_import_keeps_every_type_with_its_count(cases, tmp_path, java_classpath):
    sub = select(cases, Selection())  # redacted, as shared
    out = tmp_path / "g.gexf"
    export(sub, "gexf", out)
    ge = run_java(java_classpath, "GephiRead", str(out), "default")
    assert sorted(n[0] for n in ge["nodes"]) == sorted(sub.nodes)
    got = {(e["source"], e["type"], e["target"]): e["weight"] for e in ge["edges"]}
    assert len(got) == len(ge["edges"])
    assert got == {k: float(n) for k, n in _triples(sub).items()}
    assert not [i for i in ge["issues"] if not i.startswith("INFO")], ge["issues"]
    merged = next(
        e
        for e in ge["edges"]
        if (e["source"], e["type"], e["target"]) == ("par-ministry", "DENIED", "par-raid")
    )
    assert merged["attributes"]["relationships"] == "2"
    assert json.loads(merged["attributes"]["statement"]) == ["par-denial-1", "par-denial-2"]
    jg = run_java(java_classpath, "JGraphTRead", str(out))  # GEXF 1.2 schema: validation off
    assert sorted(jg["nodes"]) == sorted(sub.nodes)
    assert Counter(map(tuple, jg["edges"])) == Counter(dict.fromkeys(_triples(sub), 1))
    # the Chechen government's denials stay denials next to its involvement
    kinds = {
        e["type"]
        for e in ge["edges"]
        if (e["source"], e["target"]) == ("chechen-government", "abduction-campaign-2017")
    }
    assert {"DENIED", "INVOLVED_IN"} <= kinds


# --- no Java, no database ----------------------------------------------------------------


def _hostile() -> Subgraph:
    every_c0 = "".join(chr(c) for c in range(32)) + "\ufffe\uffff"
    sub = Subgraph()
    for i, nid in enumerate(("a", "b")):
        sub.nodes[nid] = {
            "kind": "person",
            "labels": ["Entity", "Person"],
            "props": {
                "id": nid,
                "name": f"{nid} {every_c0} <&>\"'",
                "n": i,
                "aliases": [every_c0, "x"],
            },
        }
    for q in (every_c0, "plain"):
        sub.edges.append(
            {"type": "ASSOCIATED_WITH", "start": "a", "end": "b", "props": {"role": q}}
        )
    return sub


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_text_xml_cannot_carry_is_written_by_the_documented_rule(tmp_path, fmt):
    out = tmp_path / f"g.{fmt}"
    export(_hostile(), fmt, out)
    root = ET.parse(out).getroot()  # any XML parser reads it
    texts = [el.text or "" for el in root.iter()] + [
        v for el in root.iter() for v in el.attrib.values()
    ]
    name = next(t for t in texts if t.startswith("a "))
    assert name == "a " + xml_safe("".join(chr(c) for c in range(32)) + "\ufffe\uffff") + " <&>\"'"
    assert (
        "\t\n" in name
        and "\r" in name
        and "\u240c" in name
        and "\u240b" in name
        and "\u2400" in name
    )


def test_xml_safe_rule():
    assert (
        xml_safe("a\x0cb\x0bc\x00d\x1fe\tf\ng\rh\ufffei")
        == "a\u240cb\u240bc\u2400d\u241fe\tf\ng\rh\ufffdi"
    )
