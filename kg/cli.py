"""The `kg` command line: parses options, calls the library, turns KgErrors into messages."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, Optional

import click

from . import __version__
from .config import mask_secrets
from .errors import KgError, UsageError

OUTPUT_FORMATS = ("table", "json", "jsonl", "csv")


class KgGroup(click.Group):
    """Runs a command and turns every KgError into `error: ...` and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.parent is None:
            from .seal import forget_messages

            forget_messages()
        try:
            return super().invoke(ctx)
        except KgError as e:
            from .seal import scrub_message

            click.echo(mask_secrets(scrub_message(f"error: {e}")), err=True)
            ctx.exit(e.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as e:  # noqa: BLE001 - the last line of defence: no tracebacks
            if os.environ.get("KG_DEBUG"):
                raise
            click.echo(mask_secrets(f"error: internal error ({type(e).__name__}: {e}). This "
                                    "is a bug in kg; set KG_DEBUG=1 to see the traceback and "
                                    "please report it."), err=True)
            # (a message from the code, not from the records: sealed values never reach it)
            ctx.exit(70)


def format_option(choices: tuple[str, ...] = OUTPUT_FORMATS, default: str = "table") -> Callable:
    def decorator(fn: Callable) -> Callable:
        return click.option("--format", "fmt", type=click.Choice(choices), default=default,
                            show_default=True, help="Output format.")(fn)
    return decorator


def out_option(fn: Callable) -> Callable:
    return click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
                        help="Write the output to this file instead of standard output.")(fn)


def params_option(fn: Callable) -> Callable:
    return click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
                        help="A query parameter (repeatable). Values always travel as Cypher "
                             "parameters, never as query text.")(fn)


def emit(text: str, out: Optional[Path] = None, private: bool = False) -> None:
    """Print, or write to --out through a temporary file renamed when complete (mode 0600
    when ``private``: confidential records included)."""
    from .safeio import require_free, write_text

    if out is None:
        click.echo(text, nl=False)
        return
    try:
        require_free(out.parent, len(text.encode("utf-8")), str(out))
        write_text(out, text, private=private)
    except OSError as e:
        raise UsageError(f"cannot write {out}: {e.strerror}") from None
    click.echo(f"wrote {out}", err=True)


def parse_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    """Untyped `-p name=value`: JSON when it parses as JSON, else the text itself."""
    from .queries import bounded, parse_cli_params

    out: dict[str, Any] = {}
    for name, value in parse_cli_params(pairs).items():
        if not name.isidentifier():
            raise UsageError(f"parameter name {name!r} is not a valid Cypher parameter name")
        try:
            out[name] = json.loads(value)
        except (ValueError, RecursionError):
            out[name] = value
        bounded(name, out[name], value)
    return out


def timeout_option(fn: Callable) -> Callable:
    return click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
                        envvar="KG_QUERY_TIMEOUT", show_envvar=True,
                        help="Stop the query on the server after this many seconds (default: "
                             "no limit). A path search across a large case can run for minutes.")(fn)


def as_of_option(fn: Callable) -> Callable:
    return click.option("--as-of", "as_of", metavar="DATE",
                        help="The graph as known on DATE (2018, 2018-10 or 2018-10-21: by its "
                             "last day): only sources certainly published by then, what they "
                             "report and the records no source reports (flagged unsourced).")(fn)


def _as_of_day(value: Optional[str]) -> Any:
    """--as-of DATE as the last day it covers (kg.dates: known by the end of that span)."""
    from .dates import PartialDate

    if value is None:
        return None
    try:
        return PartialDate.parse(value.strip()).last
    except ValueError as e:
        raise UsageError(f"--as-of: {e}") from None


def confidential_option(fn: Callable) -> Callable:
    return click.option("--include-confidential", is_flag=True,
                        help="Unseal records marked confidential (people at risk) with this "
                             "installation's key, on this machine. The output then must not "
                             "be shared.")(fn)


def warn_confidential() -> None:
    click.echo("warning: --include-confidential: this output contains records marked "
               "confidential (people at risk). Do not share it.", err=True)


def redacted_rows(store: Any, keys: list[str], records: Any, include_confidential: bool) -> list:
    """Result rows for output: sealed values opened on this machine with the key when
    --include-confidential, else shown as [sealed] (the database holds nothing else)."""
    from .redact import Redactor
    from .render import rows_to_plain
    from .seal import Unsealer, mask

    rows = rows_to_plain(keys, records)
    if include_confidential:
        warn_confidential()
        return Unsealer.from_store(store).value(rows)
    return mask(Redactor.from_store(store).value(rows))


ID_PARAMS = ("id", "about", "place", "from", "to", "publisher")  # saved queries' entity ids


def stored_params(store: Any, params: dict[str, str]) -> dict[str, str]:
    """Parameters naming an entity, with a confidential record's real id (typed by a user
    who has the key) turned into the placeholder id the database holds."""
    from .seal import stored_id

    return {k: stored_id(store, v) if k in ID_PARAMS and isinstance(v, str) else v
            for k, v in params.items()}


