"""Tabular loaders (mappings over CSV/TSV/XLSX) and FollowTheMoney in and out."""

import json
import re
import textwrap

import pytest
from conftest import CHECHNYA, ROOT

from kg.cli import cli
from kg.errors import InputError
from kg.loader import load
from kg.tabular import load_mapping, mapped_raws

ACLED = ROOT / "loaders" / "acled.yaml"
STATEMENTS = ROOT / "loaders" / "statements.yaml"
SAMPLES = ROOT / "data" / "samples"


def rows(store, cypher, **params):
    return [dict(r) for r in store.read(cypher, params).records]


def test_acled_rows_become_records():
    raws = mapped_raws(load_mapping(ACLED), [SAMPLES / "acled-sample.csv"])
    ev = next(r for r in raws if r.kind == "event" and r.data["id"] == "acled-rus1002")
    assert ev.data["date"] == "2017-04"  # time_precision 2: about a week -> the month
    assert ev.data["participants"] == [
        {"actor": "police-forces-of-russia-2000-chechen-republic", "role": "perpetrator"},
        {"actor": "civilians-russia", "role": "victim"},
        {"actor": "lgbtq-russia", "role": "victim"},
    ]  # assoc_actor_2, as actor2
    assert ev.data["reported_by"] == [
        {"source": "acled-source-novaya-gazeta"},
        {"source": "acled-source-the-guardian"},
    ]
    assert "victims" not in ev.data and ev.data["extra"]["fatalities"] == 3  # deaths, not victims
    assert (
        ev.data["kind"] == "attack"
        and ev.data["extra"]["acled_event_type"] == "Violence against civilians"
    )
    assert ev.line == 3  # the sheet's row
    abduction = next(r for r in raws if r.kind == "event" and r.data["id"] == "acled-rus1001")
    assert abduction.data["extra"]["fatalities"] == 0 and "victims" not in abduction.data
    grozny = next(r for r in raws if r.kind == "location" and r.data["id"] == "chechnya-grozny")
    assert grozny.data == {
        "id": "chechnya-grozny",
        "name": "Grozny",
        "kind": "town",
        "located_in": "chechnya",
        "lat": 43.3178,
        "lon": 45.6986,
    }
    chechnya = next(r for r in raws if r.kind == "location" and r.data["id"] == "chechnya")
    assert chechnya.data["located_in"] == "russia"
    protest = next(r for r in raws if r.kind == "event" and r.data["id"] == "acled-rus1003")
    assert protest.data["participants"] == [  # the police break it up: they are not its target
        {"actor": "protesters-russia", "role": "participant"},
        {"actor": "lgbt-activists-russia", "role": "participant"},
        {"actor": "police-forces-of-russia-2000", "role": "responder"},
    ]
    orgs = {r.data["id"]: r.data for r in raws if r.kind == "organization"}
    assert orgs["police-forces-of-russia-2000"]["kind"] == "security-forces"  # inter2 = 1
    assert orgs["civilians-russia"]["extra"] == {"acled_actor_type": "Civilians"}


def _us_sheet(tmp_path):
    """The sample as a US Excel saves it: BOM, CRLF, month/day/year."""
    text = (SAMPLES / "acled-sample.csv").read_text(encoding="utf-8")
    text = (
        text.replace("15 March 2017", "3/15/2017")
        .replace("2017-04-02", "4/2/2017")
        .replace("10 April 2017", "4/10/2017")
    )
    sheet = tmp_path / "acled-us.csv"
    sheet.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    return sheet


def test_acled_us_dates_are_refused_until_the_mapping_names_the_format(tmp_path, runner):
    sheet = _us_sheet(tmp_path)
    res = runner.invoke(cli, ["map", "--mapping", str(ACLED), str(sheet)])
    assert res.exit_code != 0
    assert (
        ":2: row 2: [column event_date]: '3/15/2017' has the day and the month in digits"
        in res.output
    )
    assert 'date_formats: ["%m/%d/%Y"]' in res.output
    us = tmp_path / "acled-us.yaml"
    us.write_text('date_formats: ["%m/%d/%Y"]\n' + ACLED.read_text())
    dates = {
        r.data["id"]: r.data["date"]
        for r in mapped_raws(load_mapping(us), [sheet])
        if r.kind == "event"
    }
    assert dates == {
        "acled-rus1001": "2017-03-15",
        "acled-rus1002": "2017-04",
        "acled-rus1003": "2017-04",
    }


