"""Exports: every format carries the selection; csv and cypher rebuild it; redaction holds."""

import json
import re
import socket

import networkx as nx
import pytest
from conftest import CASES, CHECHNYA

from kg import analyze as A
from kg.cli import cli
from kg.config import Settings
from kg.export import export, import_args, script_statements
from kg.loader import load
from kg.runtime import LocalNeo4j
from kg.selection import Selection, select
from kg.store import Store, connect

pytestmark = pytest.mark.neo4j

SECRETS = [
    "Confidential Witness Name",
    "A witness at risk",
    "Men detained in Chechnya on suspicion of being gay",
    "Up to 100 men abducted and held",
    "Sokiryanskaya's sources within Chechnya",
    "The many people within Chechnya",
    "person-witness",
    "detained-men-chechnya-2017",
    "sokiryanskaya-sources-in-chechnya",
]


@pytest.fixture
def both(store):
    load(store, [CHECHNYA])
    load(store, [CASES / "contract"])
    return store


def _edges_of(sub):
    return sorted((e["start"], e["type"], e["end"]) for e in sub.edges)


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "json"])
def test_network_formats_carry_the_selection(both, tmp_path, fmt):
    sub = select(both, Selection(), include_confidential=True)
    out = tmp_path / f"g.{fmt}"
    export(sub, fmt, out)
    if fmt == "graphml":
        G = nx.read_graphml(out, force_multigraph=True)
    elif fmt == "gexf":
        G = nx.read_gexf(out)
    else:
        G = nx.node_link_graph(
            json.loads(out.read_text()), edges="links", multigraph=True, directed=True
        )
    assert set(G.nodes) == set(sub.nodes)
    key = "label" if fmt == "gexf" else "type"  # GEXF's own `type` is directed/undirected
    got = sorted((a, d[key], b) for a, b, d in G.edges(data=True))
    assert got == _edges_of(sub)
    assert G.nodes["event-main"]["entity"] == "event"
    assert G.nodes["event-main"]["kind"] == "detention"
    if fmt == "graphml":
        assert isinstance(G.nodes["event-main"]["victims_max"], int)
        assert isinstance(G.nodes["city-a"]["lat"], float)
        assert G.nodes["person-author"]["extra_verified"] is True


def test_cypher_script_rebuilds_the_graph(both, tmp_path):
    before = both.digest()
    sub = select(both, Selection(), raw=True)  # sealed values travel sealed
    out = tmp_path / "g.cypher"
    export(sub, "cypher", out)
    both.write("MATCH (n) DETACH DELETE n")
    for statement in script_statements(out.read_text()):
        assert "$" not in statement.split("'")[0]  # parameter-free
        both.write(statement)
    assert both.digest() == before


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_csv_imports_into_an_empty_neo4j(both, tmp_path):
    from test_trust import _hostile_case

    load(both, [_hostile_case(tmp_path)])  # hostile text must survive the CSV route too
    before = both.digest()
    sub = select(both, Selection(), raw=True)
    folder = tmp_path / "csv"
    export(sub, "csv", folder)
    header = (folder / "nodes.csv").read_text().splitlines()[0]
    assert header.startswith("id:ID,:LABEL,") and "aliases:string[]" in header
    assert "start:date" in header and "victims_max:long" in header and "lat:double" in header
    assert (folder / "relationships.csv").read_text().startswith(":START_ID,:END_ID,:TYPE,")
    other = LocalNeo4j(tmp_path / "imported", _free_port())
    other.write_conf(other.requested_port)
    res = other.admin(*import_args(folder))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    other.start()
    try:
        drv = connect(
            Settings(
                uri=other.uri,
                user="neo4j",
                password=other.read_password(),
                database="neo4j",
                managed=True,
                home=other.home,
                password_file=other.password_file,
            )
        )
        with drv:
            imported = Store(drv, "neo4j")
            for statement in script_statements((folder / "post-import.cypher").read_text()):
                imported.write(statement)
            assert imported.digest() == before
    finally:
        other.stop()


@pytest.mark.parametrize("fmt", ["html", "graphml", "gexf", "json", "csv", "cypher"])
def test_confidential_text_is_in_no_export(both, tmp_path, fmt, runner):
    out = tmp_path / ("x" if fmt == "csv" else f"x.{fmt}")
    res = runner.invoke(cli, ["export", fmt, "--out", str(out)])
    assert res.exit_code == 0, res.output
    files = sorted(out.iterdir()) if fmt == "csv" else [out]
    text = "".join(f.read_text() for f in files)
    for secret in SECRETS:
        assert secret not in text, (fmt, secret)
    assert re.search(r"Confidential person [0-9A-Z]{6}", text)
    res = runner.invoke(cli, ["export", fmt, "--out", str(out), "--include-confidential"])
    assert "warning: --include-confidential" in res.output
    text = "".join(f.read_text() for f in (sorted(out.iterdir()) if fmt == "csv" else [out]))
    assert "Confidential Witness Name" in text


