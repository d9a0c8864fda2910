"""`kg cypher`, `kg query list/show/run`, `kg find`: asking the graph."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from .. import cypher as C
from ..cli import (
    OUTPUT_FORMATS,
    KgGroup,
    _as_of_day,
    as_of_option,
    cli,
    confidential_option,
    emit,
    format_option,
    out_option,
    params_option,
    parse_params,
    queries_option,
    redacted_rows,
    stored_params,
    timeout_option,
    warn_confidential,
    with_store,
)
from ..errors import UsageError
from ..formats import EXPORT_FORMATS

# --- cypher ---------------------------------------------------------------------------------


@cli.command()
@click.argument("query")
@params_option
@format_option()
@out_option
@click.option("--write", is_flag=True, help="Allow the query to write (default: read-only).")
@click.option(
    "--allow-outbound-urls",
    is_flag=True,
    help="With --write: allow LOAD CSV, which makes the server fetch URLs and can "
    "send graph data off the machine. Read docs/reliability.md first.",
)
@timeout_option
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    help="Send $as_of, the last day of DATE (a Neo4j date), for your query to use: "
    "a source is known by then when s.known_by <= $as_of.",
)
@confidential_option
@with_store
def cypher(
    store: Any,
    query: str,
    params: tuple[str, ...],
    fmt: str,
    out: Path | None,
    write: bool,
    allow_outbound_urls: bool,
    timeout: float | None,
    as_of: str | None,
    include_confidential: bool,
) -> None:
    """Run one Cypher QUERY, read-only unless --write is given.

    Read-only is checked on the query's plan before it runs: LOAD CSV, procedures outside a
    read allow-list and administration commands (SHOW/TERMINATE TRANSACTIONS, SHOW SETTINGS,
    ...) are refused, naming the operator.

    Records marked confidential are redacted in the output unless --include-confidential.

    Confidential records are sealed in the database: a query sees placeholders, dates and
    structure only. --include-confidential unseals what the query returns, on this machine.

    Example: kg cypher 'MATCH (p:Person) WHERE p.name CONTAINS $q RETURN p.name' -p q=Kadyrov
    """
    from ..render import render

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
    emit(
        render(keys, redacted_rows(store, keys, result.records, include_confidential), fmt),
        out,
        private=include_confidential,
    )


# --- saved queries --------------------------------------------------------------------------


@cli.group(cls=KgGroup)
def query() -> None:
    """Saved Cypher queries: the investigator's question library."""


@query.command("list")
@queries_option
@format_option(("table", "json"))
def query_list(query_dirs: tuple[Path, ...], fmt: str) -> None:
    """List the saved queries, grouped by category, with where each comes from."""
    from ..queries import Library

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
        origin = (
            ""
            if q.origin == "bundled"
            else f"  [{q.origin}{', overrides the bundled query' if q.overrides else ''}]"
        )
        write = "  (writes)" if q.mode == "write" else ""
        click.echo(f"  {q.name:<20} {q.title}{write}{origin}")


@query.command("show")
@click.argument("name")
@queries_option
def query_show(name: str, query_dirs: tuple[Path, ...]) -> None:
    """Show a saved query's documentation and its Cypher."""
    from ..queries import Library

    q = Library.load(query_dirs).get(name)
    click.echo(f"{q.name}: {q.title}\n\n{q.description}\n")
    click.echo(f"category: {q.category}; mode: {q.mode}; returns: {q.returns}; from: {q.path}")
    if q.params:
        click.echo("parameters:")
        for p in q.params:
            req = "required" if p.required else f"default {p.default!r}"
            one_of = f" (one of: {', '.join(p.values)})" if p.values is not None else ""
            rng = f" ({p.range_text()})" if p.range_text() else ""
            click.echo(f"  {p.name} ({p.type}, {req}): {p.description}{one_of}{rng}")
    click.echo(f"\n{q.cypher}")


