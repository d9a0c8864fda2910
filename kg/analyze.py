"""Network analysis on a selection, with igraph's C core for speed and networkx for paths.

The graph analysed is the undirected, simple projection of the selection: every
relationship, whatever its type or direction, links its two entities once. The measures are
networkx's definitions, computed by igraph where networkx is slow, and equal to networkx's
results (tests compare them):

- degree centrality: degree / (n - 1);
- PageRank (damping 0.85): igraph's PRPACK solves it exactly; networkx iterates to 1e-6;
- betweenness, normalized: exact up to ``EXACT_BETWEENNESS_LIMIT`` nodes; above, estimated from
  ``BETWEENNESS_SAMPLES`` source nodes drawn as networkx draws them (``k=``, seed 42), with
  networkx's rescaling - the same numbers ``nx.betweenness_centrality(G, k, seed=42)`` gives;
- communities: Louvain with seed 42 - networkx's up to ``EXACT_BETWEENNESS_LIMIT`` nodes,
  igraph's multilevel (the same method) above, where networkx takes minutes;
- paths: all shortest paths (networkx).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import igraph as ig
import networkx as nx

from .errors import UsageError
from .selection import Subgraph

EXACT_BETWEENNESS_LIMIT = 5_000
BETWEENNESS_SAMPLES = 500
SEED = 42
MEASURES = ("degree", "pagerank", "betweenness")


class Projection:
    """The undirected simple graph of a selection: sorted node ids and index pairs."""

    def __init__(self, nodes: Iterable[str], links: Iterable[tuple[str, str]]):
        self.nodes = sorted(nodes)
        self.index = {n: i for i, n in enumerate(self.nodes)}
        pairs = set()
        for start, end in links:
            a, b = self.index[start], self.index[end]
            if a != b:
                pairs.add((a, b) if a < b else (b, a))
        self.pairs = sorted(pairs)
        self.graph = ig.Graph(n=len(self.nodes), edges=self.pairs, directed=False)

    @classmethod
    def of(cls, sub: Subgraph) -> Projection:
        return cls(sub.nodes, ((e["start"], e["end"]) for e in sub.edges))

    def networkx(self) -> nx.Graph:
        G = nx.Graph()
        G.add_nodes_from(self.nodes)
        G.add_edges_from((self.nodes[a], self.nodes[b]) for a, b in self.pairs)
        return G

    def values(self, seq: list[float]) -> dict[str, float]:
        return dict(zip(self.nodes, seq))


def drop_sources(sub: Subgraph) -> None:
    """Leave sources out of an analysis (in place): they cite entities, they are not actors."""
    gone = {n for n, v in sub.nodes.items() if v["kind"] == "source"}
    if gone:
        sub.nodes = {n: v for n, v in sub.nodes.items() if n not in gone}
        sub.edges = [e for e in sub.edges if e["start"] not in gone and e["end"] not in gone]


def to_graph(sub: Subgraph) -> nx.Graph:
    return Projection.of(sub).networkx()


def betweenness(p: Projection) -> dict[str, float]:
    n = len(p.nodes)
    if n <= 2:
        return dict.fromkeys(p.nodes, 0.0)
    if n <= EXACT_BETWEENNESS_LIMIT:
        raw = p.graph.betweenness(directed=False)
        return p.values([v * 2 / ((n - 1) * (n - 2)) for v in raw])
    k = BETWEENNESS_SAMPLES
    sample = random.Random(SEED).sample(p.nodes, k)  # networkx's draw for seed=42
    raw = p.graph.betweenness(directed=False, sources=[p.index[s] for s in sample])
    picked = set(sample)
    return {
        v: 2 * raw[i] / ((k - 1 if v in picked else k) * (n - 2)) for i, v in enumerate(p.nodes)
    }


def measure(p: Projection, name: str) -> dict[str, float]:
    n = len(p.nodes)
    if name == "degree":
        if n <= 1:
            return dict.fromkeys(p.nodes, 1.0)
        return p.values([d / (n - 1) for d in p.graph.degree()])
    if name == "pagerank":
        if not p.pairs:
            return dict.fromkeys(p.nodes, 1 / max(n, 1))
        return p.values(p.graph.pagerank(damping=0.85, directed=False))
    if name == "betweenness":
        return betweenness(p)
    raise UsageError(f"unknown measure {name!r}; expected one of {', '.join(MEASURES)}")


def _label(sub: Subgraph, nid: str) -> str:
    p = sub.nodes[nid]["props"]
    return str(p.get("name") or p.get("title") or p.get("text") or nid)


def centrality(sub: Subgraph, top: int | None = None) -> list[dict[str, Any]]:
    p = Projection.of(sub)
    values = {m: measure(p, m) for m in MEASURES}
    degree = p.values(p.graph.degree())
    rows = [
        {
            "id": n,
            "kind": sub.nodes[n]["kind"],
            "name": _label(sub, n),
            "degree": int(degree[n]),
            "degree_centrality": values["degree"][n],
            "pagerank": values["pagerank"][n],
            "betweenness": values["betweenness"][n],
        }
        for n in p.nodes
    ]
    # Rounded for ordering only: equal scores may differ in the last bits.
    rows.sort(key=lambda r: (-round(r["pagerank"], 12), -round(r["betweenness"], 12), r["id"]))
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    return rows[:top] if top else rows


def communities(sub: Subgraph, p: Projection | None = None) -> list[list[str]]:
    p = p or Projection.of(sub)
    if not p.pairs:
        return [[n] for n in p.nodes]
    if len(p.nodes) <= EXACT_BETWEENNESS_LIMIT:
        parts = nx.community.louvain_communities(p.networkx(), seed=SEED)
    else:
        ig.set_random_number_generator(random.Random(SEED))
        try:
            found = p.graph.community_multilevel()
        finally:
            ig.set_random_number_generator(random)
        parts = [[p.nodes[i] for i in c] for c in found]
    return sorted((sorted(c) for c in parts), key=lambda c: (-len(c), c[0]))


def community_rows(sub: Subgraph) -> list[dict[str, Any]]:
    return [
        {"community": i, "size": len(c), "members": [_label(sub, n) for n in c], "ids": c}
        for i, c in enumerate(communities(sub), 1)
    ]


def brokers(sub: Subgraph, top: int | None = None) -> list[dict[str, Any]]:
    """Entities whose neighbours lie in two or more communities, by betweenness."""
    p = Projection.of(sub)
    comm = {n: i for i, c in enumerate(communities(sub, p), 1) for n in c}
    btw = betweenness(p)
    rows = []
    for i, n in enumerate(p.nodes):
        bridged = sorted({comm[p.nodes[m]] for m in p.graph.neighbors(i)} | {comm[n]})
        if len(bridged) >= 2:
            rows.append(
                {
                    "id": n,
                    "kind": sub.nodes[n]["kind"],
                    "name": _label(sub, n),
                    "community": comm[n],
                    "bridges": bridged,
                    "betweenness": btw[n],
                }
            )
    rows.sort(key=lambda r: (-r["betweenness"], r["id"]))
    return rows[:top] if top else rows


def paths(sub: Subgraph, a: str, b: str) -> list[dict[str, Any]]:
    G = to_graph(sub)
    for x in (a, b):
        if x not in G:
            raise UsageError(f"{x!r} is not in the selection")
    try:
        found = sorted(nx.all_shortest_paths(G, a, b))
    except nx.NetworkXNoPath:
        return []
    return [
        {"path": i, "hops": len(p) - 1, "ids": p, "names": [_label(sub, n) for n in p]}
        for i, p in enumerate(found, 1)
    ]