def test_html_is_deterministic_and_escapes_record_text(both, tmp_path):
    sub = select(both, Selection(), with_citations=True)
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    export(sub, "html", a, title="<script>alert(1)</script>")
    export(
        select(both, Selection(), with_citations=True), "html", b, title="<script>alert(1)</script>"
    )
    assert a.read_bytes() == b.read_bytes()
    text = a.read_text()
    assert "<script>alert(1)</script>" not in text
    assert "<img src=x" not in text  # record text only inside JSON, with < escaped
    assert "NGO \\u003cimg src=x onerror=alert(1)\\u003e" in text


def test_selection_model(both):
    case = select(both, Selection(case="contract-case"))
    assert "event-main" in case.nodes and "abduction-campaign-2017" not in case.nodes
    around = select(both, Selection(around="alvi-karimov", hops=1), include_confidential=True)
    assert set(around.nodes) == {
        "alvi-karimov",
        "karimov-denial",
        "seed-article-2017",
        "detained-men-chechnya-2017",
        "abduction-campaign-2017",
        "ramzan-kadyrov",
        "chechen-government",
    }
    kinds = select(both, Selection(kinds=["person", "organization"]))
    assert {n["kind"] for n in kinds.nodes.values()} == {"person", "organization"}
    assert all(e["start"] in kinds.nodes and e["end"] in kinds.nodes for e in kinds.edges)
    import datetime as dt

    dated = select(
        both, Selection(kinds=["event"], since=dt.date(2020, 3, 1), until=dt.date(2020, 3, 31))
    )
    assert set(dated.nodes) == {"event-followup"}
    q = select(
        both,
        Selection(
            query="shortest-paths", params={"from": "alvi-karimov", "to": "amnesty-international"}
        ),
    )
    assert "karimov-denial" in q.nodes and len(q.edges) >= 3


def test_analyze_matches_networkx(both, runner):
    sub = select(both, Selection(), include_confidential=True)
    G = nx.Graph()
    G.add_nodes_from(sub.nodes)
    G.add_edges_from((e["start"], e["end"]) for e in sub.edges if e["start"] != e["end"])
    rows = {r["id"]: r for r in A.centrality(sub)}
    pr, bc, dc = nx.pagerank(G, tol=1e-14), nx.betweenness_centrality(G), nx.degree_centrality(G)
    for n in G:
        assert rows[n]["pagerank"] == pytest.approx(pr[n], abs=1e-9)
        assert rows[n]["betweenness"] == pytest.approx(bc[n], abs=1e-12)
        assert rows[n]["degree_centrality"] == pytest.approx(dc[n], abs=1e-12)
    comms = A.communities(sub)
    assert sorted(n for c in comms for n in c) == sorted(G)
    paths = A.paths(sub, "alvi-karimov", "amnesty-international")
    assert [p["ids"] for p in paths] == sorted(
        nx.all_shortest_paths(G, "alvi-karimov", "amnesty-international")
    )
    res = runner.invoke(cli, ["analyze", "--format", "json", "--top", "3", "--write-back"])
    top = json.loads(res.stdout)
    assert [r["rank"] for r in top] == [1, 2, 3]
    got = both.read(
        "MATCH (n:Entity {id: $id}) RETURN n.analysis_pagerank AS p", {"id": top[0]["id"]}
    ).records[0]["p"]
    assert got == pytest.approx(top[0]["pagerank"])
    load(both, [CHECHNYA])  # a reload keeps analysis results
    assert both.read(
        "MATCH (n:Entity {id: $id}) RETURN n.analysis_pagerank AS p", {"id": top[0]["id"]}
    ).records[0]["p"] == pytest.approx(top[0]["pagerank"])
    res = runner.invoke(cli, ["analyze", "communities", "--format", "csv"])
    assert res.output.startswith("community,size,members,ids\n1,")
    assert "Confidential Witness Name" not in res.output
    res = runner.invoke(
        cli, ["analyze", "paths", "--from", "alvi-karimov", "--to", "amnesty-international"]
    )
    assert res.exit_code == 0 and "alvi-karimov" in res.output


