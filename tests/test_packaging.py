"""A plain (non-editable) install ships the schema, the queries, the runtime's pom and jar manifest."""

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT


def test_wheel_ships_resources_and_works_from_anywhere(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    wheel = next(tmp_path.glob("kg-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"kg/_schema/constraints.cypher", "kg/_schema/records.schema.json",
            "kg/resources/neo4j-pom.xml", "kg/resources/neo4j-jars.json", "kg/cli.py"} <= names
    target = tmp_path / "site"
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                          str(target), str(wheel)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from kg.paths import schema_statements, "
            "resource_dir; s = schema_statements(); print(len(s), resource_dir('schema'))")
    out = subprocess.run([sys.executable, "-I", "-c", code, str(target)], capture_output=True,
                         text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    count, where = out.stdout.split()
    assert int(count) >= 8 and Path(where) == target / "kg" / "_schema"
    # and the CLI validates a case from outside the checkout
    out = subprocess.run([sys.executable, "-I", "-c",
                          "import sys; sys.path.insert(0, sys.argv[1]); sys.argv = ['kg', 'validate', "
                          "sys.argv[2]]; from kg.cli import main; main()", str(target),
                          str(ROOT / "data" / "chechnya-2017")], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("valid: 52 records")
