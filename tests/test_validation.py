"""Validation without a database: every broken copy names file, line, record and field."""

import json
import textwrap
from pathlib import Path

import pytest
from conftest import CASES, CHECHNYA
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.errors import InputError
from kg.validation import collect


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


def problems(paths) -> list[str]:
    with pytest.raises(InputError) as e:
        collect([str(p) for p in paths])
    return [str(p) for p in e.value.problems]


def test_chechnya_case_is_valid():
    coll = collect([CHECHNYA])
    assert set(coll.cases) == {"chechnya-2017"}
    assert coll.records == 52 and coll.files == 6


def test_contract_case_is_valid():
    coll = collect([CASES / "contract"])
    assert set(coll.cases) == {"contract-case"}
    assert len(coll.entities) == 13 and len(coll.relations) == 5


def test_unknown_reference(tmp_path):
    f = write(
        tmp_path,
        "c/a.yaml",
        """
        people:
          - id: a
            name: A
            located_in: nowhere
        """,
    )
    assert problems([f.parent]) == [
        f"{f}:4: a: located_in: reference 'nowhere' not found; define it in the input, or "
        "load with --allow-existing to use the database's"
    ]


def test_wrong_kind_reference(tmp_path):
    f = write(
        tmp_path,
        "c/a.yaml",
        """
        people:
          - {id: p, name: P}
        statements:
          - id: s
            text: hi
            speaker: p
            via: p
        """,
    )
    assert problems([f]) == [f"{f}:7: s: via: 'p' is a person; expected an organization"]


def test_duplicate_id_across_files(tmp_path):
    write(tmp_path, "c/a.yaml", "people:\n  - {id: p, name: P}\n")
    b = write(tmp_path, "c/b.jsonl", '{"record": "person", "id": "p", "name": "Q"}\n')
    out = problems([tmp_path / "c"])
    assert len(out) == 1
    assert out[0].startswith(
        f"{b}:1: p: id: duplicate id: already defined at {tmp_path}/c/a.yaml:2"
    )


@pytest.mark.parametrize(
    "date,msg",
    [
        ("2017-02-30", "2017-02-30 is not a day of the calendar"),
        ("2017-13", "month 13 does not exist: '2017-13'"),
        ("April 2017", "expected a date like 2017, 2017-04 or 2017-04-01, got 'April 2017'"),
    ],
)
def test_bad_date(tmp_path, date, msg):
    f = write(
        tmp_path,
        "c/a.yaml",
        f"""
        events:
          - id: e
            title: E
            date: "{date}"
        """,
    )
    assert problems([f]) == [f"{f}:4: e: date: {msg}"]


def test_unknown_field_with_suggestion(tmp_path):
    f = write(
        tmp_path,
        "c/a.yaml",
        """
        people:
          - id: p
            nmae: P
        """,
    )
    out = problems([f])
    assert out[0] == f"{f}:2: p: name: required field is missing"
    assert out[1].startswith(f"{f}:3: p: nmae: unknown field 'nmae' (did you mean 'name'?)")


def test_wrong_stance(tmp_path):
    f = write(
        tmp_path,
        "c/a.yaml",
        """
        people:
          - {id: p, name: P}
        statements:
          - id: s
            speaker: p
            text: no
            about:
              - target: p
                stance: deny
        """,
    )
    assert problems([f]) == [
        f"{f}:9: s: about[0].stance: expected 'asserts', 'denies', 'corroborates', 'disputes', "
        "'calls-for' or 'mentions', got 'deny'"
    ]


def test_malformed_yaml(tmp_path):
    f = write(
        tmp_path,
        "c/a.yaml",
        """
        people:
          - id: p
            name: [unclosed
        events: []
        """,
    )
    out = problems([f])
    assert len(out) == 1 and out[0].startswith(f"{f}:4: -: -: malformed YAML:")


def test_malformed_jsonl_and_unknown_kind(tmp_path):
    f = write(
        tmp_path,
        "c/a.jsonl",
        """
        {"record": "person", "id": "p", "name": "P"}
        {"record": "person", "id": "q", "name": 
        {"record": "persn", "id": "r", "name": "R"}
        """,
    )
    out = problems([f])
    assert out[0].startswith(f"{f}:2: -: -: invalid JSON:")
    assert out[1] == (
        f"{f}:3: r: record: unknown record kind 'persn'; expected one of: case, "
        "source, person, organization, location, event, statement, relation "
        "(did you mean 'person'?)"
    )


