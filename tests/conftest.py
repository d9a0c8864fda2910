"""Test fixtures: a throwaway Neo4j of the tests' own (own KG_HOME, own port).

It is a real Neo4j 5 server started through kg's own runtime. If it cannot start, the
tests that need it fail: they are never skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from kg.config import load_settings
from kg.runtime import LocalNeo4j
from kg.store import Store, connect

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"
CHECHNYA = ROOT / "data" / "chechnya-2017"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def neo4j_env(tmp_path_factory: pytest.TempPathFactory):
    """Environment variables that point kg at the test server, which runs for the session."""
    home = Path(os.environ.get("KG_TEST_HOME", ROOT / ".kg-test"))
    port = int(os.environ.get("KG_TEST_BOLT_PORT") or _free_port())
    local = LocalNeo4j(home, port)
    local.stop()
    # A fresh database each session; the jars stay in the per-user cache (kg.fetch).
    for sub in ("data", "logs", "password", "state.json"):
        p = local.root / sub
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    saved = {k: os.environ.get(k) for k in ("KG_HOME", "KG_BOLT_PORT", "KG_NEO4J_URI")}
    os.environ["KG_HOME"] = str(home)
    os.environ["KG_BOLT_PORT"] = str(port)
    os.environ.pop("KG_NEO4J_URI", None)
    try:
        local.start(warm=True)  # as `kg db start` leaves it (kg.warmup)
        yield {"KG_HOME": str(home), "KG_BOLT_PORT": str(port)}
    finally:
        local.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def driver(neo4j_env):
    # One per test: tests that restore a dump or bulk-import replace the database, and a
    # driver's bookmarks from before that would wait for transactions that never come.
    drv = connect(load_settings())
    yield drv
    drv.close()


@pytest.fixture
def store(driver) -> Store:
    """A Store on an empty database."""
    s = Store(driver, "neo4j", managed=True)
    s.write("MATCH (n) DETACH DELETE n")
    return s


@pytest.fixture
def runner():
    from click.testing import CliRunner

    return CliRunner()