@query.command("run")
@click.argument("name")
@params_option
@queries_option
@format_option(OUTPUT_FORMATS)
@out_option
@click.option(
    "--export",
    "export_fmt",
    type=click.Choice(EXPORT_FORMATS),
    help="Write the nodes, relationships and paths the query returns with this exporter "
    "(needs --out).",
)
@timeout_option
@as_of_option
@confidential_option
@with_store
def query_run(
    store: Any,
    name: str,
    params: tuple[str, ...],
    query_dirs: tuple[Path, ...],
    fmt: str,
    out: Path | None,
    export_fmt: str | None,
    timeout: float | None,
    as_of: str | None,
    include_confidential: bool,
) -> None:
    """Run saved query NAME with typed parameters (-p name=value).

    Read queries run in read transactions: a read query that tries to write fails and
    changes nothing. Records marked confidential are redacted unless --include-confidential.
    """
    from .. import queries as Q
    from ..render import render

    lib = Q.Library.load(query_dirs)
    q = lib.get(name)
    store.timeout = timeout
    given = Q.parse_cli_params(params)
    if given.get("case") is not None and any(p.name == "case" for p in q.params):
        from ..suggest import did_you_mean

        known = store.case_ids()
        if given["case"] not in known:
            raise UsageError(
                f"-p case: no case {given['case']!r} is loaded"
                + did_you_mean(str(given["case"]), known),
                hint="`kg query run cases` lists the loaded cases.",
            )
    if as_of is not None:
        if "as_of" not in {p.name for p in q.params}:
            takes = sorted(
                n for n, x in lib.queries.items() if any(p.name == "as_of" for p in x.params)
            )
            raise UsageError(
                f"query {name!r} does not take --as-of (it has no as_of parameter)",
                hint=f"These do: {', '.join(takes)}.",
            )
        if "as_of" in given:
            raise UsageError("give --as-of or -p as_of=, not both")
        _as_of_day(as_of)
        given["as_of"] = as_of
    if export_fmt:
        from ..selection import Selection
        from .graph import export_selection

        if out is None:
            raise UsageError("--export needs --out FILE")
        sel = Selection(
            query=name,
            params=stored_params(store, given, include_confidential),
            query_dirs=query_dirs,
            as_of=_as_of_day(as_of),
        )
        sub, written = export_selection(
            store,
            sel,
            export_fmt,
            out,
            title=f"kg: {q.title}",
            include_confidential=include_confidential,
        )
        click.echo(
            f"exported {len(sub.nodes)} nodes and {len(sub.edges)} relationships to "
            f"{', '.join(str(p) for p in written)}"
        )
        return
    bound = Q.bind(q, stored_params(store, given, include_confidential))
    result = Q.run(store, q, bound)
    keys = list(result.keys)
    emit(
        render(keys, redacted_rows(store, keys, result.records, include_confidential), fmt),
        out,
        private=include_confidential,
    )


# --- find -----------------------------------------------------------------------------------


@cli.command()
@click.argument("text")
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=25,
    show_default=True,
    help="At most this many entities.",
)
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
    from ..render import render, rows_to_plain
    from ..seal import Unsealer, mask, words

    escaped = re.sub(r'([+\-!(){}\[\]^"~*?:\\/]|&&|\|\|)', r"\\\1", text)
    res = store.read(C.SEARCH, {"q": escaped, "limit": limit})
    keys = ["id", "kind", "name", "score"]
    rows = rows_to_plain(keys, res.records)
    if include_confidential:
        warn_confidential()
        uns = Unsealer.from_store(store)
        wanted = set(words(text))
        seen = {r["id"] for r in rows}
        hits: list[dict[str, Any]] = []
        for sid, node in sorted(uns.nodes.items()):
            if sid in seen or not wanted:
                continue
            found: set[str] = set()
            for v in node["props"].values():
                for item in v if isinstance(v, list) else [v]:
                    if isinstance(item, str):
                        found.update(words(item))
            if wanted <= found:
                kind = next((lb for lb in node["labels"] if lb != "Entity"), "Entity")
                hits.append({"id": sid, "kind": kind, "name": sid, "score": None})
        rows = uns.value(rows + hits)[:limit]
        for r, hit in zip(rows[len(rows) - len(hits) :], hits):
            if r["name"] == hit["id"] or r["name"] == r["id"]:
                node = uns.nodes[hit["id"]]
                r["name"] = next(
                    (node["props"][k] for k in ("name", "title", "text") if k in node["props"]),
                    r["id"],
                )
    else:
        rows = mask(rows)
    click.echo(render(keys, rows, fmt), nl=False)