def test_all_errors_reported_in_one_run(tmp_path):
    write(
        tmp_path,
        "c/a.yaml",
        """
        people:
          - {id: "Bad Id", name: P}
          - {id: ok, name: ""}
        """,
    )
    write(tmp_path, "c/b.yaml", "locations:\n  - {id: l, name: L, kind: planet}\n")
    out = problems([tmp_path / "c"])
    assert len(out) == 3
    assert "id: expected an id: a lowercase slug" in out[0]
    assert out[1].endswith("ok: name: must not be empty")
    assert "kind: expected 'country'" in out[2]


def test_relation_kinds_and_types(tmp_path):
    f = write(
        tmp_path,
        "c/a.jsonl",
        """
        {"record": "person", "id": "p", "name": "P"}
        {"record": "location", "id": "l", "name": "L"}
        {"record": "relation", "type": "PART_OF", "from": "p", "to": "l"}
        {"record": "relation", "type": "DENIED", "from": "p", "to": "l"}
        {"record": "relation", "type": "KNOWS", "from": "p", "to": "p"}
        """,
    )
    out = problems([f])
    assert out == [
        f"{f}:3: relation[p->l]: type: PART_OF cannot go from a person to a location; allowed: "
        "organization -> organization; event -> event",
        f"{f}:4: relation[p->l]: type: DENIED is made by statement and reported_by fields, not "
        "by a relation record",
        f"{f}:5: relation[p->p]: type: unknown relationship type 'KNOWS'; expected one of: "
        "AFFILIATED_WITH, ASSOCIATED_WITH, AUTHORED_BY, CONFIRMS, CONTRADICTS, FOLLOWED, "
        "INVOLVED_IN, LOCATED_IN, PART_OF, PUBLISHED_BY, REPEATS, RESPONDED_TO, RETRACTS, "
        "REVISES, TRIGGERED_BY, VIA",
    ]


def test_unknown_top_level_key_and_ignored_files(tmp_path):
    f = write(tmp_path, "c/a.yaml", "peple:\n  - {id: p, name: P}\n")
    out = problems([f])
    assert out == [
        f"{f}:1: -: peple: unknown top-level key 'peple'; expected one of: case, "
        "sources, people, organizations, locations, events, statements, relations "
        "(did you mean 'people'?)"
    ]
    write(tmp_path, "d/a.yaml", "people:\n  - {id: p, name: P}\n")
    write(tmp_path, "d/notes.txt", "hello")
    coll = collect([tmp_path / "d"])
    assert coll.notices == [f"{tmp_path}/d/notes.txt: ignored (not a .yaml, .yml or .jsonl file)"]


def test_case_id_from_declaration_or_folder(tmp_path):
    write(tmp_path, "My Case/a.yaml", "people:\n  - {id: p, name: P}\n")
    assert set(collect([tmp_path / "My Case"]).cases) == {"my-case"}
    write(tmp_path, "two/a.yaml", "case: {id: declared}\npeople:\n  - {id: q, name: Q}\n")
    assert set(collect([tmp_path / "two"]).cases) == {"declared"}
    write(tmp_path, "two/b.yaml", "case: {id: other}\n")
    assert "a second case declaration in one folder" in problems([tmp_path / "two"])[0]


def test_located_in_cycle(tmp_path):
    f = write(
        tmp_path,
        "c/a.yaml",
        """
        locations:
          - {id: a, name: A, located_in: b}
          - {id: b, name: B, located_in: a}
        """,
    )
    assert problems([f]) == [
        f"{f}:2: a: located_in: located_in goes round in a circle: a -> b -> a"
    ]


def test_yaml_one_point_two_scalars(tmp_path):
    f = write(
        tmp_path,
        "c/a.yaml",
        """
        people:
          - {id: p, name: "P", nationality: NO, aliases: [yes, on, 0123]}
        """,
    )
    ent = collect([f]).entities["p"]
    assert ent.model.nationality == "NO" and ent.model.aliases == ["yes", "on", "0123"]


def test_billion_laughs_is_refused_quickly(tmp_path):
    lines = ["a: &a [x,x,x,x,x,x,x,x,x]"]
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    f = write(tmp_path, "c/a.yaml", "\n".join(lines) + "\n")
    out = problems([f])
    assert "billion laughs" in out[0]


def test_entity_shared_by_two_cases_is_merged(tmp_path):
    write(tmp_path, "one/a.yaml", "case: {id: one}\npeople:\n  - {id: p, name: P, aliases: [X]}\n")
    write(
        tmp_path,
        "two/a.yaml",
        "case: {id: two}\npeople:\n  - {id: p, name: P, aliases: [Y], confidential: true}\n",
    )
    coll = collect([tmp_path / "one", tmp_path / "two"])
    ent = coll.entities["p"]
    assert ent.cases == ["one", "two"]
    assert ent.model.aliases == ["X", "Y"] and ent.model.confidential is True


