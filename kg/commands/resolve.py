"""`kg resolve`: one entity's several ids, found, reviewed, merged."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..cli import (
    KgGroup,
    _apply_summary,
    _print_notices,
    cli,
    confidential_option,
    emit,
    format_option,
    out_option,
    warn_confidential,
    with_store,
)
from ..errors import UsageError

# --- resolve --------------------------------------------------------------------------------


def _kinds_option(fn: Callable) -> Callable:
    return click.option(
        "--kinds",
        metavar="KIND,...",
        default="person,organization,location",
        show_default=True,
        help="Which kinds of entity to compare.",
    )(fn)


def _pair_options(fn: Callable) -> Callable:
    """Which pairs `candidates` and `review` consider: kinds, a least score, a case."""
    fn = click.option("--case", help="Only pairs with at least one entity of this case.")(fn)
    fn = click.option(
        "--min-score",
        type=click.FloatRange(0, 1),
        default=0.5,
        show_default=True,
        help="Only pairs scoring at least this.",
    )(fn)
    return _kinds_option(fn)


def _parse_resolve_kinds(kinds: str) -> list[str]:
    from ..resolve_store import RESOLVABLE

    out = [k.strip() for k in kinds.split(",") if k.strip()]
    bad = [k for k in out if k not in RESOLVABLE]
    if bad or not out:
        raise UsageError(
            f"--kinds: {', '.join(bad) or '(none)'}: expected some of {', '.join(RESOLVABLE)}"
        )
    return out


@cli.group(cls=KgGroup)
def resolve() -> None:
    """Entity resolution: one person, many spellings, across cases, sheets and FtM.

    `candidates` lists pairs that may be one entity, with a score and reasons; `review` walks
    them and writes each decision to a judgements file (a case of its own, see
    docs/record-format.md); `apply` makes the judgements count: merged entities answer to
    every id, name and alias in saved queries and search. `kg load` honours them too.
    """


@resolve.command("candidates")
@_pair_options
@click.option("--top", type=click.IntRange(1), help="Only the first N pairs.")
@format_option()
@out_option
@confidential_option
@with_store
def resolve_candidates(
    store: Any,
    kinds: str,
    min_score: float,
    case: str | None,
    top: int | None,
    fmt: str,
    out: Path | None,
    include_confidential: bool,
) -> None:
    """Pairs of entities of one kind that may be one, best first, with the reasons.

    Pairs already merged or judged not_same are left out. Confidential entities are
    redacted unless --include-confidential.
    """
    from ..render import render
    from ..resolve import CANDIDATE_KEYS, candidates

    rows = candidates(store, _parse_resolve_kinds(kinds), min_score=min_score, case=case)
    rows = rows[:top] if top else rows
    rows = [{k: r[k] for k in CANDIDATE_KEYS} for r in rows]
    if include_confidential:
        warn_confidential()
    else:
        from ..redact import Redactor

        rows = Redactor.from_store(store).value(rows)
    emit(render(CANDIDATE_KEYS, rows, fmt), out)


def _card(card: dict[str, Any], side: str) -> str:
    p = card["props"]
    lines = [
        f"  {side}: {p.get('id')}  ({(card.get('label') or '').lower()})  "
        f"cases: {', '.join(p.get('cases') or []) or '-'}"
        + ("  CONFIDENTIAL" if p.get("confidential") else ""),
        f"     name: {p.get('name') or p.get('title')}",
    ]
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
@click.option(
    "--who",
    envvar="KG_WHO",
    show_envvar=True,
    help="Who decides (written with each judgement; default: your login name).",
)
@_pair_options
@click.option(
    "--include-confidential",
    is_flag=True,
    help="Also review pairs with a confidential entity (shown in full on this terminal).",
)
@with_store
def resolve_review(
    store: Any,
    judgements_file: Path,
    who: str | None,
    kinds: str,
    min_score: float,
    case: str | None,
    include_confidential: bool,
) -> None:
    """Walk the candidates in the terminal: same, different, skip or quit.

    Each decision is appended at once to JUDGEMENTS_FILE (made if missing) as same_as or
    not_same with who, when and why. Nothing changes in the graph until
    `kg resolve apply JUDGEMENTS_FILE`. Pairs judged in the file are not asked again.
    """
    import getpass

    from .. import judgements as J
    from ..resolve import candidates
    from ..resolve_store import cards

    who = who or getpass.getuser()
    judged = J.read(judgements_file).judgements if judgements_file.exists() else []
    done = {j.pair for j in judged}
    rows = candidates(store, _parse_resolve_kinds(kinds), min_score=min_score, case=case)
    hidden = sum(1 for r in rows if r["confidential"]) if not include_confidential else 0
    rows = [
        r
        for r in rows
        if (include_confidential or not r["confidential"])
        and tuple(sorted((r["id_a"], r["id_b"]))) not in done
    ]
    if hidden:
        click.echo(
            f"notice: {hidden} pairs with a confidential entity are not shown "
            "(--include-confidential shows them)",
            err=True,
        )
    if not rows:
        click.echo("no candidates to review")
        return
    counts = {"same_as": 0, "not_same": 0}
    for n, r in enumerate(rows, 1):
        cs = cards(store, [r["id_a"], r["id_b"]])
        click.echo(
            f"\n[{n}/{len(rows)}] score {r['score']:.3f}  {r['kind']}\n  why: {r['reasons']}"
        )
        for side, eid in (("A", r["id_a"]), ("B", r["id_b"])):
            if eid in cs:
                click.echo(_card(cs[eid], side))
        answer = click.prompt(
            "same / different / skip / quit",
            default="skip",
            type=click.Choice(["same", "different", "skip", "quit", "s", "d", "k", "q"]),
            show_choices=False,
        )
        answer = {"s": "same", "d": "different", "k": "skip", "q": "quit"}.get(answer, answer)
        if answer == "quit":
            break
        if answer == "skip":
            continue
        decision = "same_as" if answer == "same" else "not_same"
        why = click.prompt("why", default=f"score {r['score']:.2f}: {r['reasons']}")
        J.append(judgements_file, decision, r["id_a"], r["id_b"], who, why)
        counts[decision] += 1
    click.echo(
        f"\nwrote {counts['same_as']} same_as and {counts['not_same']} not_same to "
        f"{judgements_file}; `kg resolve apply {judgements_file}` makes them count"
    )


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
    from ..resolve import apply

    report = apply(store, list(files), dry_run=dry_run)
    _print_notices(report.notices)
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, **report.as_dict()}, indent=2))
    else:
        click.echo(
            ("Dry run, nothing written: " if dry_run else "") + _apply_summary(report), nl=False
        )


@resolve.command("status")
@format_option(("table", "json"))
@with_store
def resolve_status(store: Any, fmt: str) -> None:
    """The judgements cases stored: their same_as and not_same judgements, and how many of
    them (of either decision) wait for ids not loaded."""
    from ..render import render
    from ..resolve import status as do_status

    keys = ["case", "same_as", "not_same", "waiting", "file"]
    click.echo(render(keys, do_status(store), fmt), nl=False)


@resolve.command("forget")
@click.argument("case")
@with_store
def resolve_forget(store: Any, case: str) -> None:
    """Remove judgements case CASE from the graph and undo its merges."""
    from ..resolve import forget

    click.echo(_apply_summary(forget(store, case)), nl=False)
