"""The `kg` command line: parses options, calls the library, turns KgErrors into messages."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__
from .config import mask_secrets
from .errors import KgError, UsageError
from .formats import OUTPUT_FORMATS


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
        except Exception as e:
            if os.environ.get("KG_DEBUG"):
                raise
            click.echo(
                mask_secrets(
                    f"error: internal error ({type(e).__name__}: {e}). This "
                    "is a bug in kg; set KG_DEBUG=1 to see the traceback and "
                    "please report it."
                ),
                err=True,
            )
            # (a message from the code, not from the records: sealed values never reach it)
            ctx.exit(70)


def format_option(choices: tuple[str, ...] = OUTPUT_FORMATS, default: str = "table") -> Callable:
    def decorator(fn: Callable) -> Callable:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(choices),
            default=default,
            show_default=True,
            help="Output format.",
        )(fn)

    return decorator


def out_option(fn: Callable) -> Callable:
    return click.option(
        "--out",
        "out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the output to this file instead of standard output.",
    )(fn)


def params_option(fn: Callable) -> Callable:
    return click.option(
        "-p",
        "--param",
        "params",
        multiple=True,
        metavar="NAME=VALUE",
        help="A query parameter (repeatable). Values always travel as Cypher "
        "parameters, never as query text.",
    )(fn)


def emit(text: str, out: Path | None = None, private: bool = False) -> None:
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
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        envvar="KG_QUERY_TIMEOUT",
        show_envvar=True,
        help="Stop the query on the server after this many seconds (default: "
        "no limit). A path search across a large case can run for minutes.",
    )(fn)


def as_of_option(fn: Callable) -> Callable:
    return click.option(
        "--as-of",
        "as_of",
        metavar="DATE",
        help="The graph as known on DATE (2018, 2018-10 or 2018-10-21: by its "
        "last day): only sources certainly published by then, what they "
        "report and the records no source reports (flagged unsourced).",
    )(fn)


def _as_of_day(value: str | None) -> Any:
    """--as-of DATE as the last day it covers (kg.dates: known by the end of that span)."""
    from .dates import PartialDate

    if value is None:
        return None
    try:
        return PartialDate.parse(value.strip()).last
    except ValueError as e:
        raise UsageError(f"--as-of: {e}") from None


def confidential_option(fn: Callable) -> Callable:
    return click.option(
        "--include-confidential",
        is_flag=True,
        help="Unseal records marked confidential (people at risk) with this "
        "installation's key, on this machine. The output then must not "
        "be shared.",
    )(fn)


def warn_confidential() -> None:
    click.echo(
        "warning: --include-confidential: this output contains records marked "
        "confidential (people at risk). Do not share it.",
        err=True,
    )


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


def stored_params(store: Any, params: dict[str, str], opened: bool) -> dict[str, str]:
    """Parameters naming an entity, with a confidential record's real id (typed by a user
    who has the key, with --include-confidential) turned into the placeholder id the
    database holds."""
    from .seal import stored_id

    return {
        k: stored_id(store, v, opened=opened) if k in ID_PARAMS and isinstance(v, str) else v
        for k, v in params.items()
    }


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


def _print_notices(notices: list[str]) -> None:
    for n in notices:
        click.echo(f"notice: {n}", err=True)


def queries_option(fn: Callable) -> Callable:
    return click.option(
        "--queries",
        "query_dirs",
        multiple=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="A folder of your own .cypher queries (repeatable; also "
        "KG_QUERIES, a path list). Same name overrides the bundled one.",
    )(fn)


def _apply_summary(report: Any) -> str:
    waiting = (
        f", judgements (same_as or not_same) waiting for ids not loaded: {len(report.waiting)}"
        if report.waiting
        else ""
    )
    return (
        f"judgements in force: {report.judgements} (cases {', '.join(report.cases) or '-'}); "
        f"same_as applied: {report.applied}{waiting}; merged entities: {report.groups}; "
        f"SAME_AS edges created {report.edges_created}, updated {report.edges_updated}, "
        f"deleted {report.edges_deleted}\n"
    )


# The commands, one module per group (kg/commands/); importing them registers them on `cli`.
from . import commands  # noqa: E402,F401


def main() -> None:
    cli(prog_name="kg")


if __name__ == "__main__":
    main()