@pytest.mark.parametrize(
    "nodes, edges, how", [(400, 700, "layout"), (2_000, 3_000, "layout"), (2_000, 3_000, "radial")]
)
def test_html_layouts_place_every_node_the_same_way_each_time(nodes, edges, how):
    """Above PHYSICS_LIMIT nodes the page gets positions: Fruchterman-Reingold (seeded) up to
    SPRING_LIMIT, the radial layout above; every node placed, finite, apart, repeatable."""
    import math

    from kg.export.html import PHYSICS_LIMIT, SPRING_LIMIT, Links, layout, radial_layout

    rnd = nx.gnm_random_graph(nodes, edges, seed=3)
    p = A.Projection((f"n{v}" for v in rnd.nodes), ((f"n{a}", f"n{b}") for a, b in rnd.edges))
    assert nodes > PHYSICS_LIMIT
    fn = layout if how == "layout" else radial_layout
    pos = fn(p)
    assert pos == fn(Links(p.nodes, ((p.nodes[a], p.nodes[b]) for a, b in p.pairs)))
    assert set(pos) == set(p.nodes)
    assert all(math.isfinite(c) for xy in pos.values() for c in xy)
    assert len({(round(x), round(y)) for x, y in pos.values()}) > 0.95 * nodes
    if (
        how == "layout" and nodes <= SPRING_LIMIT
    ):  # about 60 px times the square root of the node count across
        span = max(abs(c) for xy in pos.values() for c in xy)
        assert span == pytest.approx(60 * math.sqrt(nodes))


def test_html_page_data_dates_fields_sizes_and_focus():
    """What the page is given: date spans at their precision, panel fields without noise,
    sizes by actors' importance, a bounded opening view."""
    import datetime as dt

    from kg.export.html import date_span, focus_set, importance, panel_fields

    year = {
        "date": dt.date(2017, 1, 1),
        "date_precision": "year",
        "start": dt.date(2017, 1, 1),
        "end": dt.date(2017, 12, 31),
        "confidential": False,
        "title": "t",
        "id": "x",
        "description": "d",
        "cases": ["c"],
        "kind": "abduction",
    }
    assert date_span(year) == ["2017-01-01", "2017-12-31"]
    shown, folded = panel_fields(year)
    assert shown == {"kind": "abduction", "date": "2017", "description": "d"} and folded == {
        "cases": ["c"]
    }
    assert date_span({"published": dt.date(2020, 2, 1), "published_precision": "month"}) == [
        "2020-02-01",
        "2020-02-29",
    ]
    assert date_span(
        {"start": dt.date(2020, 1, 1), "start_precision": "month", "end": dt.date(2020, 2, 15)}
    ) == ["2020-01-01", "2020-02-15"]
    assert date_span({"name": "undated"}) is None
    assert panel_fields({"confidential": True, "name": "n"})[0] == {"confidential": True}
    edges = [
        {"type": "SAID", "start": "p", "end": "s1", "props": {}},
        {"type": "ABOUT", "start": "s1", "end": "e", "props": {"stance": "denies"}},
        {"type": "REPORTED_BY", "start": "s1", "end": "src", "props": {}},
        {"type": "REPORTED_BY", "start": "e", "end": "src", "props": {}},
        {"type": "REPORTED_BY", "start": "p", "end": "src", "props": {}},
    ]
    size = importance(["p", "s1", "e", "src"], edges)
    assert size == {"p": 1.0, "s1": 2.0, "e": 1.0, "src": 0.0}  # the much-cited source is smallest
    adj = {
        "a": ["b", "c", "d"],
        "b": ["a", "e"],
        "c": ["a"],
        "d": ["a"],
        "e": ["b", "f"],
        "f": ["e"],
    }
    assert focus_set(["a"], adj, {}, limit=4) == ["a", "b", "c", "d"]
    assert focus_set(["a"], adj, {}, limit=100) == ["a", "b", "c", "d", "e", "f"]


@pytest.mark.neo4j
def test_query_run_export_takes_the_export_path_and_its_formats(store, runner, tmp_path):
    """`kg query run --export` and `kg export` share one path and one list of formats."""
    from kg.formats import EXPORT_FORMATS

    load(store, [CHECHNYA])
    out = tmp_path / "network.ftm.json"
    res = runner.invoke(
        cli,
        [
            "query",
            "run",
            "network",
            "-p",
            "id=ramzan-kadyrov",
            "--export",
            "ftm",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert res.output.startswith("exported ")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines and all(json.loads(ln)["schema"] for ln in lines)
    from kg.commands.graph import export as export_command
    from kg.commands.query import query_run

    choices = {
        tuple(p.type.choices)
        for c, name in ((export_command, "fmt"), (query_run, "export_fmt"))
        for p in c.params
        if p.name == name
    }
    assert choices == {EXPORT_FORMATS}
