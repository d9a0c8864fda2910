"""`kg validate`, `kg load`, `kg unload`, `kg map`: records in, checked, loaded, removed."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from ..cli import _apply_summary, _print_notices, cli, emit, format_option, out_option, with_store
from ..errors import UsageError

# --- validate / load ------------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@format_option(("text", "json"), default="text")
def validate(paths: tuple[Path, ...], fmt: str) -> None:
    """Check record files and folders against the record format, reporting every error.

    Each error is one line: FILE:LINE: RECORD: FIELD: MESSAGE. Exit status 0 when valid,
    1 otherwise. References must resolve within PATHS (no database is consulted). Warns
    (exit 0) about public text that mentions a confidential record: loading replaces the
    mention with the record's placeholder and seals the original.
    """
    from .. import ahead
    from ..errors import InputError
    from ..validation import collect

    try:
        with ahead.parsing(list(paths)):  # (half the YAML parsed by a child meanwhile)
            coll = collect(list(paths))
    except InputError as e:
        if fmt == "json":
            click.echo(
                json.dumps(
                    {"valid": False, "errors": [p.__dict__ for p in e.problems]},
                    ensure_ascii=False,
                    indent=2,
                )
            )
            sys.exit(e.exit_code)
        raise
    _print_notices(coll.notices)
    from ..seal import validation_warnings

    warnings = validation_warnings(coll)
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "valid": True,
                    "files": coll.files,
                    "records": coll.records,
                    "cases": sorted(coll.cases),
                    "warnings": warnings,
                },
                indent=2,
            )
        )
    else:
        click.echo(
            f"valid: {coll.records} records in {coll.files} files "
            f"(case{'s' if len(coll.cases) != 1 else ''}: {', '.join(sorted(coll.cases))})"
        )


def _summary_text(summary: dict[str, Any], dry_run: bool, *, unloaded: bool = False) -> str:
    from ..render import table

    verb = "would change" if dry_run else ("unloaded" if unloaded else "loaded")
    n = len(summary["cases"])
    head = f"{'Dry run, nothing written: ' if dry_run else ''}" + (
        f"case {', '.join(summary['cases'])} ({verb}):\n"
        if unloaded
        else f"{summary['records']} records from {summary['files']} files, case{'s' if n != 1 else ''} "
        f"{', '.join(summary['cases'])} ({verb}):\n"
    )
    ops = ("created", "updated", "deleted", "unchanged")
    nodes = table(
        ["nodes", *ops], [[k, *(str(v[op]) for op in ops)] for k, v in summary["nodes"].items()]
    )
    rels = table(
        ["relationships", *ops],
        [[k, *(str(v[op]) for op in ops)] for k, v in summary["relationships"].items()],
    )
    strip = lambda t: "\n".join(t.splitlines()[:-1]) + "\n"  # noqa: E731 - drop the row count
    removed = summary.get("removed") or []
    tail = ""
    if removed and not unloaded:
        by_case: dict[str, list[str]] = {}
        for r in removed:
            by_case.setdefault(r["case"], []).append(r["record"])
        for case, recs in sorted(by_case.items()):
            shown = ", ".join(recs[:10]) + (f" and {len(recs) - 10} more" if len(recs) > 10 else "")
            tail += (
                f"\nremoved: {len(recs)} record{'s' if len(recs) != 1 else ''} no longer in "
                f"case {case}'s files: {shown}\n"
            )
    if summary.get("phases"):
        tail += (
            "\ntime by phase: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in summary["phases"].items())
            + "\n"
        )
    return head + strip(nodes) + "\n" + strip(rels) + tail


def _write_changes(plan: Any, changes: Path | None, verbose: bool) -> None:
    """The change list: each created / updated / deleted node and relationship."""
    if plan.log is None:
        return
    lines = [json.dumps(c, ensure_ascii=False, sort_keys=True, default=str) for c in plan.log]
    if changes is not None:
        emit("".join(line + "\n" for line in lines), changes)
    if verbose:
        for c in plan.log:
            what = c.get("node") or f"{c['start']} -[{c['relationship']}]-> {c['end']}"
            fields = "".join(
                f"\n    {k}: {json.dumps(v[0], ensure_ascii=False, default=str)} -> "
                f"{json.dumps(v[1], ensure_ascii=False, default=str)}"
                for k, v in (c.get("fields") or {}).items()
            )
            click.echo(f"  {c['op']}: {what}{fields}", err=True)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--allow-existing",
    is_flag=True,
    help="Let references resolve to entities already in the database.",
)
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Load CSV/TSV/XLSX sheets through this mapping (e.g. loaders/acled.yaml).",
)
@click.option(
    "--format",
    "input_format",
    type=click.Choice(("records", "ftm")),
    default="records",
    show_default=True,
    help="What PATHS hold: kg records, or FollowTheMoney entities (JSON lines).",
)
@click.option("--dry-run", is_flag=True, help="Validate and show what would change; write nothing.")
@click.option(
    "--bulk",
    is_flag=True,
    help="First load into an empty local database via neo4j-admin import (offline: "
    "the server is stopped and restarted). For millions of records.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 1_000_000),
    default=5_000,
    show_default=True,
    help="Rows per write transaction.",
)
@click.option(
    "--confidential-dates",
    type=click.Choice(("day", "month", "year", "none")),
    envvar="KG_CONFIDENTIAL_DATES",
    show_envvar=True,
    default="day",
    show_default=True,
    help="The precision at which confidential records keep their dates in the "
    "graph (the exact dates are sealed with the rest).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="List each created, updated and deleted node and relationship (stderr).",
)
@click.option(
    "--changes",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write that list as JSON lines to this file.",
)
def load(**options: Any) -> None:
    """Validate records, then load them into Neo4j (a bad input writes nothing).

    Loading is idempotent: loading the same input again changes nothing. Each case's
    records replace what that case contributed before (a record deleted from its files is
    removed); what other cases contributed never changes. Entities several cases define show
    the union of their definitions; conflicting single values are kept and reported. Sheets
    load through a mapping (--mapping), FollowTheMoney entities with --format ftm. Judgements
    files of `kg resolve` given by name are applied after the records, and every load that
    writes honours the judgements already stored. Records marked confidential are sealed: the
    graph keeps their kind, a placeholder, dates, cases and relationships; the rest is
    encrypted with the key in KG_HOME (made on first use; see `kg key`).
    """
    from .. import ahead

    records = options["input_format"] == "records" and options["mapping"] is None
    # Record files' YAML parsed by a child meanwhile (kg.ahead).
    with ahead.parsing(list(options["paths"]) if records else []):
        _load(**options)


def _load(
    paths: tuple[Path, ...],
    allow_existing: bool,
    mapping: Path | None,
    input_format: str,
    dry_run: bool,
    bulk: bool,
    batch_size: int,
    confidential_dates: str,
    as_json: bool,
    quiet: bool,
    verbose: bool,
    changes: Path | None,
) -> None:
    from ..bulk import bulk_load
    from ..config import load_settings
    from ..loader import load as do_load
    from ..store import open_store

    def bar(total: int) -> Any:
        show = not quiet and total >= 20_000 and sys.stderr.isatty()
        if not show:
            return _NoBar()
        return click.progressbar(length=total, label="writing", file=sys.stderr)

    from ..judgements import is_judgements_file
    from ..resolve import apply as apply_judgements

    # Judgements files (kg resolve) given among PATHS are applied after the records.
    judged = [p for p in paths if mapping is None and is_judgements_file(p)]
    paths = tuple(p for p in paths if p not in judged)
    if not dry_run and paths:
        _check_space_for_load(list(paths), factor=4 if bulk else 3)
    plan = None
    if bulk and paths:
        if dry_run:
            raise UsageError("--bulk and --dry-run do not go together")
        os.environ["KG_CONFIDENTIAL_DATES"] = confidential_dates
        plan = bulk_load(load_settings(), list(paths), mapping=mapping, input_format=input_format)
    with open_store(load_settings()) as store:
        if paths and not bulk:
            plan = do_load(
                store,
                list(paths),
                allow_existing=allow_existing,
                dry_run=dry_run,
                batch_size=batch_size,
                progress_factory=bar,
                mapping=mapping,
                input_format=input_format,
                changes=verbose or changes is not None,
                confidential_dates=confidential_dates,
            )
        resolved = None
        if judged or (plan is not None and plan.writes() and not dry_run):
            resolved = apply_judgements(store, judged, dry_run=dry_run)
    if plan is not None:
        _print_notices(plan.coll.notices)
        _write_changes(plan, changes, verbose)
        summary = plan.summary()
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "dry_run": dry_run,
                        **summary,
                        **({"resolve": resolved.as_dict()} if resolved else {}),
                    },
                    indent=2,
                )
            )
        else:
            click.echo(_summary_text(summary, dry_run), nl=False)
    elif as_json and resolved is not None:
        click.echo(json.dumps({"dry_run": dry_run, "resolve": resolved.as_dict()}, indent=2))
    if resolved is not None and (judged or resolved.judgements) and not as_json:
        _print_notices(resolved.notices)
        click.echo(_apply_summary(resolved), nl=False)


@cli.command()
@click.argument("case")
@click.option("--dry-run", is_flag=True, help="Show what would be removed; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="List each updated and deleted node and relationship (stderr).",
)
@click.option(
    "--changes",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write that list as JSON lines to this file.",
)
@with_store
def unload(
    store: Any, case: str, dry_run: bool, as_json: bool, verbose: bool, changes: Path | None
) -> None:
    """Remove exactly what one case contributed.

    Entities only CASE defines are deleted; entities other cases define too lose CASE's
    definition (its aliases, citations, values and relationships) and keep everything else.
    Afterwards the graph is the one you get by never loading CASE. Refused, writing nothing,
    if another case still refers to an entity only CASE defines.
    """
    from ..loader import unload as do_unload

    plan = do_unload(store, case, dry_run=dry_run, changes=verbose or changes is not None)
    if plan.writes() and not dry_run:  # merges (kg resolve) of what is left, as after a load
        from ..resolve import reapply

        reapply(store)
    _print_notices(plan.coll.notices)
    _write_changes(plan, changes, verbose)
    summary = plan.summary()
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, **summary}, indent=2))
    else:
        click.echo(_summary_text(summary, dry_run, unloaded=True), nl=False)


@cli.command("map")
@click.argument(
    "sheets", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--mapping",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The mapping (e.g. loaders/statements.yaml).",
)
@format_option(("yaml", "jsonl"), default="yaml")
@out_option
def map_command(sheets: tuple[Path, ...], mapping: Path, fmt: str, out: Path | None) -> None:
    """Print the records a sheet makes through a mapping, for a curator to review.

    Nothing is loaded. Problems in rows are reported by row and column.
    """
    import yaml as _yaml

    from ..tabular import load_mapping, mapped_raws

    raws = mapped_raws(load_mapping(mapping), list(sheets))
    if fmt == "jsonl":
        text = "".join(
            json.dumps({"record": r.kind, **r.data}, ensure_ascii=False) + "\n" for r in raws
        )
    else:
        keys = {v: k for k, v in __import__("kg.records", fromlist=["YAML_KEYS"]).YAML_KEYS.items()}
        doc: dict[str, Any] = {}
        for r in raws:
            if r.kind == "case":
                doc["case"] = r.data
            else:
                doc.setdefault(keys[r.kind], []).append(r.data)
        text = _yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
    emit(text, out)


def _check_space_for_load(paths: list[Path], factor: int) -> None:
    """kg's own server: refuse a load the disk cannot hold (a store that runs out of space
    mid-write may not recover). About `factor` times the input's size, plus the reserve."""
    from ..config import load_settings
    from ..safeio import require_free, tree_size

    settings = load_settings()
    if not settings.managed:
        return  # another machine's disk, or one kg cannot see
    size = sum(tree_size(p) for p in paths if p.exists())
    require_free(settings.home / "neo4j" / "data", factor * size, "this load")


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def update(self, n: int) -> None:
        return None