def with_store(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .config import load_settings
        from .store import open_store

        with open_store(load_settings()) as store:
            return fn(store, *args, **kwargs)
    return wrapper


@click.group(cls=KgGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kg")
def cli() -> None:
    """kg: curated records about abuses, claims and denials, as a Neo4j graph.

    Records (YAML or JSONL, see docs/record-format.md) are checked with `kg validate` and
    loaded with `kg load` (sheets through `--mapping`, FollowTheMoney with `--format ftm`).
    Ask with `kg query` (saved questions) or `kg cypher`; draw and hand over with
    `kg export`; measure with `kg analyze`; find and merge one entity's several ids with
    `kg resolve`. `kg db` runs a local Neo4j. Connection:
    KG_NEO4J_URI / KG_NEO4J_USER / KG_NEO4J_PASSWORD / KG_NEO4J_DATABASE, or kg's own server
    under KG_HOME (default ./.kg). Confidential records are sealed when loaded (encrypted
    with the key in KG_HOME, `kg key`); --include-confidential unseals them in an output.
    """


# --- validate / load ------------------------------------------------------------------------

def _print_notices(notices: list[str]) -> None:
    for n in notices:
        click.echo(f"notice: {n}", err=True)


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
    from .errors import InputError
    from .validation import collect

    try:
        coll = collect(list(paths))
    except InputError as e:
        if fmt == "json":
            click.echo(json.dumps({"valid": False, "errors": [p.__dict__ for p in e.problems]},
                                  ensure_ascii=False, indent=2))
            sys.exit(e.exit_code)
        raise
    _print_notices(coll.notices)
    from .seal import validation_warnings

    warnings = validation_warnings(coll)
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    if fmt == "json":
        click.echo(json.dumps({"valid": True, "files": coll.files, "records": coll.records,
                               "cases": sorted(coll.cases), "warnings": warnings}, indent=2))
    else:
        click.echo(f"valid: {coll.records} records in {coll.files} files "
                   f"(case{'s' if len(coll.cases) != 1 else ''}: {', '.join(sorted(coll.cases))})")


def _summary_text(summary: dict[str, Any], dry_run: bool, *, unloaded: bool = False) -> str:
    from .render import table

    verb = "would change" if dry_run else ("unloaded" if unloaded else "loaded")
    n = len(summary["cases"])
    head = (f"{'Dry run, nothing written: ' if dry_run else ''}" + (
        f"case {', '.join(summary['cases'])} ({verb}):\n" if unloaded else
        f"{summary['records']} records from {summary['files']} files, case{'s' if n != 1 else ''} "
        f"{', '.join(summary['cases'])} ({verb}):\n"))
    ops = ("created", "updated", "deleted", "unchanged")
    nodes = table(["nodes", *ops], [[k, *(str(v[op]) for op in ops)]
                                    for k, v in summary["nodes"].items()])
    rels = table(["relationships", *ops], [[k, *(str(v[op]) for op in ops)]
                                           for k, v in summary["relationships"].items()])
    strip = lambda t: "\n".join(t.splitlines()[:-1]) + "\n"  # noqa: E731 - drop the row count
    removed = summary.get("removed") or []
    tail = ""
    if removed and not unloaded:
        by_case: dict[str, list[str]] = {}
        for r in removed:
            by_case.setdefault(r["case"], []).append(r["record"])
        for case, recs in sorted(by_case.items()):
            shown = ", ".join(recs[:10]) + (f" and {len(recs) - 10} more" if len(recs) > 10 else "")
            tail += (f"\nremoved: {len(recs)} record{'s' if len(recs) != 1 else ''} no longer in "
                     f"case {case}'s files: {shown}\n")
    if summary.get("phases"):
        tail += "\ntime by phase: " + ", ".join(f"{k} {v:.1f} s" for k, v in
                                               summary["phases"].items()) + "\n"
    return head + strip(nodes) + "\n" + strip(rels) + tail


def _write_changes(plan: Any, changes: Optional[Path], verbose: bool) -> None:
    """The change list: each created / updated / deleted node and relationship."""
    if plan.log is None:
        return
    lines = [json.dumps(c, ensure_ascii=False, sort_keys=True, default=str) for c in plan.log]
    if changes is not None:
        emit("".join(line + "\n" for line in lines), changes)
    if verbose:
        for c in plan.log:
            what = c.get("node") or f"{c['start']} -[{c['relationship']}]-> {c['end']}"
            fields = "".join(f"\n    {k}: {json.dumps(v[0], ensure_ascii=False, default=str)} -> "
                             f"{json.dumps(v[1], ensure_ascii=False, default=str)}"
                             for k, v in (c.get("fields") or {}).items())
            click.echo(f"  {c['op']}: {what}{fields}", err=True)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--allow-existing", is_flag=True,
              help="Let references resolve to entities already in the database.")
@click.option("--mapping", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Load CSV/TSV/XLSX sheets through this mapping (e.g. loaders/acled.yaml).")
@click.option("--format", "input_format", type=click.Choice(("records", "ftm")), default="records",
              show_default=True, help="What PATHS hold: kg records, or FollowTheMoney entities (JSON lines).")
@click.option("--dry-run", is_flag=True, help="Validate and show what would change; write nothing.")
@click.option("--bulk", is_flag=True,
              help="First load into an empty local database via neo4j-admin import (offline: "
                   "the server is stopped and restarted). For millions of records.")
@click.option("--batch-size", type=click.IntRange(1, 1_000_000), default=5_000, show_default=True,
              help="Rows per write transaction.")
@click.option("--confidential-dates", type=click.Choice(("day", "month", "year", "none")),
              envvar="KG_CONFIDENTIAL_DATES", show_envvar=True, default="day", show_default=True,
              help="The precision at which confidential records keep their dates in the "
                   "graph (the exact dates are sealed with the rest).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--verbose", "-v", is_flag=True,
              help="List each created, updated and deleted node and relationship (stderr).")
@click.option("--changes", type=click.Path(dir_okay=False, path_type=Path),
              help="Write that list as JSON lines to this file.")
def load(paths: tuple[Path, ...], allow_existing: bool, mapping: Optional[Path],
         input_format: str, dry_run: bool, bulk: bool, batch_size: int,
         confidential_dates: str, as_json: bool, quiet: bool, verbose: bool,
         changes: Optional[Path]) -> None:
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
    from .config import load_settings
    from .loader import bulk_load
    from .loader import load as do_load
    from .store import open_store

    def bar(total: int) -> Any:
        show = not quiet and total >= 20_000 and sys.stderr.isatty()
        if not show:
            return _NoBar()
        return click.progressbar(length=total, label="writing", file=sys.stderr)

    from .judgements import is_judgements_file
    from .resolve import apply as apply_judgements

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
            plan = do_load(store, list(paths), allow_existing=allow_existing, dry_run=dry_run,
                           batch_size=batch_size, progress_factory=bar, mapping=mapping,
                           input_format=input_format, changes=verbose or changes is not None,
                           confidential_dates=confidential_dates)
        resolved = None
        if judged or (plan is not None and plan.writes() and not dry_run):
            resolved = apply_judgements(store, judged, dry_run=dry_run)
    if plan is not None:
        _print_notices(plan.coll.notices)
        _write_changes(plan, changes, verbose)
        summary = plan.summary()
        if as_json:
            click.echo(json.dumps({"dry_run": dry_run, **summary,
                                   **({"resolve": resolved.as_dict()} if resolved else {})},
                                  indent=2))
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
@click.option("--verbose", "-v", is_flag=True,
              help="List each updated and deleted node and relationship (stderr).")
@click.option("--changes", type=click.Path(dir_okay=False, path_type=Path),
              help="Write that list as JSON lines to this file.")
@with_store
def unload(store: Any, case: str, dry_run: bool, as_json: bool, verbose: bool,
           changes: Optional[Path]) -> None:
    """Remove exactly what one case contributed.

    Entities only CASE defines are deleted; entities other cases define too lose CASE's
    definition (its aliases, citations, values and relationships) and keep everything else.
    Afterwards the graph is the one you get by never loading CASE. Refused, writing nothing,
    if another case still refers to an entity only CASE defines.
    """
    from .loader import unload as do_unload

    plan = do_unload(store, case, dry_run=dry_run, changes=verbose or changes is not None)
    if plan.writes() and not dry_run:  # merges (kg resolve) of what is left, as after a load
        from .resolve import reapply

        reapply(store)
    _print_notices(plan.coll.notices)
    _write_changes(plan, changes, verbose)
    summary = plan.summary()
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, **summary}, indent=2))
    else:
        click.echo(_summary_text(summary, dry_run, unloaded=True), nl=False)


