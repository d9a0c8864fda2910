"""`kg export` and `kg analyze`: a selection of the graph, drawn, handed over, measured."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .. import cypher as C
from ..cli import (
    _as_of_day,
    as_of_option,
    cli,
    confidential_option,
    emit,
    format_option,
    out_option,
    queries_option,
    stored_params,
    warn_confidential,
    with_store,
)
from ..errors import UsageError
from ..formats import EXPORT_FORMATS

# --- selection, export, analyze ------------------------------------------------------------


def selection_options(fn: Callable) -> Callable:
    opts: list[Any] = [
        click.option("--case", help="Only entities of this case."),
        click.option("--around", metavar="ID", help="Only entities within --hops of this one."),
        click.option(
            "--hops",
            type=click.IntRange(0, 10),
            default=2,
            show_default=True,
            help="With --around: how many steps out.",
        ),
        click.option(
            "--kinds",
            metavar="KIND,...",
            help="Only these kinds: person, organization, location, event, statement, source.",
        ),
        click.option(
            "--query",
            "query_name",
            metavar="NAME",
            help="The nodes, relationships and paths a saved query returns.",
        ),
        click.option(
            "-p",
            "--param",
            "params",
            multiple=True,
            metavar="NAME=VALUE",
            help="A parameter of --query (repeatable).",
        ),
        click.option(
            "--since", metavar="DATE", help="Only dated entities overlapping from this date."
        ),
        click.option(
            "--until", metavar="DATE", help="Only dated entities overlapping up to this date."
        ),
        as_of_option,
        queries_option,
        click.option(
            "--separate",
            is_flag=True,
            help="Show entities merged by `kg resolve apply` as their separate ids "
            "(default: one node listing all its ids).",
        ),
        confidential_option,
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def build_selection(
    case: str | None,
    around: str | None,
    hops: int,
    kinds: str | None,
    query_name: str | None,
    params: tuple[str, ...],
    since: str | None,
    until: str | None,
    query_dirs: tuple[Path, ...],
    as_of: str | None = None,
    separate: bool = False,
) -> Any:
    from ..dates import PartialDate
    from ..queries import parse_cli_params
    from ..selection import Selection, parse_kinds

    def date(value: str | None, name: str, last: bool) -> Any:
        if value is None:
            return None
        try:
            d = PartialDate.parse(value)
        except ValueError as e:
            raise UsageError(f"{name}: {e}") from None
        return d.last if last else d.first

    if params and not query_name:
        raise UsageError("-p goes with --query NAME")
    return Selection(
        case=case,
        around=around,
        hops=hops,
        kinds=parse_kinds(kinds),
        query=query_name,
        params=parse_cli_params(params),
        since=date(since, "--since", False),
        until=date(until, "--until", True),
        query_dirs=query_dirs,
        as_of=_as_of_day(as_of),
        separate=separate,
    )


@cli.command()
@click.argument("fmt", metavar="FORMAT", type=click.Choice(EXPORT_FORMATS))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="The file to write (for csv: a folder for nodes.csv and relationships.csv).",
)
@selection_options
@click.option(
    "--size-by",
    type=click.Choice(("importance", "degree", "pagerank", "betweenness")),
    default="importance",
    show_default=True,
    help="html: node size by this measure (importance: distinct entities tied to a node "
    "by relationships other than citations).",
)
@click.option(
    "--focus",
    "focus_id",
    metavar="ID",
    help="html: open the page on this entity and its neighbourhood (the whole graph is "
    "one click away).",
)
@click.option("--title", help="html: the page title.")
@with_store
def export(
    store: Any,
    fmt: str,
    out: Path,
    case: str | None,
    around: str | None,
    hops: int,
    kinds: str | None,
    query_name: str | None,
    params: tuple[str, ...],
    since: str | None,
    until: str | None,
    as_of: str | None,
    query_dirs: tuple[Path, ...],
    separate: bool,
    include_confidential: bool,
    size_by: str,
    focus_id: str | None,
    title: str | None,
) -> None:
    """Export a selection of the graph as FORMAT: html, graphml, gexf, json, csv, cypher or ftm.

    Records marked confidential show as their placeholders (structure kept, sealed values
    left out) unless --include-confidential is given.
    """
    sel = build_selection(
        case, around, hops, kinds, query_name, params, since, until, query_dirs, as_of, separate
    )
    sel.params = stored_params(store, sel.params, include_confidential)
    if focus_id and fmt != "html":
        raise UsageError("--focus goes with the html format")
    options = {"size_by": size_by, "focus": focus_id} if fmt == "html" else {}
    sub, written = export_selection(
        store,
        sel,
        fmt,
        out,
        title=title or f"kg: {sel.describe()}",
        include_confidential=include_confidential,
        **options,
    )
    click.echo(
        f"exported {len(sub.nodes)} nodes and {len(sub.edges)} relationships "
        f"({sel.describe()}) to {', '.join(str(p) for p in written)}"
    )


def export_selection(
    store: Any,
    sel: Any,
    fmt: str,
    out: Path,
    *,
    title: str,
    include_confidential: bool,
    **options: Any,
) -> tuple[Any, list[Path]]:
    """The one export path of `kg export` and `kg query run --export`: the selection read
    (sealed values opened only with --include-confidential), its title scrubbed of hidden
    names, written by kg.export."""
    from ..export import export as do_export
    from ..selection import select

    if include_confidential:
        warn_confidential()
    sub = select(
        store, sel, include_confidential=include_confidential, with_citations=fmt == "html"
    )
    if not include_confidential:  # no hidden name or id in a title or file metadata
        from ..seal import hidden_scrubber

        title = hidden_scrubber(store)[0].scrub(title)
    return sub, do_export(sub, fmt, out, title=title, **options)


@cli.command()
@click.argument(
    "what",
    type=click.Choice(("centrality", "communities", "brokers", "paths")),
    default="centrality",
)
@selection_options
@click.option("--from", "from_id", metavar="ID", help="paths: one end.")
@click.option("--to", "to_id", metavar="ID", help="paths: the other end.")
@click.option("--top", type=click.IntRange(1), help="Only the first N rows.")
@click.option(
    "--write-back",
    is_flag=True,
    help="centrality, communities: store the results as node properties "
    "(analysis_degree, analysis_pagerank, analysis_betweenness, analysis_community).",
)
@click.option(
    "--with-sources",
    is_flag=True,
    help="Analyse sources too (by default they are left out: a source citing many "
    "entities would rank as the most central one).",
)
@format_option(("table", "json", "csv"))
@out_option
@with_store
def analyze(
    store: Any,
    what: str,
    case: str | None,
    around: str | None,
    hops: int,
    kinds: str | None,
    query_name: str | None,
    params: tuple[str, ...],
    since: str | None,
    until: str | None,
    as_of: str | None,
    query_dirs: tuple[Path, ...],
    separate: bool,
    include_confidential: bool,
    from_id: str | None,
    to_id: str | None,
    top: int | None,
    write_back: bool,
    with_sources: bool,
    fmt: str,
    out: Path | None,
) -> None:
    """Network analysis of a selection with networkx.

    centrality: degree, PageRank and betweenness, ranked. communities: Louvain communities
    with their members. brokers: entities linking two or more communities. paths: all
    shortest paths between --from and --to. Sources are left out (an article citing
    everyone is not a central actor) unless --with-sources, or --kinds names them.
    """
    from .. import analyze as A
    from ..render import render
    from ..seal import Unsealer, stored_id
    from ..selection import select

    sel = build_selection(
        case, around, hops, kinds, query_name, params, since, until, query_dirs, as_of, separate
    )
    sub = select(store, sel)  # placeholders: write-back finds sealed nodes by their stored id
    if not with_sources and not (sel.kinds and "source" in sel.kinds):
        A.drop_sources(sub)
    if what == "centrality":
        rows = A.centrality(sub)
        if write_back:
            store.write(C.WRITE_CENTRALITY, {"batch": {"rows": rows}})
        rows = rows[:top] if top else rows
        keys = [
            "rank",
            "id",
            "kind",
            "name",
            "degree",
            "degree_centrality",
            "pagerank",
            "betweenness",
        ]
    elif what == "communities":
        rows = A.community_rows(sub)
        if write_back:
            store.write(C.WRITE_COMMUNITIES, {"batch": {"rows": rows}})
        rows = rows[:top] if top else rows
        keys = ["community", "size", "members", "ids"]
    elif what == "brokers":
        rows = A.brokers(sub, top)
        keys = ["id", "kind", "name", "community", "bridges", "betweenness"]
    else:
        if not (from_id and to_id):
            raise UsageError("`kg analyze paths` needs --from ID and --to ID")
        opened = include_confidential
        rows = A.paths(
            sub, stored_id(store, from_id, opened=opened), stored_id(store, to_id, opened=opened)
        )
        keys = ["path", "hops", "ids", "names"]
    if write_back and what in ("centrality", "communities"):
        click.echo(f"wrote analysis_* properties on {len(sub.nodes)} nodes", err=True)
    if include_confidential:
        warn_confidential()
        rows = Unsealer.from_store(store).value(rows)
    emit(render(keys, rows, fmt), out, private=include_confidential)
