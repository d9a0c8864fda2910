"""A plain (non-editable) install ships the schema, the queries, the runtime's pom and jar
manifest and the page template; a wheel in a fresh venv exports every format from outside
the checkout."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT


def test_wheel_ships_resources_and_works_from_anywhere(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    wheel = next(tmp_path.glob("kg-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "kg/_schema/constraints.cypher",
        "kg/_schema/records.schema.json",
        "kg/resources/neo4j-pom.xml",
        "kg/resources/neo4j-jars.json",
        "kg/cli.py",
    } <= names
    target = tmp_path / "site"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from kg.paths import schema_statements, "
        "resource_dir; s = schema_statements(); print(len(s), resource_dir('schema'))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", code, str(target)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    count, where = out.stdout.split()
    assert int(count) >= 8 and Path(where) == target / "kg" / "_schema"
    # and the CLI validates a case from outside the checkout
    out = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); sys.argv = ['kg', 'validate', "
            "sys.argv[2]]; from kg.cli import main; main()",
            str(target),
            str(ROOT / "data" / "chechnya-2017"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("valid: 52 records")


def _resources_in_checkout() -> set[str]:
    """Every non-Python file the kg package reads at run time, as its wheel path."""
    names = {
        f"kg/resources/{p.name}"
        for p in (ROOT / "kg" / "resources").iterdir()
        if p.is_file() and p.suffix != ".py"
    }
    for folder, package in (
        ("schema", "_schema"),
        ("queries", "_queries"),
        ("loaders", "_loaders"),
    ):
        names |= {
            f"kg/{package}/{p.name}"
            for p in (ROOT / folder).iterdir()
            if p.suffix in (".cypher", ".json", ".yaml")
        }
    return names


@pytest.mark.neo4j
def test_wheel_in_a_fresh_venv_exports_every_format(store, tmp_path, neo4j_env):
    """Build the wheel, install it (no editable link to this checkout) in a new virtual
    environment, and run `kg export` in every format from a folder outside the checkout; the
    page it writes opens offline in Chromium."""
    from conftest import CHECHNYA

    from kg.export import FORMATS
    from kg.loader import load

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    wheel = next(tmp_path.glob("kg-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = _resources_in_checkout() - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    # kg's dependencies come from the test environment's site-packages, added as a plain path:
    # its .pth files (the editable install of this checkout) are not run, so `kg` can only be
    # the wheel's.
    deps = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    (site / "deps.pth").write_text(deps + "\n")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(neo4j_env)
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import kg; print(kg.__file__)"],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr
    load(store, [CHECHNYA])
    kg = str(venv / "bin" / "kg")
    for fmt in FORMATS:
        target = work / ("csv-out" if fmt == "csv" else f"graph.{fmt}")
        res = subprocess.run(
            [kg, "export", fmt, "--out", str(target)],
            capture_output=True,
            text=True,
            cwd=work,
            env=env,
        )
        assert res.returncode == 0, (fmt, res.stdout, res.stderr)
        assert target.exists() and (target.is_dir() or target.stat().st_size > 100), fmt
    html = work / "graph.html"
    assert "vis.Network" in html.read_text() and "@@" not in html.read_text()[:2000]
    from test_browser import browser

    with browser() as b:
        page = b.open(html)
        assert page.evaluate("kg.search('Kadyrov')")[0] == "ramzan-kadyrov"
        assert len(page.evaluate("kg.visible()")) > 40
    assert b.errors == [] and all(u.startswith("file:") for u in b.requests)