@cli.command("map")
@click.argument("sheets", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The mapping (e.g. loaders/statements.yaml).")
@format_option(("yaml", "jsonl"), default="yaml")
@out_option
def map_command(sheets: tuple[Path, ...], mapping: Path, fmt: str, out: Optional[Path]) -> None:
    """Print the records a sheet makes through a mapping, for a curator to review.

    Nothing is loaded. Problems in rows are reported by row and column.
    """
    import yaml as _yaml

    from .tabular import load_mapping, mapped_raws

    raws = mapped_raws(load_mapping(mapping), list(sheets))
    if fmt == "jsonl":
        text = "".join(json.dumps({"record": r.kind, **r.data}, ensure_ascii=False) + "\n" for r in raws)
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
    from .config import load_settings
    from .safeio import require_free, tree_size

    settings = load_settings()
    if not settings.managed:
        return  # another machine's disk, or one kg cannot see
    size = sum(tree_size(p) for p in paths if p.exists())
    require_free(settings.home / "neo4j" / "data", factor * size, "this load")


class _NoBar:
    def __enter__(self) -> "_NoBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def update(self, n: int) -> None:
        return None


# --- cypher ---------------------------------------------------------------------------------

@cli.command()
@click.argument("query")
@params_option
@format_option()
@out_option
@click.option("--write", is_flag=True, help="Allow the query to write (default: read-only).")
@click.option("--allow-outbound-urls", is_flag=True,
              help="With --write: allow LOAD CSV, which makes the server fetch URLs and can "
                   "send graph data off the machine. Read docs/reliability.md first.")
@timeout_option
@click.option("--as-of", "as_of", metavar="DATE",
              help="Send $as_of, the last day of DATE (a Neo4j date), for your query to use: "
                   "a source is known by then when s.known_by <= $as_of.")
@confidential_option
@with_store
def cypher(store: Any, query: str, params: tuple[str, ...], fmt: str, out: Optional[Path],
           write: bool, allow_outbound_urls: bool, timeout: Optional[float],
           as_of: Optional[str],
           include_confidential: bool) -> None:
    """Run one Cypher QUERY, read-only unless --write is given.

    Read-only is checked on the query's plan before it runs: LOAD CSV, procedures outside a
    read allow-list and administration commands (SHOW/TERMINATE TRANSACTIONS, SHOW SETTINGS,
    ...) are refused, naming the operator.

    Records marked confidential are redacted in the output unless --include-confidential.

    Confidential records are sealed in the database: a query sees placeholders, dates and
    structure only. --include-confidential unseals what the query returns, on this machine.

    Example: kg cypher 'MATCH (p:Person) WHERE p.name CONTAINS $q RETURN p.name' -p q=Kadyrov
    """
    from .render import render

    if allow_outbound_urls and not write:
        raise UsageError("--allow-outbound-urls goes with --write")
    store.timeout = timeout
    values = parse_params(params)
    if as_of is not None:
        if "as_of" in values:
            raise UsageError("give --as-of or -p as_of=, not both")
        values["as_of"] = _as_of_day(as_of)
    result = store.run_user(query, values, write=write, allow_outbound=allow_outbound_urls)
    keys = list(result.keys)
    emit(render(keys, redacted_rows(store, keys, result.records, include_confidential), fmt), out,
         private=include_confidential)


# --- saved queries --------------------------------------------------------------------------

def queries_option(fn: Callable) -> Callable:
    return click.option("--queries", "query_dirs", multiple=True,
                        type=click.Path(file_okay=False, path_type=Path),
                        help="A folder of your own .cypher queries (repeatable; also "
                             "KG_QUERIES, a path list). Same name overrides the bundled one.")(fn)


@cli.group(cls=KgGroup)
def query() -> None:
    """Saved Cypher queries: the investigator's question library."""


@query.command("list")
@queries_option
@format_option(("table", "json"))
def query_list(query_dirs: tuple[Path, ...], fmt: str) -> None:
    """List the saved queries, grouped by category, with where each comes from."""
    from .queries import Library

    lib = Library.load(query_dirs)
    qs = sorted(lib.queries.values(), key=lambda q: (q.category, q.name))
    if fmt == "json":
        click.echo(json.dumps([q.as_dict() for q in qs], indent=2, ensure_ascii=False))
        return
    category = None
    for q in qs:
        if q.category != category:
            category = q.category
            click.echo(f"{'' if q is qs[0] else chr(10)}{category}:")
        origin = "" if q.origin == "bundled" else \
            f"  [{q.origin}{', overrides the bundled query' if q.overrides else ''}]"
        write = "  (writes)" if q.mode == "write" else ""
        click.echo(f"  {q.name:<20} {q.title}{write}{origin}")


@query.command("show")
@click.argument("name")
@queries_option
def query_show(name: str, query_dirs: tuple[Path, ...]) -> None:
    """Show a saved query's documentation and its Cypher."""
    from .queries import Library

    q = Library.load(query_dirs).get(name)
    click.echo(f"{q.name}: {q.title}\n\n{q.description}\n")
    click.echo(f"category: {q.category}; mode: {q.mode}; returns: {q.returns}; from: {q.path}")
    if q.params:
        click.echo("parameters:")
        for p in q.params:
            req = "required" if p.required else f"default {p.default!r}"
            one_of = f" (one of: {', '.join(p.values)})" if p.values is not None else ""
            click.echo(f"  {p.name} ({p.type}, {req}): {p.description}{one_of}")
    click.echo(f"\n{q.cypher}")


@query.command("run")
@click.argument("name")
@params_option
@queries_option
@format_option(OUTPUT_FORMATS)
@out_option
@click.option("--export", "export_fmt", type=click.Choice(("html", "graphml", "gexf", "json", "csv", "cypher")),
              help="Write the nodes, relationships and paths the query returns with this exporter "
                   "(needs --out).")
@timeout_option
@as_of_option
@confidential_option
@with_store
def query_run(store: Any, name: str, params: tuple[str, ...], query_dirs: tuple[Path, ...],
              fmt: str, out: Optional[Path], export_fmt: Optional[str], timeout: Optional[float],
              as_of: Optional[str], include_confidential: bool) -> None:
    """Run saved query NAME with typed parameters (-p name=value).

    Read queries run in read transactions: a read query that tries to write fails and
    changes nothing. Records marked confidential are redacted unless --include-confidential.
    """
    from . import queries as Q
    from .render import render

    lib = Q.Library.load(query_dirs)
    q = lib.get(name)
    store.timeout = timeout
    given = Q.parse_cli_params(params)
    if given.get("case") is not None and any(p.name == "case" for p in q.params):
        from .suggest import did_you_mean

        known = store.case_ids()
        if given["case"] not in known:
            raise UsageError(f"-p case: no case {given['case']!r} is loaded"
                             + did_you_mean(str(given["case"]), known),
                             hint="`kg query run cases` lists the loaded cases.")
    if as_of is not None:
        if "as_of" not in {p.name for p in q.params}:
            takes = sorted(n for n, x in lib.queries.items() if any(p.name == "as_of" for p in x.params))
            raise UsageError(f"query {name!r} does not take --as-of (it has no as_of parameter)",
                             hint=f"These do: {', '.join(takes)}.")
        if "as_of" in given:
            raise UsageError("give --as-of or -p as_of=, not both")
        _as_of_day(as_of)
        given["as_of"] = as_of
    if export_fmt:
        from .export import export as do_export
        from .selection import Selection, select

        if out is None:
            raise UsageError("--export needs --out FILE")
        if include_confidential:
            warn_confidential()
        sel = Selection(query=name, params=stored_params(store, given), query_dirs=query_dirs,
                        as_of=_as_of_day(as_of))
        sub = select(store, sel, include_confidential=include_confidential,
                     with_citations=export_fmt == "html")
        written = do_export(sub, export_fmt, out, title=f"kg: {q.title}")
        click.echo(f"exported {len(sub.nodes)} nodes and {len(sub.edges)} relationships to "
                   f"{', '.join(str(p) for p in written)}")
        return
    bound = Q.bind(q, stored_params(store, given))
    result = Q.run(store, q, bound)
    keys = list(result.keys)
    emit(render(keys, redacted_rows(store, keys, result.records, include_confidential), fmt), out,
         private=include_confidential)


# --- find -----------------------------------------------------------------------------------

@cli.command()
@click.argument("text")
@click.option("--limit", type=click.IntRange(1), default=25, show_default=True,
              help="At most this many entities.")
@format_option()
@confidential_option
@with_store
def find(store: Any, text: str, limit: int, fmt: str, include_confidential: bool) -> None:
    """Find entities by a word or words of their name, aliases, title, text or description.

    Searches the full-text index, which holds public text and placeholders only. With
    --include-confidential, sealed records are also opened on this machine (with the key)
    and searched word by word, ignoring letter case and accents: a cleared user finds a
    witness by one word of the hidden name.
    """
    from .render import render, rows_to_plain
    from .seal import Unsealer, mask, words

    escaped = re.sub(r'([+\-!(){}\[\]^"~*?:\\/]|&&|\|\|)', r"\\\1", text)
    res = store.read("CALL db.index.fulltext.queryNodes('entity_text', $q) YIELD node, score "
                     "RETURN node.id AS id, [l IN labels(node) WHERE l <> 'Entity'][0] AS kind, "
                     "coalesce(node.name, node.title, node.text) AS name, score "
                     "ORDER BY score DESC, id LIMIT $limit", {"q": escaped, "limit": limit})
    keys = ["id", "kind", "name", "score"]
    rows = rows_to_plain(keys, res.records)
    if include_confidential:
        warn_confidential()
        uns = Unsealer.from_store(store)
        wanted = set(words(text))
        seen = {r["id"] for r in rows}
        hits = []
        for sid, node in sorted(uns.nodes.items()):
            if sid in seen or not wanted:
                continue
            found: set[str] = set()
            for v in node["props"].values():
                for item in (v if isinstance(v, list) else [v]):
                    if isinstance(item, str):
                        found.update(words(item))
            if wanted <= found:
                kind = next((lb for lb in node["labels"] if lb != "Entity"), "Entity")
                hits.append({"id": sid, "kind": kind, "name": sid, "score": None})
        rows = uns.value(rows + hits)[:limit]
        for r, hit in zip(rows[len(rows) - len(hits):], hits):
            if r["name"] == hit["id"] or r["name"] == r["id"]:
                node = uns.nodes[hit["id"]]
                r["name"] = next((node["props"][k] for k in ("name", "title", "text")
                                  if k in node["props"]), r["id"])
    else:
        rows = mask(rows)
    click.echo(render(keys, rows, fmt), nl=False)


# --- selection, export, analyze ------------------------------------------------------------

def selection_options(fn: Callable) -> Callable:
    opts = [
        click.option("--case", help="Only entities of this case."),
        click.option("--around", metavar="ID", help="Only entities within --hops of this one."),
        click.option("--hops", type=click.IntRange(0, 10), default=2, show_default=True,
                     help="With --around: how many steps out."),
        click.option("--kinds", metavar="KIND,...",
                     help="Only these kinds: person, organization, location, event, statement, source."),
        click.option("--query", "query_name", metavar="NAME",
                     help="The nodes, relationships and paths a saved query returns."),
        click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
                     help="A parameter of --query (repeatable)."),
        click.option("--since", metavar="DATE", help="Only dated entities overlapping from this date."),
        click.option("--until", metavar="DATE", help="Only dated entities overlapping up to this date."),
        as_of_option,
        queries_option,
        click.option("--separate", is_flag=True,
                     help="Show entities merged by `kg resolve apply` as their separate ids "
                          "(default: one node listing all its ids)."),
        confidential_option,
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def build_selection(case: Optional[str], around: Optional[str], hops: int, kinds: Optional[str],
                    query_name: Optional[str], params: tuple[str, ...], since: Optional[str],
                    until: Optional[str], query_dirs: tuple[Path, ...],
                    as_of: Optional[str] = None, separate: bool = False) -> Any:
    from .dates import PartialDate
    from .queries import parse_cli_params
    from .selection import Selection, parse_kinds

    def date(value: Optional[str], name: str, last: bool) -> Any:
        if value is None:
            return None
        try:
            d = PartialDate.parse(value)
        except ValueError as e:
            raise UsageError(f"{name}: {e}") from None
        return d.last if last else d.first

    if params and not query_name:
        raise UsageError("-p goes with --query NAME")
    return Selection(case=case, around=around, hops=hops, kinds=parse_kinds(kinds),
                     query=query_name, params=parse_cli_params(params),
                     since=date(since, "--since", False), until=date(until, "--until", True),
                     query_dirs=query_dirs, as_of=_as_of_day(as_of), separate=separate)


@cli.command()
@click.argument("fmt", metavar="FORMAT", type=click.Choice(("html", "graphml", "gexf", "json", "csv", "cypher", "ftm")))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="The file to write (for csv: a folder for nodes.csv and relationships.csv).")
@selection_options
@click.option("--size-by", type=click.Choice(("importance", "degree", "pagerank", "betweenness")),
              default="importance", show_default=True,
              help="html: node size by this measure (importance: distinct entities tied to a node "
                   "by relationships other than citations).")
