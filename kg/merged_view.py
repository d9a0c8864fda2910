"""The merged view of a selection: entities merged by `kg resolve apply` shown as one node
listing all their ids (exports and analysis; ``--separate`` keeps them apart)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


def merge_subgraph(sub: Any, canonical: dict[str, str]) -> Any:
    """One node per merged entity among a selection's nodes (kg.selection.Subgraph): the
    canonical id when selected (else the smallest selected member) carries every id of the
    entity (`ids`), the other members' names and aliases among its `aliases`, all their
    cases, and is confidential when any member is. Edges move to it; SAME_AS edges and
    edges between members of one entity go."""
    from .selection import Subgraph

    if not canonical or not any(n in canonical for n in sub.nodes):
        return sub
    members: dict[str, list[str]] = defaultdict(list)
    for nid in sub.nodes:
        if nid in canonical:
            members[canonical[nid]].append(nid)
    everyone: dict[str, list[str]] = defaultdict(list)
    for m, c in canonical.items():
        everyone[c].append(m)
    rep: dict[str, str] = {}
    by_rep: dict[str, list[str]] = {}
    out = Subgraph(redacted=sub.redacted)
    for c, present in members.items():
        r = c if c in present else min(present)
        by_rep[r] = sorted(present)
        for m in present:
            rep[m] = r
    for nid, node in sub.nodes.items():
        r = rep.get(nid, nid)
        if r != nid:
            continue
        if nid not in canonical:
            out.nodes[nid] = node
            continue
        group = by_rep[r]
        props = dict(node["props"])
        aliases = list(props.get("aliases") or [])
        cases = set(props.get("cases") or [])
        for m in group:
            if m == r:
                continue
            other = sub.nodes[m]["props"]
            for text in [other.get("name") or other.get("title"), *(other.get("aliases") or [])]:
                if text and text != props.get("name") and text not in aliases:
                    aliases.append(text)
            cases |= set(other.get("cases") or [])
            if other.get("confidential"):
                props["confidential"] = True
            for k, v in other.items():
                props.setdefault(k, v)
        props["aliases"] = aliases
        props["cases"] = sorted(cases)
        props["ids"] = sorted(everyone[canonical[nid]])
        out.nodes[nid] = {**node, "props": props}
    seen: set[tuple] = set()
    for e in sub.edges:
        if e["type"] == "SAME_AS":
            continue
        s, t = rep.get(e["start"], e["start"]), rep.get(e["end"], e["end"])
        if s == t and e["start"] != e["end"]:
            continue
        key = (e["type"], s, t, repr(sorted(e["props"].items())))
        if key in seen:
            continue
        seen.add(key)
        out.edges.append({**e, "start": s, "end": t})
    for nid, cites in sub.citations.items():
        r = rep.get(nid, nid)
        have = out.citations.setdefault(r, [])
        have.extend(c for c in cites if c not in have)
    return out
