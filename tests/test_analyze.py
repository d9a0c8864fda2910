"""kg.analyze gives networkx's numbers (computed by igraph), exact and sampled."""

import networkx as nx
import pytest

from kg import analyze as A
from kg.selection import Subgraph


def subgraph(G: nx.Graph) -> Subgraph:
    sub = Subgraph()
    for n in G:
        sub.nodes[f"n{n:04d}"] = {
            "kind": "person",
            "labels": ["Person"],
            "props": {"name": f"N{n}"},
        }
    for a, b in G.edges():
        sub.edges.append(
            {"type": "ASSOCIATED_WITH", "start": f"n{a:04d}", "end": f"n{b:04d}", "props": {}}
        )
    return sub


def relabel(G: nx.Graph) -> nx.Graph:
    H = nx.Graph()
    H.add_nodes_from(sorted(f"n{n:04d}" for n in G))
    H.add_edges_from((f"n{a:04d}", f"n{b:04d}") for a, b in G.edges())
    return H


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exact_measures_equal_networkx(seed):
    G = nx.gnm_random_graph(120, 200, seed=seed)
    G.add_node(500)  # an isolated node
    H = relabel(G)
    rows = {r["id"]: r for r in A.centrality(subgraph(G))}
    bc, dc, pr = nx.betweenness_centrality(H), nx.degree_centrality(H), nx.pagerank(H, tol=1e-14)
    for n in H:
        assert rows[n]["betweenness"] == pytest.approx(bc[n], abs=1e-12)
        assert rows[n]["degree_centrality"] == pytest.approx(dc[n], abs=1e-12)
        assert rows[n]["pagerank"] == pytest.approx(pr[n], abs=1e-9)
        assert rows[n]["degree"] == H.degree(n)


def test_sampled_betweenness_equals_networkx_with_the_same_draw(monkeypatch):
    monkeypatch.setattr(A, "EXACT_BETWEENNESS_LIMIT", 50)
    monkeypatch.setattr(A, "BETWEENNESS_SAMPLES", 40)
    G = nx.gnm_random_graph(300, 700, seed=9)
    H = relabel(G)
    got = A.betweenness(A.Projection.of(subgraph(G)))
    want = nx.betweenness_centrality(H, k=40, seed=A.SEED)
    assert got.keys() == want.keys()
    for n in H:
        assert got[n] == pytest.approx(want[n], abs=1e-12)


def test_large_graph_communities_cover_every_node_and_are_stable(monkeypatch):
    monkeypatch.setattr(A, "EXACT_BETWEENNESS_LIMIT", 50)
    G = nx.connected_caveman_graph(6, 8)
    sub = subgraph(G)
    first = A.communities(sub)
    assert first == A.communities(sub)  # seeded
    assert sorted(n for c in first for n in c) == sorted(sub.nodes)
    assert len(first) == 6  # the caves
    brokers = A.brokers(sub)
    assert brokers and all(len(b["bridges"]) >= 2 for b in brokers)


def test_tiny_graphs():
    sub = Subgraph()
    assert A.centrality(sub) == []
    sub.nodes["a"] = {"kind": "person", "labels": ["Person"], "props": {"name": "A"}}
    (row,) = A.centrality(sub)
    assert row["betweenness"] == 0.0 and row["pagerank"] == 1.0 and row["degree_centrality"] == 1.0