@click.option("--focus", "focus_id", metavar="ID",
              help="html: open the page on this entity and its neighbourhood (the whole graph is "
                   "one click away).")
@click.option("--title", help="html: the page title.")
@with_store
def export(store: Any, fmt: str, out: Path, case: Optional[str], around: Optional[str], hops: int,
           kinds: Optional[str], query_name: Optional[str], params: tuple[str, ...],
           since: Optional[str], until: Optional[str], as_of: Optional[str],
           query_dirs: tuple[Path, ...], separate: bool, include_confidential: bool,
           size_by: str, focus_id: Optional[str], title: Optional[str]) -> None:
    """Export a selection of the graph as FORMAT: html, graphml, gexf, json, csv, cypher or ftm.

    Records marked confidential show as their placeholders (structure kept, sealed values
    left out) unless --include-confidential is given.
    """
    from .export import export as do_export
    from .selection import select

    sel = build_selection(case, around, hops, kinds, query_name, params, since, until, query_dirs,
                          as_of, separate)
    sel.params = stored_params(store, sel.params)
    if include_confidential:
        warn_confidential()
    sub = select(store, sel, include_confidential=include_confidential,
                 with_citations=fmt == "html")
    heading = title or f"kg: {sel.describe()}"
    if not include_confidential:  # no hidden name or id in a title or file metadata
        from .seal import hidden_scrubber

        heading = hidden_scrubber(store)[0].scrub(heading)
    if focus_id and fmt != "html":
        raise UsageError("--focus goes with the html format")
    options = {"size_by": size_by, "focus": focus_id} if fmt == "html" else {}
    written = do_export(sub, fmt, out, title=heading, **options)
    click.echo(f"exported {len(sub.nodes)} nodes and {len(sub.edges)} relationships "
               f"({sel.describe()}) to {', '.join(str(p) for p in written)}")