@pytest.mark.neo4j
def test_acled_sheet_loads_into_the_contract_graph(store):
    load(store, [SAMPLES / "acled-sample.csv"], mapping=ACLED)
    assert store.counts()["nodes"] == {"Event": 3, "Location": 6, "Organization": 7, "Source": 3}
    assert rows(
        store,
        "MATCH (e:Event {id: 'acled-rus1001'})-[:LOCATED_IN]->(l)-[:LOCATED_IN]->(r)"
        "-[:LOCATED_IN]->(c) RETURN l.name AS town, r.name AS region, c.name AS country, "
        "e.date_precision AS p, e.cases AS cases, e.extra_fatalities AS fatalities",
    ) == [
        {
            "town": "Argun",
            "region": "Chechnya",
            "country": "Russia",
            "p": "day",
            "cases": ["acled-sample"],
            "fatalities": 0,
        }
    ]
    before = store.digest()
    load(store, [SAMPLES / "acled-sample.csv"], mapping=ACLED)
    assert store.digest() == before


@pytest.mark.neo4j
def test_acled_beside_a_curated_case_ties_events_to_sources(store):
    load(store, [CHECHNYA])
    outlets = rows(
        store,
        "MATCH (o:Organization) WHERE o.id IN ['novaya-gazeta', 'interfax', 'the-guardian'] "
        "RETURN o.id AS id, properties(o) AS p ORDER BY id",
    )
    load(store, [SAMPLES / "acled-sample.csv"], mapping=ACLED)
    assert rows(
        store,
        "MATCH (e:Event)-[:REPORTED_BY]->(x) WHERE e.id STARTS WITH 'acled-' "
        "RETURN DISTINCT labels(x) AS l",
    ) == [{"l": ["Entity", "Source"]}]
    assert (
        rows(
            store,
            "MATCH (e:Event) WHERE e.id STARTS WITH 'acled-' AND NOT (e)-[:REPORTED_BY]->(:Source) "
            "RETURN e.id",
        )
        == []
    )
    assert (
        rows(
            store,
            "MATCH (o:Organization) WHERE o.id IN ['novaya-gazeta', 'interfax', 'the-guardian'] "
            "RETURN o.id AS id, properties(o) AS p ORDER BY id",
        )
        == outlets
    )


@pytest.mark.neo4j
def test_a_sheet_source_that_is_an_organization_is_refused(store, tmp_path, runner):
    load(store, [CHECHNYA])
    old = tmp_path / "old.yaml"  # a mapping whose source ids are bare outlet slugs
    old.write_text(ACLED.read_text().replace("acled-source-{_item|slug}", "{_item|slug}"))
    before = store.digest()
    res = runner.invoke(cli, ["load", "--mapping", str(old), str(SAMPLES / "acled-sample.csv")])
    assert res.exit_code != 0
    assert (
        "the mapping makes a source 'novaya-gazeta' if missing, but the database holds "
        "'novaya-gazeta' as an organization"
    ) in res.output
    assert store.digest() == before


@pytest.mark.neo4j
def test_statements_sheet_references_and_leaves_curated_entities_alone(store):
    load(store, [CHECHNYA])
    shown = (
        "MATCH (p:Person {id: 'alvi-karimov'}) "
        "RETURN [k IN keys(p) WHERE NOT k STARTS WITH 'kg_' | [k, p[k]]] AS p"
    )
    before = rows(store, shown)
    load(store, [SAMPLES / "statements-sample.csv"], mapping=STATEMENTS)
    # what the graph shows is the curated record's (the sheet's "if missing" record is kept
    # beside it in kg_records, and shows only if the curated case is unloaded)
    assert rows(store, shown) == before
    assert rows(
        store, "MATCH (:Person {id: 'alvi-karimov'})-[:AFFILIATED_WITH]->(o) RETURN o.id AS o"
    ) == [{"o": "chechen-government"}]
    got = rows(
        store,
        "MATCH (s:Person {id: 'alvi-karimov'})-[:SAID]->(st:Statement)-[a:ABOUT]->(t) "
        "WHERE st.cases = ['statements-sample'] RETURN t.id AS t, a.stance AS stance, "
        "st.date_precision AS p",
    )
    assert got == [{"t": "abduction-campaign-2017", "stance": "denies", "p": "month"}]
    assert rows(
        store,
        "MATCH (:Organization {id: 'amnesty-international'})-[:SAID]->(s)-[a:ABOUT]->() "
        "WHERE s.cases = ['statements-sample'] RETURN a.stance AS s",
    ) == [{"s": "calls-for"}]
    assert rows(
        store, "MATCH (s:Source {id: 'source-amnesty-international-petition'}) RETURN s.url AS u"
    ) == [{"u": "https://www.amnesty.org/"}]
    # Interfax and The Guardian are organizations in the case: the sheet's sources are sources
    assert rows(
        store,
        "MATCH (s:Statement)-[:REPORTED_BY]->(x) WHERE s.cases = ['statements-sample'] "
        "RETURN DISTINCT labels(x) AS l",
    ) == [{"l": ["Entity", "Source"]}]