def test_json_schema_is_current():
    from kg.schema_gen import json_schema

    on_disk = json.loads((CHECHNYA.parent.parent / "schema" / "records.schema.json").read_text())
    assert on_disk == json.loads(json.dumps(json_schema(), sort_keys=True)), (
        "schema/records.schema.json is stale: run `make schema`"
    )


def test_json_schema_accepts_the_example_cases():
    import jsonschema
    import yaml

    from kg.readers import _Loader

    schema = json.loads((CHECHNYA.parent.parent / "schema" / "records.schema.json").read_text())
    for f in sorted(CHECHNYA.glob("*.yaml")) + sorted((CASES / "contract").glob("*.yaml")):
        jsonschema.validate(yaml.load(f.read_text(), Loader=_Loader), schema)
    line_schema = {"$defs": schema["$defs"], "$ref": "#/$defs/JsonlLine"}
    for f in [CHECHNYA / "relations.jsonl", CASES / "contract" / "more.jsonl"]:
        for line in f.read_text().splitlines():
            jsonschema.validate(json.loads(line), line_schema)


@pytest.mark.parametrize(
    "line, expect",
    [
        # Parsed fast (orjson) or exactly (json): the answer is the same either way.
        ('{"id": "p", "name": "P"}', {"id": "p", "name": "P"}),
        ('{"id" : "p",\t"name"\t:"P"}', {"id": "p", "name": "P"}),
        (
            '{"id": "p", "name": "a\\": b", "aliases": ["\\":", "x"]}',
            {"id": "p", "name": 'a": b', "aliases": ['":', "x"]},
        ),
        (
            '{"id": "p", "extra": {"n": 12345678901234567890123}}',
            {"id": "p", "extra": {"n": 12345678901234567890123}},
        ),
        ('{"id": "p", "name": "\\ud800"}', {"id": "p", "name": "\ud800"}),
        ('{"id": "p", "id": "q"}', ValueError("duplicate key 'id'")),
        ('{"id": "p", "extra": {"a": 1, "a": 2}}', ValueError("duplicate key 'a'")),
        # a repeated key hidden behind a string that quotes `":` is still found
        ('{"id": "p", "name": "x\\":", "name": "y"}', ValueError("duplicate key 'name'")),
        ('{"id": "p", "n": NaN}', ValueError("NaN is not valid JSON")),
    ],
)
def test_json_lines_parse_exactly(line, expect):
    from kg.readers import _parse_line

    if isinstance(expect, Exception):
        with pytest.raises(ValueError, match=str(expect.args[0]).replace("'", ".")):
            _parse_line(line)
    else:
        assert _parse_line(line) == expect


def test_duplicate_json_key_names_file_and_line(tmp_path):
    f = write(
        tmp_path,
        "c/a.jsonl",
        """
        {"record": "person", "id": "p", "name": "P"}
        {"record": "person", "id": "q", "name": "Q", "name": "R"}
        """,
    )
    assert problems([f]) == [
        f"{f}:2: -: -: invalid JSON: duplicate key 'name' (each line must "
        "be one complete JSON object)"
    ]


def test_checks_across_fields_name_their_field(tmp_path):
    """A check that compares fields names the field to fix, never '-'."""
    f = tmp_path / "r.yaml"
    f.write_text(
        textwrap.dedent("""
        events:
          - {id: e1, title: E1, date: 2017, start: 2017}
          - {id: e2, title: E2, start: 2018, end: 2017}
          - {id: e3, title: E3, victims: {min: 5, max: 2}}
        """).lstrip()
    )
    assert problems([f]) == [
        f"{f}:2: e1: date: give either date, or start/end, not both",
        f"{f}:3: e2: end: end (2017) is before start (2018)",
        f"{f}:4: e3: victims.min: min (5) is greater than max (2)",
    ]


