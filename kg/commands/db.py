"""`kg db`: the local Neo4j (start, stop, status, reset, dump, restore, reseal)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from .. import cypher as C
from ..cli import KgGroup, cli, with_store
from ..errors import KgError, UsageError

# --- db -------------------------------------------------------------------------------------


@cli.group(cls=KgGroup)
def db() -> None:
    """Run kg's local Neo4j (or report on the configured one)."""


def _local() -> Any:
    from ..config import kg_home, managed_port
    from ..runtime import LocalNeo4j

    if os.environ.get("KG_NEO4J_URI"):
        raise UsageError(
            "KG_NEO4J_URI is set: kg uses that server and does not manage it.",
            hint="Unset KG_NEO4J_URI to use kg's own local Neo4j.",
        )
    return LocalNeo4j(kg_home(), managed_port())


@db.command()
def start() -> None:
    """Start the local Neo4j (provisioning it on first use); returns when Bolt answers.

    It first runs kg's own queries once (a small generated case loaded, read and unloaded:
    the graph stays as it was), so the first load runs at the speed of the next;
    KG_WARMUP=0 skips that."""
    local = _local()
    before = local.status().running
    status = local.start(warm=True)
    word = "already running" if before else "started"
    warmed = f"; warmed up in {local.warmed_s:.0f} s" if local.warmed_s else ""
    jit = local.state().get("jit")
    warmed += f"; JIT {jit}" if jit and status.runtime == "java" else ""
    click.echo(
        f"Neo4j {status.version} {word} at {status.uri} ({status.runtime}); "
        f"password in {status.password_file}{warmed}"
    )


@db.command()
def stop() -> None:
    """Stop the local Neo4j."""
    click.echo("stopped" if _local().stop() else "not running")


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def status(as_json: bool) -> None:
    """Say what is running where (never prints the password)."""
    from ..config import load_settings

    if os.environ.get("KG_NEO4J_URI"):
        settings = load_settings()
        from ..store import open_store

        version, running = "", False
        try:
            with open_store(settings) as store:
                version, running = store.server_version(), True
        except KgError:
            pass
        info: dict[str, Any] = {
            "uri": settings.describe(),
            "user": settings.user,
            "database": settings.database,
            "version": version,
            "running": running,
            "password_file": str(settings.password_file) if settings.password_file else None,
            "runtime": "external",
        }
    else:
        info = _local().status().as_dict()
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        state = "running" if info["running"] else "not running"
        click.echo(
            f"{state}: {info['uri']} (user {info['user']}, database {info['database']}, "
            f"Neo4j {info['version'] or '?'}, {info['runtime']})"
        )
        if info.get("password_file"):
            click.echo(f"password file: {info['password_file']}")
        if info.get("java"):
            j = info["java"]
            click.echo(f"java: {j['version']} ({j['source']}) {j['path']}")


@db.command()
@click.option("--yes", is_flag=True, help="Confirm: delete every node and relationship.")
@with_store
def reset(store: Any, yes: bool) -> None:
    """Empty the database (every node and relationship). Needs --yes."""
    if not yes:
        raise UsageError("`kg db reset` deletes the whole graph; add --yes to confirm.")
    store.reset()
    click.echo("database emptied")


@db.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The dump file to write (mode 0600).",
)
@click.option(
    "--with-key",
    is_flag=True,
    help="Also write the sealing key next to it (OUT.key, mode 0600). Without it, "
    "the dump shows confidential records as placeholders only.",
)
def dump(out: Path, with_key: bool) -> None:
    """Back up kg's local database to a file (neo4j-admin dump; stops and restarts it).

    Confidential records are sealed in the dump; the key is not in it unless --with-key."""
    from ..seal import key_path, read_key_file, write_key_file

    path = _local().dump(out)
    click.echo(f"dumped the database to {path}")
    if with_key:
        if not key_path().exists():
            raise UsageError(f"there is no sealing key at {key_path()}: nothing is sealed")
        kfile = Path(f"{path}.key")
        write_key_file(kfile, read_key_file(key_path()), overwrite=True)
        click.echo(f"wrote the sealing key to {kfile} (mode 0600): keep it apart from the dump")


@db.command()
@click.argument("dump_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: replace the whole database with the dump.")
def restore(dump_file: Path, yes: bool) -> None:
    """Replace kg's local database with a dump (stops and restarts it). Needs --yes."""
    if not yes:
        raise UsageError("`kg db restore` replaces the whole graph; add --yes to confirm.")
    from ..seal import Keyring, load_key, read_key_file

    _local().restore(dump_file)
    click.echo(f"restored the database from {dump_file}")
    kfile = Path(f"{dump_file}.key")
    if kfile.exists():
        mine = load_key()
        theirs = Keyring(read_key_file(kfile)).fingerprint
        if mine is None or mine.fingerprint != theirs:
            click.echo(
                f"note: {kfile} holds the key its sealed records need (fingerprint "
                f"{theirs}); install it with `kg key import {kfile}`",
                err=True,
            )


@db.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: rebuild the whole database from PATHS.")
def reseal(paths: tuple[Path, ...], yes: bool) -> None:
    """Rebuild kg's local database from the record files of every case it holds, sealed.

    For a database loaded before sealing existed (it holds confidential records in clear,
    in its store files and transaction logs). PATHS must hold every case the database
    holds; they are validated first. Then the server stops, the database's store files and
    transaction logs are deleted (the password and the key stay), the server starts with an
    empty database, and PATHS are loaded: confidential records sealed. analysis_*
    properties are not kept (re-run `kg analyze --write-back`). Needs --yes. Older dumps
    (`kg db dump`) of that database still hold clear text: destroy them.
    """
    import shutil

    from ..config import load_settings
    from ..loader import load as do_load
    from ..store import open_store
    from ..validation import collect

    if not yes:
        raise UsageError(
            "`kg db reseal` rebuilds the whole database from PATHS; add --yes to confirm."
        )
    local = _local()
    coll = collect(list(paths))
    with open_store(load_settings()) as store:
        held = {r["c"] for r in store.read(C.HELD_CASES).records}
    missing = sorted(held - set(coll.cases))
    if missing:
        raise UsageError(
            f"the database holds case{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}, which PATHS do not: nothing was changed.",
            hint="Give the record files of every case the database holds.",
        )
    local.stop()
    for sub in ("databases/neo4j", "transactions/neo4j"):
        shutil.rmtree(local.data_dir / sub, ignore_errors=True)
    local.start()
    with open_store(load_settings()) as store:
        plan = do_load(store, list(paths))
    click.echo(
        f"resealed: the database was rebuilt from {plan.coll.records} records "
        f"({', '.join(sorted(plan.coll.cases))}); no clear text of confidential "
        "records is left in its store files or transaction logs"
    )