@cli.command()
@click.argument("what", type=click.Choice(("centrality", "communities", "brokers", "paths")),
                default="centrality")
@selection_options
@click.option("--from", "from_id", metavar="ID", help="paths: one end.")
@click.option("--to", "to_id", metavar="ID", help="paths: the other end.")
@click.option("--top", type=click.IntRange(1), help="Only the first N rows.")
@click.option("--write-back", is_flag=True,
              help="centrality, communities: store the results as node properties "
                   "(analysis_degree, analysis_pagerank, analysis_betweenness, analysis_community).")
@click.option("--with-sources", is_flag=True,
              help="Analyse sources too (by default they are left out: a source citing many "
                   "entities would rank as the most central one).")
@format_option(("table", "json", "csv"))
@out_option
@with_store
def analyze(store: Any, what: str, case: Optional[str], around: Optional[str], hops: int,
            kinds: Optional[str], query_name: Optional[str], params: tuple[str, ...],
            since: Optional[str], until: Optional[str], as_of: Optional[str],
            query_dirs: tuple[Path, ...], separate: bool, include_confidential: bool,
            from_id: Optional[str], to_id: Optional[str], top: Optional[int], write_back: bool,
            with_sources: bool, fmt: str, out: Optional[Path]) -> None:
    """Network analysis of a selection with networkx.

    centrality: degree, PageRank and betweenness, ranked. communities: Louvain communities
    with their members. brokers: entities linking two or more communities. paths: all
    shortest paths between --from and --to. Sources are left out (an article citing
    everyone is not a central actor) unless --with-sources, or --kinds names them.
    """
    from . import analyze as A
    from .render import render
    from .seal import Unsealer, stored_id
    from .selection import select

    sel = build_selection(case, around, hops, kinds, query_name, params, since, until, query_dirs,
                          as_of, separate)
    sub = select(store, sel)  # placeholders: write-back finds sealed nodes by their stored id
    if not with_sources and not (sel.kinds and "source" in sel.kinds):
        A.drop_sources(sub)
    if what == "centrality":
        rows = A.centrality(sub)
        if write_back:
            store.write("UNWIND $rows AS row MATCH (n:Entity {id: row.id}) "
                        "SET n.analysis_degree = row.degree_centrality, "
                        "n.analysis_pagerank = row.pagerank, "
                        "n.analysis_betweenness = row.betweenness", {"rows": rows})
        rows = rows[:top] if top else rows
        keys = ["rank", "id", "kind", "name", "degree", "degree_centrality", "pagerank", "betweenness"]
    elif what == "communities":
        rows = A.community_rows(sub)
        if write_back:
            store.write("UNWIND $rows AS row UNWIND row.ids AS id MATCH (n:Entity {id: id}) "
                        "SET n.analysis_community = row.community", {"rows": rows})
        rows = rows[:top] if top else rows
        keys = ["community", "size", "members", "ids"]
    elif what == "brokers":
        rows = A.brokers(sub, top)
        keys = ["id", "kind", "name", "community", "bridges", "betweenness"]
    else:
        if not (from_id and to_id):
            raise UsageError("`kg analyze paths` needs --from ID and --to ID")
        rows = A.paths(sub, stored_id(store, from_id), stored_id(store, to_id))
        keys = ["path", "hops", "ids", "names"]
    if write_back and what in ("centrality", "communities"):
        click.echo(f"wrote analysis_* properties on {len(sub.nodes)} nodes", err=True)
    if include_confidential:
        warn_confidential()
        rows = Unsealer.from_store(store).value(rows)
    emit(render(keys, rows, fmt), out, private=include_confidential)


