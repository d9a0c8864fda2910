"""FollowTheMoney out and back: kg's export passed through FtM's own `ftm statements` and
`ftm aggregate-statements` (which keep values but not their order) and loaded again gives
the same speakers, targets and stances, and confidential records stay confidential. The
import also takes the shapes OpenSanctions and Aleph publish."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CASES, CHECHNYA

from kg.cli import cli
from kg.ftm import derived_id
from kg.loader import load

pytestmark = pytest.mark.neo4j

FTM = str(Path(sys.executable).parent / "ftm")

STATEMENTS = (
    "MATCH (sp:Entity)-[:SAID]->(st:Statement) OPTIONAL MATCH (st)-[a:ABOUT]->(t:Entity) "
    "RETURN st.id AS id, sp.id AS speaker, collect([t.id, a.stance]) AS about"
)


def _statements(store) -> dict:
    return {
        r["id"]: (r["speaker"], sorted(tuple(x) for x in r["about"] if x[0] is not None))
        for r in store.read(STATEMENTS).records
    }


def _confidential(store) -> set:
    return {
        r["id"]
        for r in store.read(
            "MATCH (n:Entity) WHERE n.confidential = true RETURN n.id AS id"
        ).records
    }


def test_ftm_export_survives_ftm_statements_and_aggregate(store, tmp_path, runner):
    for case in (CHECHNYA, CASES / "contract", CASES / "parallel"):
        load(store, [case])
    said, secret = _statements(store), _confidential(store)
    assert len(said) > 10 and secret
    out = tmp_path / "kg.ftm.json"
    res = runner.invoke(cli, ["export", "ftm", "--out", str(out), "--include-confidential"])
    assert res.exit_code == 0, res.output
    stmts, agg = tmp_path / "statements.json", tmp_path / "aggregated.json"
    subprocess.run([FTM, "statements", str(out), "-o", str(stmts)], check=True)
    subprocess.run([FTM, "aggregate-statements", "-i", str(stmts), "-o", str(agg)], check=True)
    assert agg.read_text() != out.read_text()  # FtM rewrote it (order of values included)
    store.write("MATCH (n) DETACH DELETE n")
    res = runner.invoke(cli, ["load", "--format", "ftm", str(agg)])
    assert res.exit_code == 0, res.output
    assert _statements(store) == said
    assert _confidential(store) == secret


def test_ftm_derived_ids_do_not_depend_on_other_data(store, tmp_path, runner):
    def derived(path: Path) -> set:
        return {
            json.loads(line)["id"]
            for line in path.read_text().splitlines()
            if json.loads(line)["id"].startswith("kg-")
        }

    load(store, [CHECHNYA])
    runner.invoke(
        cli, ["export", "ftm", "--out", str(tmp_path / "a.json"), "--case", "chechnya-2017"]
    )
    load(store, [CASES / "parallel"])
    runner.invoke(cli, ["export", "ftm", "--out", str(tmp_path / "b.json")])
    a, b = derived(tmp_path / "a.json"), derived(tmp_path / "b.json")
    assert a and a < b


def _entity(schema: str, eid: str, **props) -> str:
    return json.dumps(
        {
            "id": eid,
            "schema": schema,
            "properties": {k: v if isinstance(v, list) else [v] for k, v in props.items()},
        }
    )


def test_ftm_import_takes_opensanctions_and_aleph_shapes(store, tmp_path, runner):
    lines = [
        _entity("Person", "os-anna", name="Anna Example"),
        _entity("Person", "os-boris", name="Boris Example"),
        _entity("Person", "os-vera", name="Vera Example", keywords="confidential"),
        _entity("Company", "os-acme", name="Acme LLC"),
        _entity("Organization", "os-ngo", name="Some NGO"),
        _entity(
            "Associate", "os-assoc-1", person="os-anna", associate="os-boris"
        ),  # no relationship
        _entity(
            "Family", "os-family-1", person="os-anna", relative="os-vera", relationship="sister"
        ),
        _entity(
            "Directorship", "os-dir-1", director="os-boris", organization="os-acme", role="CEO"
        ),
        _entity("Directorship", "os-dir-2", director="os-ngo", organization="os-acme"),
        _entity("UnknownLink", "os-link-1", subject="os-acme", object="os-ngo"),
        _entity("Membership", "os-member-1", member="os-vera", organization="os-ngo"),
        _entity("Sanction", "os-sanction-1", entity="os-acme", program="Example program"),
        _entity("Note", "os-note-1", entity=["os-ngo", "os-acme"], description="Acme denies it."),
    ]
    path = tmp_path / "opensanctions.json"
    path.write_text("\n".join(lines) + "\n")
    res = runner.invoke(cli, ["load", "--format", "ftm", str(path)])
    assert res.exit_code == 0, res.output
    assert "Sanction" in res.output  # skipped, and said so
    rels = {
        (r["a"], r["t"], r["b"], r["role"])
        for r in store.read(
            "MATCH (a:Entity)-[r:ASSOCIATED_WITH|AFFILIATED_WITH]->(b:Entity) "
            "RETURN a.id AS a, type(r) AS t, b.id AS b, r.role AS role"
        ).records
    }
    from kg.seal import stored_id

    vera = stored_id(store, "os-vera")  # confidential (FtM keywords): sealed, a placeholder id
    assert vera != "os-vera"
    assert rels == {
        ("os-anna", "ASSOCIATED_WITH", "os-boris", "associate"),
        ("os-anna", "ASSOCIATED_WITH", vera, "sister"),
        ("os-boris", "AFFILIATED_WITH", "os-acme", "CEO"),
        ("os-ngo", "ASSOCIATED_WITH", "os-acme", "directorship"),
        ("os-acme", "ASSOCIATED_WITH", "os-ngo", None),
        (vera, "AFFILIATED_WITH", "os-ngo", None),
    }
    assert _confidential(store) == {vera}
    assert _statements(store) == {"os-note-1": ("os-ngo", [])}


def test_derived_ids_are_stable():
    assert derived_id("doc", "a", "b", None) == derived_id("doc", "a", "b", None)
    assert derived_id("doc", "a", "b", "q") != derived_id("doc", "a", "b", None)