@pytest.mark.neo4j
def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_written(store, tmp_path, runner):
    sheet = tmp_path / "bad.csv"
    sheet.write_text(
        textwrap.dedent("""\
        speaker,date,quote,about,stance,source,url
        A Person,2017-04,"said something",x-entity,denied,Src,
        B Person,April the 3rd,"said more",x-entity,denied,Src,
        C Person,2017,"and more",x-entity,shrugged,Src,
        """)
    )
    before = store.digest()
    res = runner.invoke(cli, ["load", "--mapping", str(STATEMENTS), str(sheet)])
    assert res.exit_code == 1
    assert f"{sheet}:3: row 3: [column date]: cannot read 'April the 3rd' as a date" in res.output
    assert f"{sheet}:4: row 4: [column stance]: 'shrugged' is not one of the values" in res.output
    assert store.digest() == before
    good = tmp_path / "good.csv"
    good.write_text(
        "speaker,date,quote,about,stance,source,url\nA Person,2017-04,said,x-entity,denied,Src,\n"
    )
    res = runner.invoke(cli, ["load", "--mapping", str(STATEMENTS), str(good)])
    assert res.exit_code == 1
    assert f"{good}:2: stmt-a-person-2017-04-" in res.output
    assert (
        "about[0].target: reference 'x-entity' not found in the input or the database" in res.output
    )
    missing = tmp_path / "missing.csv"
    missing.write_text("speaker,date,quote\nA,2017,q\n")
    res = runner.invoke(cli, ["load", "--mapping", str(STATEMENTS), str(missing)])
    assert (
        f"{missing}:1: header: [column about]: the mapping 'statements' needs column 'about'"
        in res.output
    )
    assert "[column stance]" in res.output and "[column source]" in res.output


def test_map_prints_records_for_review(runner):
    res = runner.invoke(
        cli,
        ["map", "--mapping", str(ACLED), str(SAMPLES / "acled-sample.csv"), "--format", "jsonl"],
    )
    assert res.exit_code == 0
    lines = [json.loads(x) for x in res.output.splitlines()]
    assert {"record": "event"}.items() <= lines[-1].items() or any(
        x["record"] == "event" for x in lines
    )
    res = runner.invoke(cli, ["map", "--mapping", str(ACLED), str(SAMPLES / "acled-sample.csv")])
    assert res.output.startswith("locations:\n- id: russia\n")