# --- resolve --------------------------------------------------------------------------------

def _kinds_option(fn: Callable) -> Callable:
    return click.option("--kinds", metavar="KIND,...", default="person,organization,location",
                        show_default=True, help="Which kinds of entity to compare.")(fn)


def _parse_resolve_kinds(kinds: str) -> list[str]:
    from .resolve_store import RESOLVABLE

    out = [k.strip() for k in kinds.split(",") if k.strip()]
    bad = [k for k in out if k not in RESOLVABLE]
    if bad or not out:
        raise UsageError(f"--kinds: {', '.join(bad) or '(none)'}: expected some of "
                         f"{', '.join(RESOLVABLE)}")
    return out


def _apply_summary(report: Any) -> str:
    waiting = f", {len(report.waiting)} waiting for ids not loaded" if report.waiting else ""
    return (f"judgements in force: {report.judgements} (cases {', '.join(report.cases) or '-'}); "
            f"same_as applied: {report.applied}{waiting}; merged entities: {report.groups}; "
            f"SAME_AS edges created {report.edges_created}, updated {report.edges_updated}, "
            f"deleted {report.edges_deleted}\n")


@cli.group(cls=KgGroup)
def resolve() -> None:
    """Entity resolution: one person, many spellings, across cases, sheets and FtM.

    `candidates` lists pairs that may be one entity, with a score and reasons; `review` walks
    them and writes each decision to a judgements file (a case of its own, see
    docs/record-format.md); `apply` makes the judgements count: merged entities answer to
    every id, name and alias in saved queries and search. `kg load` honours them too.
    """