def test_yaml_record_lines_come_from_one_pass_over_the_file(tmp_path):
    """Each record's field lines (for error messages) are taken from the file's line table
    in one pass (kg.readers.sub_lines), the same as asking for each record's part alone:
    asking once per record made reading a YAML file quadratic in its size."""
    from kg.readers import _sub, read_yaml, sub_lines
    from kg.yamlsafe import _Loader, _Walker

    people = "".join(
        f"  - id: p-{i}\n    name: Person {i}\n    aliases:\n      - P{i}\n      - Пётр {i}\n"
        for i in range(40)
    )
    text = (
        "case:\n  id: c\n  title: C\npeople:\n" + people + "locations:\n  - id: l-1\n    name: L\n"
    )
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    loader = _Loader(text)
    walker = _Walker(loader)
    walker.value(loader.get_single_node(), ())
    lines = walker.lines
    loader.dispose()
    grouped = sub_lines(lines, 2)
    records = read_yaml(path, "r.yaml").records
    assert len(records) == 42
    for rec in records[1:]:
        key = "people" if rec.kind == "person" else "locations"
        prefix = (key, rec.index - 1)
        assert grouped.get(prefix, {}) == _sub(lines, prefix) == rec.lines
    assert records[5].line_of(("aliases", 1)) == text.splitlines().index("      - Пётр 4") + 1


_SCALARS = [
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "False",
    "TRUE",
    "null",
    "~",
    "0",
    "-0",
    "+12",
    "012",
    "0x1F",
    "0o17",
    "1_000",
    "1.5",
    "1e3",
    ".inf",
    "-.Inf",
    ".nan",
    "2021-03-04",
    "2021-03-04T10:00:00Z",
    "12:30:00",
    "'yes'",
    '"true"',
    "'012'",
    "!!str 12",
    "!!int 12",
    "!!float 1",
    "!!bool yes",
    "!!null ''",
    "!!timestamp 2020-01-01",
    "abc",
    "a b",
    "Пётр",
    "'it''s'",
    '"tab\\there"',
    "-x",
    "&a foo",
    "*a",
    "[1, yes, 'no']",
    "{k: 012, 'j': ~}",
    "10",
    "10x",
    "nul",
    "1.",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_SCALARS), st.sampled_from(_SCALARS)), max_size=8))
def test_yaml_values_are_what_the_constructor_makes(pairs):
    """Record files' text values are taken from the parser's nodes directly, and plain
    scalars' tags remembered by their text (kg.yamlsafe: quicker): the values are the ones
    PyYAML's constructor makes with the same rules (yes/no and dates stay text)."""
    import yaml

    from kg.yamlsafe import YamlLimitError, _Loader, load_limited_yaml

    class Reference(_Loader):
        resolve = yaml.resolver.BaseResolver.resolve  # no remembered tags

    lines = ["x: &a anchor"] + [f"k{i}: {v}" for i, (v, _w) in enumerate(pairs)]
    lines += [f"l{i}: [{v}, {w}]" for i, (v, w) in enumerate(pairs) if "&" not in v + w]
    text = "\n".join(lines) + "\n"
    try:
        ours = load_limited_yaml(text)
    except YamlLimitError:
        return  # (a limit, e.g. the same anchor twice; not what this compares)
    for _ in range(2):  # the second time from the remembered tags
        assert repr(load_limited_yaml(text)) == repr(ours)
    assert repr(yaml.load(text, Loader=Reference)) == repr(ours)


def test_prescan_reads_only_json_lines_that_may_mark_a_record(tmp_path):
    """Before validation, a load finds the records marked confidential; of JSON lines it
    parses only those naming "case", or "confidential" not followed by false or null."""
    from kg.inputs import RecordInput

    lines = [
        '{"record": "person", "id": "a", "name": "A", "confidential": true}',
        '{"record": "person", "id": "b", "name": "B", "confidential" :\ttrue}',
        '{"record": "person", "id": "c", "name": "C", "confidential": "yes"}',
        '{"record": "person", "id": "d", "name": "D", "confidential": false}',
        '{"record": "person", "id": "e", "name": "E", "confidential":null}',
        '{"record": "person", "id": "f", "name": "F", "confidential": "false"}',
        '{"record": "person", "id": "g", "name": "G", "confidential": false, '
        '"extra": {"confidential": true}}',
        '{"record": "person", "id": "h", "name": "H", "extra": {"confidential": true}, '
        '"confidential": 1}',
        '{"record": "case", "id": "c1", "title": "T"}',
    ]
    f = write(tmp_path, "c/a.jsonl", "\n".join(lines) + "\n")
    y = write(
        tmp_path,
        "c/b.yaml",
        "people:\n  - {id: i, name: I, confidential: true}\n  - {id: j, name: J}\n",
    )
    inp = RecordInput.from_paths([f, y])
    cases, marked = inp.prescan()
    assert marked == {"a", "b", "c", "h", "i"}
    assert [c.data["id"] for c in cases] == ["c1"]
    # The YAML file was parsed once and kept; validation gets its own copy of each record.
    (again,) = [r for r in inp if getattr(r, "kind", "") == "person" and r.data["id"] == "i"]
    again.data["name"] = "changed"
    assert inp.memo[y].records[0].data["name"] == "I"