@pytest.mark.neo4j
def test_xlsx_and_tsv_sheets(store, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    src = (SAMPLES / "acled-sample.csv").read_text().splitlines()
    import csv

    for row in csv.reader(src):
        ws.append(row)
    wb.save(tmp_path / "acled.xlsx")
    (tmp_path / "acled.tsv").write_text("\n".join("\t".join(r) for r in csv.reader(src)) + "\n")
    a = {
        r.data.get("id"): r.data
        for r in mapped_raws(load_mapping(ACLED), [tmp_path / "acled.xlsx"])
    }
    b = {
        r.data.get("id"): r.data for r in mapped_raws(load_mapping(ACLED), [tmp_path / "acled.tsv"])
    }
    c = {
        r.data.get("id"): r.data
        for r in mapped_raws(load_mapping(ACLED), [SAMPLES / "acled-sample.csv"])
    }
    assert a == b == c


@pytest.mark.neo4j
def test_ftm_export_validates_and_round_trips(store, tmp_path, runner):
    from followthemoney import model

    load(store, [CHECHNYA])
    out = tmp_path / "c.ftm.json"
    res = runner.invoke(cli, ["export", "ftm", "--out", str(out), "--include-confidential"])
    assert res.exit_code == 0, res.output
    schemata = set()
    for line in out.read_text().splitlines():
        proxy = model.get_proxy(json.loads(line), cleaned=False)  # raises on anything invalid
        schemata.add(proxy.schema.name)
    assert {
        "Person",
        "Organization",
        "PublicBody",
        "Event",
        "Address",
        "Document",
        "Documentation",
        "Note",
        "Membership",
        "Associate",
    } <= schemata
    # The export carries confidential records unsealed (FtM has no "confidential"): compare
    # with their real ids.
    from kg.seal import Unsealer

    uns = Unsealer.from_store(store)

    def clear(q):
        return sorted(
            ({k: uns.rid(v) for k, v in r.items()} for r in rows(store, q)),
            key=lambda r: tuple(r.values()),
        )

    people = clear("MATCH (n:Person) RETURN n.id AS id ORDER BY id")
    orgs = clear("MATCH (n:Organization) RETURN n.id AS id ORDER BY id")
    events = clear("MATCH (n:Event) RETURN n.id AS id ORDER BY id")
    links = clear(
        "MATCH (a)-[r:INVOLVED_IN|AFFILIATED_WITH|ASSOCIATED_WITH|DENIED]->(b) "
        "RETURN a.id AS a, type(r) AS t, b.id AS b ORDER BY a, t, b"
    )
    store.write("MATCH (n) DETACH DELETE n")
    res = runner.invoke(cli, ["load", "--format", "ftm", str(out)])
    assert res.exit_code == 0, res.output
    # confidential records come back confidential (FtM keywords), sealed again: real ids
    uns = Unsealer.from_store(store)
    assert clear("MATCH (n:Person) RETURN n.id AS id ORDER BY id") == people
    assert clear("MATCH (n:Organization) RETURN n.id AS id ORDER BY id") == orgs
    assert clear("MATCH (n:Event) RETURN n.id AS id ORDER BY id") == events
    assert (
        clear(
            "MATCH (a)-[r:INVOLVED_IN|AFFILIATED_WITH|ASSOCIATED_WITH|DENIED]->(b) "
            "RETURN a.id AS a, type(r) AS t, b.id AS b ORDER BY a, t, b"
        )
        == links
    )


@pytest.mark.neo4j
def test_ftm_export_is_redacted_by_default(store, tmp_path, runner):
    load(store, [CHECHNYA])
    out = tmp_path / "r.ftm.json"
    runner.invoke(cli, ["export", "ftm", "--out", str(out)])
    text = out.read_text()
    assert "Men detained in Chechnya" not in text and "detained-men-chechnya-2017" not in text
    assert re.search(r"Confidential organization [0-9A-Z]{6}", text)


def test_a_mapping_typo_fails_once_naming_the_mapping_file_line_and_key(tmp_path, runner):
    mapping = tmp_path / "people.yaml"
    mapping.write_text(
        textwrap.dedent("""\
        name: people
        x-kinds: &kinds {org: organization}
        records:
          - kind: person
            id: {template: "{name|slug}"}
            fields:
              name: {colum: name}
              aliass: {column: alias, split: ";"}
              affiliations:
                - organization: {column: org}
                  rol: {value: member}
          - kind: evnt
            id: {column: x}
        """)
    )
    with pytest.raises(InputError) as e:  # no sheet at all: the mapping alone is checked
        load_mapping(mapping)
    got = [str(p) for p in e.value.problems]
    assert got == [
        f"{mapping}:7: records[0]: fields.name.colum: unknown key 'colum' (did you mean "
        "'column'?); expected: column, date, default, lookup, lookup_default, lower, optional, "
        "slug, split, template, type, value",
        f"{mapping}:8: records[0]: fields.aliass: unknown field 'aliass' (did you mean "
        "'aliases'?); expected: affiliations, aliases, confidential, description, extra, id, "
        "located_in, name, nationality, reported_by, tags",
        f"{mapping}:11: records[0]: fields.affiliations[0].rol: unknown field 'rol' (did you "
        "mean 'role'?); expected: end, organization, role, start",
        f"{mapping}:12: records[1]: kind: 'evnt' is not a record kind (did you mean 'event'?)",
    ]
    sheet = tmp_path / "people.csv"  # rows that would each fail: the mapping is named once
    sheet.write_text("name\nA\nB\nC\n")
    res = runner.invoke(cli, ["map", "--mapping", str(mapping), str(sheet)])
    assert res.exit_code != 0
    assert res.output.count("'colum'") == 1 and str(sheet) not in res.output


def test_mapping_top_level_keys_are_checked(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("name: m\nallow_exisitng: true\nrecords: []\n")
    with pytest.raises(InputError) as e:
        load_mapping(mapping)
    assert [str(p) for p in e.value.problems] == [
        f"{mapping}:2: mapping: allow_exisitng: unknown key 'allow_exisitng' (did you mean "
        "'allow_existing'?); expected: allow_existing, case, date_formats, delimiter, "
        "description, name, records"
    ]