@resolve.command("candidates")
@_kinds_option
@click.option("--min-score", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Only pairs scoring at least this.")
@click.option("--case", help="Only pairs with at least one entity of this case.")
@click.option("--top", type=click.IntRange(1), help="Only the first N pairs.")
@format_option()
@out_option
@confidential_option
@with_store
def resolve_candidates(store: Any, kinds: str, min_score: float, case: Optional[str],
                       top: Optional[int], fmt: str, out: Optional[Path],
                       include_confidential: bool) -> None:
    """Pairs of entities of one kind that may be one, best first, with the reasons.

    Pairs already merged or judged not_same are left out. Confidential entities are
    redacted unless --include-confidential.
    """
    from .render import render
    from .resolve import CANDIDATE_KEYS, candidates

    rows = candidates(store, _parse_resolve_kinds(kinds), min_score=min_score, case=case)
    rows = rows[:top] if top else rows
    rows = [{k: r[k] for k in CANDIDATE_KEYS} for r in rows]
    if include_confidential:
        warn_confidential()
    else:
        from .redact import Redactor

        rows = Redactor.from_store(store).value(rows)
    emit(render(CANDIDATE_KEYS, rows, fmt), out)


def _card(card: dict[str, Any], side: str) -> str:
    p = card["props"]
    lines = [f"  {side}: {p.get('id')}  ({(card.get('label') or '').lower()})  "
             f"cases: {', '.join(p.get('cases') or []) or '-'}"
             + ("  CONFIDENTIAL" if p.get("confidential") else ""),
             f"     name: {p.get('name') or p.get('title')}"]
    if p.get("aliases"):
        lines.append(f"     aliases: {', '.join(p['aliases'])}")
    if p.get("description"):
        lines.append(f"     description: {p['description']}")
    for link in card.get("links") or []:
        lines.append(f"     {link}")
    if card.get("statements"):
        lines.append(f"     statements: {card['statements']}")
    for src in card.get("sources") or []:
        lines.append(f"     source: {src}")
    if card.get("merged_with"):
        lines.append(f"     already merged with: {', '.join(card['merged_with'])}")
    return "\n".join(lines)


@resolve.command("review")
@click.argument("judgements_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--who", envvar="KG_WHO", show_envvar=True,
              help="Who decides (written with each judgement; default: your login name).")
@_kinds_option
@click.option("--min-score", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Only pairs scoring at least this.")
@click.option("--case", help="Only pairs with at least one entity of this case.")
@click.option("--include-confidential", is_flag=True,
              help="Also review pairs with a confidential entity (shown in full on this terminal).")
@with_store
def resolve_review(store: Any, judgements_file: Path, who: Optional[str], kinds: str,
                   min_score: float, case: Optional[str], include_confidential: bool) -> None:
    """Walk the candidates in the terminal: same, different, skip or quit.

    Each decision is appended at once to JUDGEMENTS_FILE (made if missing) as same_as or
    not_same with who, when and why. Nothing changes in the graph until
    `kg resolve apply JUDGEMENTS_FILE`. Pairs judged in the file are not asked again.
    """
    import getpass

    from . import judgements as J
    from .resolve import candidates
    from .resolve_store import cards

    who = who or getpass.getuser()
    judged = J.read(judgements_file).judgements if judgements_file.exists() else []
    done = {j.pair for j in judged}
    rows = candidates(store, _parse_resolve_kinds(kinds), min_score=min_score, case=case)
    hidden = sum(1 for r in rows if r["confidential"]) if not include_confidential else 0
    rows = [r for r in rows if (include_confidential or not r["confidential"])
            and tuple(sorted((r["id_a"], r["id_b"]))) not in done]
    if hidden:
        click.echo(f"notice: {hidden} pairs with a confidential entity are not shown "
                   "(--include-confidential shows them)", err=True)
    if not rows:
        click.echo("no candidates to review")
        return
    counts = {"same_as": 0, "not_same": 0}
    for n, r in enumerate(rows, 1):
        cs = cards(store, [r["id_a"], r["id_b"]])
        click.echo(f"\n[{n}/{len(rows)}] score {r['score']:.3f}  {r['kind']}\n  why: {r['reasons']}")
        for side, eid in (("A", r["id_a"]), ("B", r["id_b"])):
            if eid in cs:
                click.echo(_card(cs[eid], side))
        answer = click.prompt("same / different / skip / quit", default="skip",
                              type=click.Choice(["same", "different", "skip", "quit",
                                                 "s", "d", "k", "q"]), show_choices=False)
        answer = {"s": "same", "d": "different", "k": "skip", "q": "quit"}.get(answer, answer)
        if answer == "quit":
            break
        if answer == "skip":
            continue
        decision = "same_as" if answer == "same" else "not_same"
        why = click.prompt("why", default=f"score {r['score']:.2f}: {r['reasons']}")
        J.append(judgements_file, decision, r["id_a"], r["id_b"], who, why)
        counts[decision] += 1
    click.echo(f"\nwrote {counts['same_as']} same_as and {counts['not_same']} not_same to "
               f"{judgements_file}; `kg resolve apply {judgements_file}` makes them count")


@resolve.command("apply")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and say what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@with_store
def resolve_apply(store: Any, files: tuple[Path, ...], dry_run: bool, as_json: bool) -> None:
    """Store judgements FILES (each replaces what its case held) and merge accordingly.

    With no FILES, re-applies the judgements already stored. A judgement naming an id that
    is not loaded waits until it is. Deleting a judgement from its file and applying the
    file again undoes the merge.
    """
    from .resolve import apply

    report = apply(store, list(files), dry_run=dry_run)
    _print_notices(report.notices)
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, **report.as_dict()}, indent=2))
    else:
        click.echo(("Dry run, nothing written: " if dry_run else "") + _apply_summary(report), nl=False)


@resolve.command("status")
@format_option(("table", "json"))
@with_store
def resolve_status(store: Any, fmt: str) -> None:
    """The judgements cases stored, with how many judgements wait for ids not loaded."""
    from .render import render
    from .resolve import status as do_status

    keys = ["case", "same_as", "not_same", "waiting", "file"]
    click.echo(render(keys, do_status(store), fmt), nl=False)


@resolve.command("forget")
@click.argument("case")
@with_store
def resolve_forget(store: Any, case: str) -> None:
    """Remove judgements case CASE from the graph and undo its merges."""
    from .resolve import forget

    click.echo(_apply_summary(forget(store, case)), nl=False)


# --- db -------------------------------------------------------------------------------------

@cli.group(cls=KgGroup)
def db() -> None:
    """Run kg's local Neo4j (or report on the configured one)."""


def _local() -> Any:
    from .config import kg_home, managed_port
    from .runtime import LocalNeo4j

    if os.environ.get("KG_NEO4J_URI"):
        raise UsageError("KG_NEO4J_URI is set: kg uses that server and does not manage it.",
                         hint="Unset KG_NEO4J_URI to use kg's own local Neo4j.")
    return LocalNeo4j(kg_home(), managed_port())


