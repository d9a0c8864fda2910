"""The pure mapping from records to node and relationship rows."""

import datetime as dt

from conftest import CASES

from kg.mapping import map_collection
from kg.validation import collect


def rows():
    return map_collection(collect([CASES / "contract"]))


def test_nodes_have_contract_properties():
    nodes = {n.id: n for n in rows().nodes}
    ev = nodes["event-main"]
    assert ev.label == "Event"
    assert ev.props["start"] == dt.date(2020, 1, 1) and ev.props["end"] == dt.date(2020, 2, 15)
    assert ev.props["date_precision"] == "month"
    assert ev.props["victims_min"] == 2 and ev.props["victims_max"] == 5
    sub = nodes["event-sub"].props
    assert (sub["date"], sub["start"], sub["end"], sub["date_precision"]) == (
        dt.date(2020, 1, 10),
        dt.date(2020, 1, 10),
        dt.date(2020, 1, 10),
        "day",
    )
    st = nodes["stmt-denial"].props
    assert (st["date"], st["end"], st["date_precision"]) == (
        dt.date(2020, 1, 1),
        dt.date(2020, 12, 31),
        "year",
    )
    person = nodes["person-author"].props
    assert person["extra_born_year"] == 1980 and person["extra_verified"] is True
    assert person["confidential"] is False and nodes["person-witness"].props["confidential"]
    src = nodes["src-report"].props
    assert src["published"] == dt.date(2020, 2, 1) and src["published_precision"] == "month"
    assert nodes["stmt-claim"].cases == ("contract-case",)


def _props(edge):
    """An edge's properties from its record (without the cases that state it)."""
    return {k: v for k, v in edge.props.items() if k != "cases" and not k.startswith("kg_")}


def test_edges_and_their_owners():
    edges = {(e.type, e.start, e.end): e for e in rows().edges}
    assert all(e.props["cases"] == ["contract-case"] for e in edges.values())
    assert len(edges[("PART_OF", "event-sub", "event-main")].props["kg_records"]) == 1
    assert _props(edges[("SAID", "org-gov", "stmt-denial")]) == {"date": dt.date(2020, 1, 1)}
    assert _props(edges[("SAID", "person-author", "stmt-claim")]) == {
        "date": dt.date(2020, 2, 1),
        "via": "org-ngo",
    }
    assert _props(edges[("DENIED", "org-gov", "event-main")]) == {"statement": "stmt-denial"}
    assert edges[("DENIED", "org-gov", "event-main")].owner == "stmt-denial"
    assert ("DENIED", "org-gov", "person-author") not in edges  # disputes is not a denial
    assert _props(edges[("ABOUT", "stmt-denial", "person-author")]) == {"stance": "disputes"}
    assert _props(edges[("VIA", "stmt-claim", "org-ngo")]) == {}
    rb = _props(edges[("REPORTED_BY", "person-author", "src-report")])
    assert rb == {
        "quote": "'}) DETACH DELETE n //",
        "page": "p. 3",
        "accessed": dt.date(2020, 3, 2),
        "credibility": 2,
    }
    assert _props(edges[("AFFILIATED_WITH", "person-author", "org-ngo")]) == {
        "role": "researcher",
        "start": dt.date(2019, 1, 1),
        "end": dt.date(2020, 6, 30),
    }
    assert _props(edges[("INVOLVED_IN", "org-gov", "event-main")]) == {"role": "perpetrator"}
    assert edges[("PART_OF", "org-ngo", "org-umbrella")].owner == "org-ngo"
    rel = edges[("PART_OF", "event-sub", "event-main")]
    assert rel.owner is None and _props(rel) == {"sources": ["src-report"]}
    assert _props(edges[("RESPONDED_TO", "stmt-denial", "stmt-claim")]) == {
        "role": "rebuttal",
        "start": dt.date(2020, 2, 1),
        "description": "answers",
        "sources": [],
    }
    assert edges[("PUBLISHED_BY", "src-report", "org-ngo")]
    assert edges[("AUTHORED_BY", "src-report", "person-author")]
    assert edges[("LOCATED_IN", "city-a", "country-a")]
