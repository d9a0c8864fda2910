"""Sealing against what a tester without our code tried (session 9): each test is one way a
confidential value was once readable without the key and the flag, reproduced from the
tester's own cases (tests/test_seal.py has the main battery)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg import seal as S
from kg.cli import cli
from kg.loader import load


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def _stored_text(store) -> str:
    return S.norm("\n".join(store.canonical_lines(cases=True)))


WITNESS = "people:\n  - {id: zq-witness, name: Zorbax Quelltrop, confidential: true}\n"


@pytest.mark.neo4j
def test_another_case_is_shown_no_sealed_value_in_conflict_notices(store, tmp_path):
    """Team A's text names its witness and its hidden place; team B, sharing a public
    record, is told of the conflict with [sealed] for those values."""
    a = _write(
        tmp_path / "a",
        "a.yaml",
        "case: {id: a-team, title: team A}\n" + WITNESS + "  - {id: shared, name: Shared, "
        "description: Neighbour of Zorbax Quelltrop, located_in: hideout-x}\n"
        "locations:\n  - {id: hideout-x, name: Xavarr Hideout, confidential: true}\n",
    )
    b = _write(
        tmp_path / "b",
        "b.yaml",
        "case: {id: b-team, title: team B}\npeople:\n  - {id: shared, name: Shared, "
        "description: Just a neighbour, located_in: open-loc}\n"
        "locations:\n  - {id: open-loc, name: Open Loc}\n",
    )
    load(store, [a])
    notices = [n for n in load(store, [b]).coll.notices if n.startswith("conflict")]
    assert len(notices) == 2 and all("[sealed]" in n for n in notices), notices
    text = S.norm("\n".join(notices))
    assert "zorbax" not in text and "quelltrop" not in text and "hideout" not in text


@pytest.mark.neo4j
def test_a_public_record_of_a_hidden_id_keeps_no_word_of_its_name_visible(store, tmp_path):
    """Case B defines the witness without `confidential` (another team's record of the same
    person): B's other text still has the name hidden, whether A was loaded before or with
    it."""
    a = _write(tmp_path / "a", "a.yaml", "case: {id: a-conf, title: A}\n" + WITNESS)
    b = _write(
        tmp_path / "b",
        "b.yaml",
        "case: {id: b-public, title: B}\npeople:\n  - {id: zq-witness, name: Zorbax Quelltrop}\n"
        "  - {id: neighbour, name: A neighbour, description: Saw Zorbax and Quelltrop}\n",
    )
    for inputs in ([[a], [b]], [[b, a]], [[b], [a], [b]]):
        store.write("MATCH (n) DETACH DELETE n")
        for paths in inputs:
            load(store, paths)
        text = _stored_text(store)
        assert "zorbax" not in text and "quelltrop" not in text, inputs


@pytest.mark.neo4j
def test_a_case_title_and_description_are_scrubbed(store, tmp_path, runner):
    case = _write(
        tmp_path / "c",
        "c.yaml",
        "case: {id: c-case, title: Testimony of Zorbax Quelltrop, "
        "description: Witness zq-witness speaks}\n" + WITNESS,
    )
    load(store, [case])
    res = runner.invoke(cli, ["query", "run", "cases", "--format", "json"])
    assert res.exit_code == 0, res.output
    shown = S.norm(res.output)
    assert "zorbax" not in shown and "quelltrop" not in shown and "zq-witness" not in shown
    assert "confidential person" in shown
    assert "quelltrop" not in _stored_text(store)
    sealed = store.read("MATCH (c:Case) RETURN c.kg_sealed AS s").records[0]["s"]
    assert S.load_key().unseal(sealed)["props"]["title"] == "Testimony of Zorbax Quelltrop"
    # reloaded without the mention: no seal left behind
    (case / "c.yaml").write_text(
        "case: {id: c-case, title: A testimony}\n" + WITNESS, encoding="utf-8"
    )
    load(store, [case])
    assert store.read("MATCH (c:Case) RETURN c.kg_sealed AS s").records[0]["s"] is None


def test_ftm_keyword_confidential_in_any_letter_case(tmp_path):
    from kg.ftm import ftm_raws

    path = tmp_path / "e.jsonl"
    path.write_text(
        json.dumps(
            {
                "id": "p1",
                "schema": "Person",
                "properties": {"name": ["Zorbax Quelltrop"], "keywords": ["Confidential"]},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    raws, _ = ftm_raws([path])
    (person,) = [r for r in raws if r.kind == "person"]
    assert person.data.get("confidential") is True


@pytest.mark.neo4j
def test_judgements_about_hidden_records_are_stored_sealed(store, tmp_path, runner):
    """A resolution judgement naming confidential records holds their placeholders and its
    `why` sealed; applying it again writes nothing, and the merge is made."""
    case = _write(
        tmp_path / "c",
        "c.yaml",
        "case: {id: r8, title: judgements}\n" + WITNESS + "  - {id: zq-alt, name: Z. Q., "
        "confidential: true}\n  - {id: public-guy, name: Ivan Public}\n",
    )
    load(store, [case])
    judged = tmp_path / "j.yaml"
    judged.write_text(
        "case: {id: r8-judgements, title: who is who}\njudgements:\n"
        "  - same_as: [zq-witness, zq-alt]\n    who: anna\n    when: 2026-11-27\n"
        '    why: "Zorbax Quelltrop lives at Kirova 5; same man"\n'
        "  - not_same: [zq-witness, public-guy]\n    who: anna\n    when: 2026-11-27\n"
        '    why: "Quelltrop is his cousin"\n',
        encoding="utf-8",
    )
    res = runner.invoke(cli, ["resolve", "apply", str(judged)])
    assert res.exit_code == 0, res.output
    rows = store.read("MATCH (j:Judgement) RETURN properties(j) AS p").records
    text = S.norm(json.dumps([r["p"] for r in rows], default=str))
    for secret in ("zq-witness", "zq-alt", "quelltrop", "kirova", "cousin"):
        assert secret not in text, secret
    assert store.read("MATCH ()-[r:SAME_AS]->() RETURN count(r) AS n").records[0]["n"] == 1
    again = runner.invoke(cli, ["resolve", "apply", str(judged)])
    assert again.exit_code == 0 and "created 0, updated 0, deleted 0" in again.output


@pytest.mark.neo4j
def test_an_id_held_by_a_confidential_record_of_another_kind_is_refused(store, tmp_path):
    """Not dropped silently: the confidential person is stored under its placeholder, and a
    public organization given the person's real id once loaded as nothing (0 created)."""
    from kg.errors import InputError

    load(store, [_write(tmp_path / "a", "a.yaml", "case: {id: a, title: A}\n" + WITNESS)])
    org = _write(
        tmp_path / "b",
        "b.yaml",
        "case: {id: b, title: B}\norganizations:\n  - {id: zq-witness, name: An org}\n",
    )
    with pytest.raises(InputError) as e:
        load(store, [org])
    assert "id is already a person in the database" in str(e.value)