@db.command()
def start() -> None:
    """Start the local Neo4j (provisioning it on first use); returns when Bolt answers and
    the server has run kg's own queries once (a small generated case loaded, read and
    unloaded: the graph stays as it was), so the first load is not slowed by a cold server.
    KG_WARMUP=0 skips that."""
    local = _local()
    before = local.status().running
    status = local.start(warm=True)
    word = "already running" if before else "started"
    warmed = f"; warmed up in {local.warmed_s:.0f} s" if local.warmed_s else ""
    click.echo(f"Neo4j {status.version} {word} at {status.uri} ({status.runtime}); "
               f"password in {status.password_file}{warmed}")


@db.command()
def stop() -> None:
    """Stop the local Neo4j."""
    click.echo("stopped" if _local().stop() else "not running")


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def status(as_json: bool) -> None:
    """Say what is running where (never prints the password)."""
    from .config import load_settings

    if os.environ.get("KG_NEO4J_URI"):
        settings = load_settings()
        from .store import open_store

        version, running = "", False
        try:
            with open_store(settings) as store:
                version, running = store.server_version(), True
        except KgError:
            pass
        info = {"uri": settings.describe(), "user": settings.user, "database": settings.database,
                "version": version, "running": running,
                "password_file": str(settings.password_file) if settings.password_file else None,
                "runtime": "external"}
    else:
        info = _local().status().as_dict()
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        state = "running" if info["running"] else "not running"
        click.echo(f"{state}: {info['uri']} (user {info['user']}, database {info['database']}, "
                   f"Neo4j {info['version'] or '?'}, {info['runtime']})")
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
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The dump file to write (mode 0600).")
@click.option("--with-key", is_flag=True,
              help="Also write the sealing key next to it (OUT.key, mode 0600). Without it, "
                   "the dump shows confidential records as placeholders only.")
def dump(out: Path, with_key: bool) -> None:
    """Back up kg's local database to a file (neo4j-admin dump; stops and restarts it).

    Confidential records are sealed in the dump; the key is not in it unless --with-key."""
    from .seal import key_path, read_key_file, write_key_file

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
    from .seal import Keyring, load_key, read_key_file

    _local().restore(dump_file)
    click.echo(f"restored the database from {dump_file}")
    kfile = Path(f"{dump_file}.key")
    if kfile.exists():
        mine = load_key()
        theirs = Keyring(read_key_file(kfile)).fingerprint
        if mine is None or mine.fingerprint != theirs:
            click.echo(f"note: {kfile} holds the key its sealed records need (fingerprint "
                       f"{theirs}); install it with `kg key import {kfile}`", err=True)


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

    from .config import load_settings
    from .loader import load as do_load
    from .store import open_store
    from .validation import collect

    if not yes:
        raise UsageError("`kg db reseal` rebuilds the whole database from PATHS; add --yes "
                         "to confirm.")
    local = _local()
    coll = collect(list(paths))
    with open_store(load_settings()) as store:
        held = {r["c"] for r in store.read("MATCH (n:Entity) UNWIND n.cases AS c "
                                           "RETURN DISTINCT c").records}
    missing = sorted(held - set(coll.cases))
    if missing:
        raise UsageError(f"the database holds case{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)}, which PATHS do not: nothing was changed.",
                         hint="Give the record files of every case the database holds.")
    local.stop()
    for sub in ("databases/neo4j", "transactions/neo4j"):
        shutil.rmtree(local.data_dir / sub, ignore_errors=True)
    local.start()
    with open_store(load_settings()) as store:
        plan = do_load(store, list(paths))
    click.echo(f"resealed: the database was rebuilt from {plan.coll.records} records "
               f"({', '.join(sorted(plan.coll.cases))}); no clear text of confidential "
               "records is left in its store files or transaction logs")


# --- keys -----------------------------------------------------------------------------------

@cli.group(cls=KgGroup)
def key() -> None:
    """The sealing key: confidential records are encrypted with it (KG_HOME/seal.key).

    Made on the first load of a confidential record, readable by its owner only, never
    printed. Without it sealed values cannot be read by anyone: back it up (`kg key
    export`) somewhere as safe as the case files. Losing it loses the sealed values; the
    structure (placeholders, dates, relationships) stays.
    """


@key.command("show")
def key_show() -> None:
    """Where the key is and its fingerprint (never the key itself)."""
    from .seal import key_path, load_key

    keys = load_key()
    if keys is None:
        click.echo(f"no sealing key yet ({key_path()} is made on the first confidential load)")
        return
    click.echo(f"key file: {key_path()}\nfingerprint: {keys.fingerprint}")


@key.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write (mode 0600). Keep it apart from dumps and exports.")
def key_export(out: Path) -> None:
    """Copy the key to a file, to move it to another trusted machine or back it up."""
    from .seal import key_path, read_key_file, write_key_file

    path = key_path()
    if not path.exists():
        raise UsageError(f"there is no sealing key at {path} yet")
    try:
        write_key_file(out, read_key_file(path))
    except FileExistsError:
        raise UsageError(f"{out} exists; not overwritten") from None
    click.echo(f"wrote the sealing key to {out} (mode 0600)", err=True)


@key.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--replace", is_flag=True,
              help="Replace a different key this installation already has.")
def key_import(file: Path, replace: bool) -> None:
    """Install a key exported with `kg key export` (or saved by `kg db dump --with-key`)."""
    from .seal import Keyring, key_path, load_key, read_key_file, write_key_file

    new = read_key_file(file)
    fp = Keyring(new).fingerprint
    old = load_key()
    if old is not None and old.fingerprint != fp and not replace:
        raise UsageError(f"this installation already has another key (fingerprint "
                         f"{old.fingerprint}); the file's is {fp}. Nothing was changed.",
                         hint="Export the current key first (`kg key export`), then re-run "
                              "with --replace.")
    write_key_file(key_path(), new, overwrite=True)
    click.echo(f"imported the sealing key (fingerprint {fp}) to {key_path()}")


def main() -> None:
    cli(prog_name="kg")


if __name__ == "__main__":
    main()
