"""kg benchmarks, side by side in one run on one Neo4j; writes docs/benchmarks.md.

    python bench/run.py [--quick]          # everything (the full run takes about 45 minutes)
    python bench/run.py --only load,export # re-run sections and merge them into the report
    python bench/run.py --only export-e2e  # kg export html vs driver + pyvis, 5,000 records

Benchmarks are not tests: nothing here asserts a time. Each comparison runs its baseline
and kg on the same input, in the same run, on the same server (a throwaway one of its own
under .kg-bench/, so the user's data is never touched).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import networkx as nx  # noqa: E402

from kg import __version__  # noqa: E402
from kg import analyze as A  # noqa: E402
from kg.config import JIT_FLAGS, NEO4J_VERSION, jit_mode, local_settings  # noqa: E402
from kg.export import export  # noqa: E402
from kg.inputs import RecordInput  # noqa: E402
from kg.mapping import map_collection  # noqa: E402
from kg.queries import Library, bind  # noqa: E402
from kg.runtime import LocalNeo4j  # noqa: E402
from kg.selection import Subgraph  # noqa: E402
from kg.store import Store, connect  # noqa: E402
from kg.synth import write_case  # noqa: E402
from kg.validation import check, collect  # noqa: E402

OUT: list[str] = []


REPORT = ROOT / "docs" / "benchmarks.md"


PARTIAL = False  # --only: sections are merged into the existing report at the end


def say(line: str = "") -> None:
    print(line, flush=True)
    OUT.append(line)
    if line == "" and not PARTIAL:  # the end of a paragraph or table: keep what is measured so far
        REPORT.write_text("\n".join(_keep_hand(OUT)) + "\n", encoding="utf-8")


def _sections(lines: list[str]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(lines before the first '## ' heading, [(heading, its lines)])."""
    head: list[str] = []
    parts: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("## "):
            parts.append((line, [line]))
        elif parts:
            parts[-1][1].append(line)
        else:
            head.append(line)
    return head, parts


def _hand_measured(heading: str) -> list[str]:
    """The paragraphs of a section of the report as it was before this run that begin
    'Measured by hand' (figures too heavy for the benchmark): a re-run keeps them."""
    if not REPORT.exists():
        return []
    _, parts = _sections(REPORT.read_text(encoding="utf-8").splitlines())
    return [
        ln for h, body in parts if h == heading for ln in body if ln.startswith("Measured by hand")
    ]


HAND_RESOLVE = _hand_measured("## Entity resolution candidates")  # read before any writing


def _hand_all() -> dict[str, list[str]]:
    if not REPORT.exists():
        return {}
    _, parts = _sections(REPORT.read_text(encoding="utf-8").splitlines())
    return {h: [ln for ln in body if ln.startswith("Measured by hand")] for h, body in parts}


HAND = _hand_all()  # every section's 'Measured by hand' paragraphs, read before any writing


def _keep_hand(lines: list[str]) -> list[str]:
    """The report with each section's earlier 'Measured by hand' paragraphs kept: at the end
    of the section, where this run has not printed them itself."""
    head, parts = _sections(lines)
    out = list(head)
    for h, body in parts:
        body = list(body)
        missing = [ln for ln in HAND.get(h, []) if ln not in body]
        if missing:
            while body and body[-1] == "":
                body.pop()
            for ln in missing:
                body += ["", ln]
            body.append("")
        out += body
    return out


_BASE: list[str] = []  # the report as it was before this --only run


def merge_report(only: list[str]) -> None:
    """Replace the re-run sections of docs/benchmarks.md with this run's, and say so. Called
    after each section (a run cut short keeps what it measured): always merged into the
    report as it was before the run."""
    if not _BASE:
        _BASE.extend(REPORT.read_text(encoding="utf-8").splitlines())
    old_head, old = _sections(_BASE)
    _, new = _sections(_keep_hand(OUT))
    fresh = dict(new)
    merged = [fresh.pop(h, body) for h, body in old] + list(fresh.values())
    stamp = (
        f"Sections re-run by `bench/run.py --only {','.join(only)}` on "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC (same machine and "
        f"versions; Neo4j's JIT: {_jit()}): {', '.join(h[3:] for h, _ in new)}."
    )
    head = list(old_head)  # earlier re-runs' lines stay: each says what it re-ran and when
    while head and head[-1] == "":
        head.pop()
    # each section ends with a blank line, so a heading never follows a table row directly
    text = "\n".join(
        head
        + ["", stamp, ""]
        + [ln for body in merged for ln in (body if body and body[-1] == "" else body + [""])]
    )
    REPORT.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LAST_STDOUT = ""  # what the last run_child printed


def _json_tail(out: str) -> dict:
    """The JSON object a command printed last (`--json`), {} if none."""
    start = out.rfind("\n{")
    try:
        return json.loads(out[start + 1 :] if start >= 0 else out)
    except ValueError:
        return {}


def run_child(cmd: list[str], env: dict) -> tuple[float, float, float]:
    """Run a command; (seconds, peak resident MB of that process, its CPU seconds)."""
    t = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", *cmd], env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    global LAST_STDOUT
    LAST_STDOUT = proc.stdout
    peak, user, system = proc.stderr.strip().splitlines()[-1].split()
    return elapsed, int(peak) / 1024, float(user) + float(system)


def server_cpu(local: LocalNeo4j) -> float:
    """CPU seconds the Neo4j server process has used so far (all its threads)."""
    fields = Path(f"/proc/{local.state()['pid']}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def naive_load(store: Store, case: Path) -> None:
    """What object-merge loaders do: one auto-commit MERGE per node and per relationship
    (with labels and the id constraint, so the difference measured is batching alone)."""
    coll = collect([case])
    rows = map_collection(coll)
    with store.driver.session(database="neo4j") as s:
        for n in rows.nodes:
            s.run(
                f"MERGE (n:Entity {{id: $id}}) SET n += $props SET n:{n.label}",
                id=n.id,
                props={**n.props, "cases": list(n.cases)},
            ).consume()
        for e in rows.edges:
            s.run(
                f"MATCH (a:Entity {{id: $a}}) MATCH (b:Entity {{id: $b}}) "
                f"MERGE (a)-[r:{e.type}]->(b) SET r += $p",
                a=e.start,
                b=e.end,
                p=e.props,
            ).consume()


def wipe(local: LocalNeo4j, tmp: Path) -> Store:
    """An empty database, fast: neo4j-admin imports nothing over it (deleting millions of
    rows in transactions takes minutes). Returns a store on the restarted server."""
    from kg.export import CsvExporter, import_args

    folder = local.import_dir / "empty"
    shutil.rmtree(folder, ignore_errors=True)
    CsvExporter(folder).finalize()
    local.stop()
    res = local.admin(*import_args(folder))
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-2000:])
    local.start()
    store = _store(local)
    warm(store)
    return store


WARM_RECORDS = 20_000


def warm(store: Store) -> None:
    """A restarted server is cold (JIT, query plans): a load of WARM_RECORDS records by kg
    and of 500 by the naive loader, then a delete, so every run below meets a warm server,
    as a user's server usually is, and both loaders' queries are planned."""
    from kg.loader import load

    case = Path(tempfile.gettempdir()) / f"kg-bench-warmup-{WARM_RECORDS}"
    small = Path(tempfile.gettempdir()) / "kg-bench-warmup-500"
    if not case.exists():
        write_case(case, WARM_RECORDS, seed=2, case="warmup")
    if not small.exists():
        write_case(small, 500, seed=3, case="warmup")
    load(store, [case])
    store.reset()
    naive_load(store, small)
    store.reset()


def _store(local: LocalNeo4j) -> Store:
    settings = local_settings(local)
    store = Store(connect(settings), "neo4j", managed=True)
    store.apply_schema()
    return store


def bench_load(
    local: LocalNeo4j,
    env: dict,
    sizes: list[int],
    naive_sizes: list[int],
    bulk_sizes: list[int],
    query_size: int,
    tmp: Path,
    repeats: int,
) -> list[str]:
    """Load rows; returns the query section, measured on the query_size case while loaded."""
    say("## Load")
    say()
    say(
        "Synthetic cases (`kg.synth`: power-law actors and outlets, nested places, statements "
        "that assert, dispute and deny). kg: `kg load` in a fresh process (validation, then a "
        "streamed second pass: plan per chunk, batched writes on two threads, nodes and "
        "relationships, two relationship transactions at once where they share no node), into "
        "an emptied database; the server compiles with the client compiler alone "
        "(KG_NEO4J_JIT=quick, what `auto`, kg's default, takes over the empty database this "
        "benchmark starts with; the Cold and warm section has the JVM's default beside it). Naive: one auto-commit `MERGE` per node and per relationship, as "
        "object-merge loaders do (labels and the id constraint in place, so the difference is "
        "batching). Bulk: `kg load --bulk` (validation, import CSVs, `neo4j-admin database "
        "import` with the server stopped, restart). Client peak memory is the loading process's "
        "maximum resident set (for bulk it includes the neo4j-admin JVM kg runs). Every run "
        f"starts on an emptied server, warmed up by a {WARM_RECORDS:,}-record kg load and a "
        '500-record naive load (then emptied). "same graph": the bulk graph\'s digest '
        "equals kg load's."
    )
    say()
    say(
        "| records | graph rows | validation s | kg load s | kg records/s | kg client peak MB "
        "| naive s | naive records/s | kg / naive | bulk s | bulk records/s | bulk peak MB "
        "| same graph |"
    )
    say(
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    )
    kg = str(ROOT / ".venv" / "bin" / "kg")
    query_lines: list[str] = []
    cpu_lines: list[tuple[int, float, float, float, int]] = []
    bulk_phases: list[tuple[int, float, dict[str, float]]] = []
    store = wipe(local, tmp)
    for n in sizes:
        case = tmp / f"case-{n}"
        if not case.exists():
            write_case(case, n, seed=11)
        t = time.perf_counter()
        checker = check(RecordInput.from_paths([case]), keep=False)
        val = time.perf_counter() - t
        del checker
        before = server_cpu(local)
        secs, peak, client_cpu = run_child([kg, "load", "-q", "--json", str(case)], env)
        server = server_cpu(local) - before
        counts = store.counts()
        graph_rows = sum(counts["nodes"].values()) + sum(counts["relationships"].values())
        cpu_lines.append((n, secs, client_cpu, server, graph_rows))
        digest = store.digest() if n <= 100_000 else None
        if n == query_size:
            query_lines = bench_queries(store, n, repeats)
        naive = ratio = naive_rate = "—"
        if n in naive_sizes:
            store.driver.close()
            store = wipe(local, tmp)
            t = time.perf_counter()
            naive_load(store, case)
            ns = time.perf_counter() - t
            naive, naive_rate, ratio = f"{ns:.1f}", f"{n / ns:,.0f}", f"{ns / secs:.1f}x"
        bulk = bulk_rate = bulk_peak = same = "—"
        if n in bulk_sizes:
            store.driver.close()
            wipe(local, tmp).driver.close()
            bs, bp, _ = run_child([kg, "load", "--bulk", "-q", "--json", str(case)], env)
            bulk_phases.append((n, bs, _json_tail(LAST_STDOUT).get("phases", {})))
            store = _store(local)
            bulk, bulk_rate, bulk_peak = f"{bs:.1f}", f"{n / bs:,.0f}", f"{bp:,.0f}"
            same = ("yes" if store.digest() == digest else "NO") if digest else "(not compared)"
        say(
            f"| {n:,} | {graph_rows:,} | {val:.1f} | {secs:.1f} | {n / secs:,.0f} | {peak:,.0f} | "
            f"{naive} | {naive_rate} | {ratio} | {bulk} | {bulk_rate} | {bulk_peak} | {same} |"
        )
        store.driver.close()
        store = wipe(local, tmp)
    store.driver.close()
    say()
    say(
        "Where a `kg load`'s time goes: CPU seconds of the loading process (validation, "
        "mapping, planning, encoding) and of the Neo4j server (all threads: queries, "
        "garbage collection, index updates) during the same run. With both on one machine, "
        f"the run cannot take less than their sum over the {os.cpu_count()} cores."
    )
    say()
    say(
        "| records | kg load s | client CPU s | server CPU s | (client + server) / cores s "
        "| server CPU µs per graph row |"
    )
    say("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for n, secs, client, server, rows in cpu_lines:
        say(
            f"| {n:,} | {secs:.1f} | {client:.1f} | {server:.1f} | "
            f"{(client + server) / (os.cpu_count() or 1):.1f} | "
            f"{server / rows * 1e6 if rows else 0:.0f} |"
        )
    say()
    if bulk_phases:
        names = list(dict.fromkeys(k for _, _, ph in bulk_phases for k in ph))
        say(
            "Where a `kg load --bulk`'s time goes, by phase (`kg load --bulk --json` reports "
            "them): validation (pass one), writing the import CSVs (the server's shutdown "
            "checkpoint runs alongside; what is left of it after the CSVs is the next column), "
            "`neo4j-admin database import` alone on those files, the server's start, and "
            "what follows (schema, index population, the :Case nodes). *bulk / import*: the "
            "whole command against the import tool alone."
        )
        say()
        say("| records | bulk s | " + " | ".join(f"{k} s" for k in names) + " | bulk / import |")
        say("| ---: | ---: | " + " | ".join("---:" for _ in names) + " | ---: |")
        for n, total, ph in bulk_phases:
            imp = ph.get("neo4j-admin import")
            say(
                f"| {n:,} | {total:.1f} | "
                + " | ".join(f"{ph[k]:.1f}" if k in ph else "—" for k in names)
                + " | "
                + (f"{total / imp:.1f}x" if imp else "—")
                + " |"
            )
        say()
    return query_lines


def _random_subgraph(nodes: int, edges: int, seed: int = 5) -> Subgraph:
    rng = random.Random(seed)
    G = nx.gnm_random_graph(nodes, edges, seed=seed, directed=True)
    sub = Subgraph()
    kinds = ("person", "organization", "event", "statement", "location", "source")
    for v in G.nodes:
        k = kinds[v % len(kinds)]
        sub.nodes[f"n{v}"] = {
            "kind": k,
            "labels": ["Entity", k.capitalize()],
            "props": {"id": f"n{v}", "name": f"Node {v}", "confidential": False},
        }
    types = ("ABOUT", "SAID", "REPORTED_BY", "INVOLVED_IN", "LOCATED_IN")
    for a, b in G.edges:
        sub.edges.append(
            {
                "type": rng.choice(types),
                "start": f"n{a}",
                "end": f"n{b}",
                "props": {"stance": "denies"} if rng.random() < 0.1 else {},
            }
        )
    sub.redacted = True
    return sub


def bench_export(tmp: Path, sizes: list[tuple[int, int]], pyvis_limit: int) -> None:
    from pyvis.network import Network

    say("## HTML export")
    say()
    say(
        "The same random graph written as an HTML page by kg (`kg export html`: layout computed "
        "in Python above 300 nodes, nodes and edges written directly) and by pyvis "
        "(`Network.from_nx` then `write_html`, its documented path). Larger pyvis runs are "
        f"skipped above {pyvis_limit:,} edges (quadratic: each edge is checked against all earlier ones)."
    )
    say()
    say("| nodes | edges | kg s | pyvis from_nx + write_html s | pyvis / kg |")
    say("| ---: | ---: | ---: | ---: | ---: |")
    for nodes, edges in sizes:
        sub = _random_subgraph(nodes, edges)
        t = time.perf_counter()
        export(sub, "html", tmp / f"kg-{edges}.html", size_by="degree")
        k = time.perf_counter() - t
        if edges <= pyvis_limit:
            G = nx.MultiDiGraph()
            for nid, nd in sub.nodes.items():
                G.add_node(nid, label=nd["props"]["name"])
            for e in sub.edges:
                G.add_edge(e["start"], e["end"], title=e["type"])
            t = time.perf_counter()
            net = Network(directed=True, cdn_resources="in_line")
            net.from_nx(G)
            net.write_html(str(tmp / f"pyvis-{edges}.html"), notebook=False)
            p = time.perf_counter() - t
            say(
                f"| {nodes:,} | {edges:,} | {k:.2f} | {p:.2f} | {p / k:.1f}x |"
                if p / k < 10
                else f"| {nodes:,} | {edges:,} | {k:.2f} | {p:.2f} | {p / k:.0f}x |"
            )
        else:
            say(f"| {nodes:,} | {edges:,} | {k:.2f} | (skipped) | — |")
    say()


def bench_export_e2e(
    local: LocalNeo4j, env: dict, tmp: Path, records: int = 5_000, repeats: int = 3
) -> None:
    """`kg export html` as a user runs it against a driver + pyvis script, both end to end."""
    import re

    say("## kg export html end to end")
    say()
    say(
        f"A {records:,}-record synthetic case (`kg.synth`, seed 1) loaded into the bench server. "
        "kg: `kg export html --out FILE` in a fresh process (start-up, reading Neo4j, layout, "
        "writing the page; the page opens focused). Baseline: `bench/pyvis_baseline.py` in a fresh "
        "process: the official driver reads the same graph, networkx holds it, pyvis writes it "
        "with `Network.from_nx` + `write_html` (inline resources). Each runs "
        f"{repeats} times, alternating; the table gives the median. Then each page is opened in "
        "headless Chromium: seconds to kg's `kg.ready` and to pyvis's first drawn graph "
        "(stops at 60 s)."
    )
    say()
    case = tmp / f"case-{records}"
    if not case.exists():
        write_case(case, records, seed=1)
    kg = str(ROOT / ".venv" / "bin" / "kg")
    run_child([kg, "load", "-q", str(case)], env)
    benv = dict(
        env,
        BENCH_NEO4J_URI=local.uri,
        BENCH_NEO4J_PASSWORD=local.read_password() or "",
        BENCH_NEO4J_CERT=str(local.certificate),
    )
    kg_html, py_html = tmp / "e2e-kg.html", tmp / "e2e-pyvis.html"
    load_before = os.getloadavg()
    kg_t: list[float] = []
    py_t: list[float] = []
    for _ in range(repeats):
        kg_t.append(run_child([kg, "export", "html", "--out", str(kg_html)], env)[0])
        py_t.append(
            run_child(
                [sys.executable, str(ROOT / "bench" / "pyvis_baseline.py"), str(py_html)], benv
            )[0]
        )
    load_after = os.getloadavg()
    page = kg_html.read_text(encoding="utf-8")
    data = re.search(r'<script type="application/json" id="kg-data">(.*?)</script>', page, re.S)
    import json

    d = json.loads(data.group(1))
    k, p = statistics.median(kg_t), statistics.median(py_t)
    say(
        "| records | nodes | relationships | kg export html s | driver + pyvis from_nx s "
        "| pyvis / kg | kg page ready s | pyvis page first draw s |"
    )
    say("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    say(
        f"| {records:,} | {len(d['nodes']):,} | {len(d['edges']):,} | {k:.2f} | {p:.2f} | "
        f"{p / k:.1f}x | {first_draw(kg_html, 60)} | {first_draw(py_html, 60)} |"
    )
    say()
    say(
        f"Every run, kg: {', '.join(f'{t:.2f}' for t in kg_t)} s; pyvis: "
        f"{', '.join(f'{t:.2f}' for t in py_t)} s. Load average (1, 5, 15 min) on the "
        f"{os.cpu_count()} cores before: {', '.join(f'{x:.1f}' for x in load_before)}; after: "
        f"{', '.join(f'{x:.1f}' for x in load_after)} (other work shares this machine)."
    )
    say()


def first_draw(html: Path, timeout_s: float) -> str:
    """Seconds to a drawn graph, measured in a child process killed at the timeout: a page
    whose script never yields blocks the browser's automation too."""
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--draw", str(html), str(timeout_s)],
            capture_output=True,
            text=True,
            timeout=timeout_s + 30,
        )
    except subprocess.TimeoutExpired:
        # the child is gone; its headless Chromium must not keep computing during later runs
        subprocess.run(["pkill", "-f", "chromium.*--headless"], capture_output=True)
        return f"> {timeout_s:.0f}"
    lines = out.stdout.strip().splitlines()
    return lines[-1] if out.returncode == 0 and lines else f"> {timeout_s:.0f}"


def _first_draw_here(html: Path, timeout_s: float) -> str:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        page = b.new_context(offline=True, viewport={"width": 1400, "height": 900}).new_page()
        js = (
            "() => { const c = document.querySelector('canvas'); if (!c) return false;"
            " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) { n++; if (n > 500) return true; }"
            " return false; }"
        )
        t = time.perf_counter()
        try:  # a page whose own script never yields may not even finish loading
            page.goto(html.resolve().as_uri(), wait_until="commit", timeout=timeout_s * 1000)
        except Exception:
            b.close()
            return f"> {timeout_s:.0f}"
        while time.perf_counter() - t < timeout_s:
            # pyvis pages draw only after stabilizing; kg pages set kgDrawn
            done = page.evaluate("window.kgDrawn === true") or (
                page.evaluate(
                    "!!document.querySelector('#loadingBar') ? "
                    "getComputedStyle(document.querySelector('#loadingBar')).display === 'none' : true"
                )
                and page.evaluate(js)
            )
            if done:
                break
            try:
                page.wait_for_timeout(100)
            except Exception:
                break
        else:
            b.close()
            return f"> {timeout_s:.0f}"
        secs = time.perf_counter() - t
        b.close()
        return f"{secs:.1f}"


def bench_draw(tmp: Path, sizes: list[int], timeout_s: float) -> None:
    from pyvis.network import Network

    say("## First draw in headless Chromium")
    say()
    say(
        "Time from opening the file to a drawn graph in Debian's Chromium (headless, offline). "
        "kg: its exported page. pyvis: defaults (`Network()`, physics on; it draws after "
        f"stabilizing). Runs stop at {timeout_s:.0f} s."
    )
    say()
    say("| nodes | edges | kg s | pyvis defaults s |")
    say("| ---: | ---: | ---: | ---: |")
    for n in sizes:
        sub = _random_subgraph(n, n * 2)
        kg_html = tmp / f"draw-kg-{n}.html"
        export(sub, "html", kg_html)
        G = nx.DiGraph()
        for nid in sub.nodes:
            G.add_node(nid)
        for e in sub.edges:
            G.add_edge(e["start"], e["end"])
        py_html = tmp / f"draw-pyvis-{n}.html"
        net = Network(directed=True, cdn_resources="in_line")
        net.from_nx(G)
        net.write_html(str(py_html), notebook=False)
        say(
            f"| {n:,} | {n * 2:,} | {first_draw(kg_html, timeout_s)} | {first_draw(py_html, timeout_s)} |"
        )
    say()


OUT_OF_MEMORY = -1  # rows of a run the server stopped for want of transaction memory


def timed(store: Store, cypher: str, params: dict, timeout: float) -> tuple[float | None, int]:
    """(milliseconds, rows), or (None, 0) when the server's transaction timeout ended it, or
    (None, OUT_OF_MEMORY) when it ran out of transaction memory (reported, not a crash)."""
    import neo4j

    t = time.perf_counter()
    try:
        res = store.driver.execute_query(
            neo4j.Query(cypher, timeout=timeout),
            params,
            database_="neo4j",
            routing_=neo4j.RoutingControl.READ,
        )
    except neo4j.exceptions.Neo4jError as e:
        if "MemoryPoolOutOfMemory" in (e.code or ""):
            return None, OUT_OF_MEMORY
        if (
            "Terminated" in (e.code or "")
            or "timeout" in str(e).lower()
            or "terminated" in str(e).lower()
        ):
            return None, 0
        raise
    return (time.perf_counter() - t) * 1000, len(res.records)


def _row(name: str, who: str, times: list[float | None], rows: int, timeout: float) -> str:
    done = sorted(t for t in times if t is not None)
    late = len(times) - len(done)
    if rows == OUT_OF_MEMORY:
        return f"| {name} | {who} | — | — | (out of transaction memory: heap too small for this query) |"
    if not done:
        return f"| {name} | {who} | > {timeout:.0f} s | > {timeout:.0f} s | (all {late} runs timed out) |"
    p95 = (
        f"> {timeout:.0f} s" if late else f"{done[min(len(done) - 1, int(len(done) * 0.95))]:,.1f}"
    )
    note = f" ({late} of {len(times)} runs over {timeout:.0f} s)" if late else ""
    return f"| {name} | {who} | {statistics.median(done):,.1f} | {p95} | {rows:,}{note} |"


def bench_queries(store: Store, n: int, repeats: int) -> list[str]:
    out = [
        f"## Saved queries on a {n:,}-record case",
        "",
        "Every bundled query, warm (each run once before timing), timed from the client "
        "including reading every row. Questions about one entity: parameters drawn at random "
        "from hub entities (the 1% with most relationships) and from median ones (the 100 "
        "around the median degree). Whole-case reports: no parameters; every row returned (timed 3 times after a first run, "
        "or only once when the first run takes over 10 s).",
        "",
        "| query | entities | p50 ms | p95 ms | rows (last run) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    degree = [
        (r["id"], r["d"], r["k"])
        for r in store.read(
            "MATCH (n:Entity) RETURN n.id AS id, COUNT { (n)--() } AS d, "
            "[l IN labels(n) WHERE l <> 'Entity'][0] AS k"
        ).records
    ]
    degree.sort(key=lambda x: x[1])
    rng = random.Random(3)
    pools: dict[tuple, list] = {}

    def pick(kinds: tuple[str, ...], hub: bool) -> str:
        key = (kinds, hub)
        if key not in pools:
            pool = [d for d in degree if d[2] in kinds]
            pools[key] = (
                pool[-max(1, len(pool) // 100) :]
                if hub
                else pool[max(0, len(pool) // 2 - 50) : len(pool) // 2 + 50]
            )
        return rng.choice(pools[key])[0]

    lib = Library.load()
    actor = ("Person", "Organization")
    anchored = [
        ("claims-about", {"id": ("Event",)}),
        ("statements-about", {"id": ("Event",)}),
        ("said-by", {"id": actor}),
        ("sources-of", {"id": ("Event",)}),
        ("participants", {"id": ("Event",)}),
        ("involvement", {"id": actor}),
        ("affiliations", {"id": ("Person",)}),
        ("network", {"id": ("Person",)}),
        ("events-in-place", {"place": ("Location",)}),
        ("denials", {"about": ("Event",)}),
        ("actor-links", {"id": ("Person",)}),
        ("who-reported-what", {"publisher": ("Organization",)}),
        ("timeline", {"place": ("Location",)}),
        ("shortest-paths", {"from": ("Person",), "to": ("Person",)}),
    ]
    covered = {name for name, _ in anchored}
    for name, params in anchored:
        q = lib.get(name)
        # Paths of up to 10 hops between two random entities are not a 1-2 hop question: fewer
        # runs, each stopped by the server after 30 s.
        reps, limit = (5, 30.0) if name == "shortest-paths" else (repeats, 60.0)
        for hub in (False, True):
            extra = {"hops": "1"} if name == "network" else {}

            def draw() -> dict:
                return bind(q, {k: pick(kinds, hub) for k, kinds in params.items()} | extra)

            timed(store, q.cypher, draw(), limit)
            times, rows = [], 0
            for _ in range(reps):
                ms, got = timed(store, q.cypher, draw(), limit)
                times.append(ms)
                rows = got if ms is not None else rows
            label = f"{name}{' (1 hop)' if name == 'network' else ''}"
            out.append(_row(label, "hubs" if hub else "median", times, rows, limit))
    search = lib.get("search")
    covered.add("search")
    timed(store, search.cypher, bind(search, {"q": "torture"}), 60.0)
    times, rows = [], 0
    for word in ["torture", "detention", "released", "court", "families"] * max(1, repeats // 5):
        ms, got = timed(store, search.cypher, bind(search, {"q": word}), 60.0)
        times.append(ms)
        rows = got if ms is not None else rows
    out.append(_row("search", "words", times, rows, 60.0))
    for q in sorted(lib.queries.values(), key=lambda q: q.name):
        if q.name in covered or any(p.required for p in q.params):
            continue
        first, rows = timed(store, q.cypher, bind(q, {}), 120.0)
        times = [first]
        if first is not None and first < 10_000:  # a report over 10 s is timed once
            times = []
            for _ in range(3):
                ms, got = timed(store, q.cypher, bind(q, {}), 120.0)
                times.append(ms)
                rows = got if ms is not None else rows
        out.append(_row(q.name, "whole case", times, rows, 120.0))
    out.append("")
    return out


def bench_analysis(sizes: list[int]) -> None:
    say("## Analysis")
    say()
    say(
        "`kg analyze` (degree, PageRank, betweenness: igraph's C core with networkx's "
        "definitions; betweenness exact up to 5,000 nodes, above that from 500 source nodes "
        "drawn as networkx draws them) and its Louvain communities, against plain networkx on the "
        "same graph: exact betweenness up to 5,000 nodes, `k=500` sampled betweenness above "
        "(the same estimate kg computes), skipped at 100,000 nodes. Random graphs with twice as "
        "many edges as nodes."
    )
    say()
    say("| nodes | kg centrality s | kg communities s | networkx centrality s | networkx / kg |")
    say("| ---: | ---: | ---: | ---: | ---: |")
    for n in sizes:
        sub = _random_subgraph(n, 2 * n)
        t = time.perf_counter()
        A.centrality(sub)
        k = time.perf_counter() - t
        t = time.perf_counter()
        A.communities(sub)
        c = time.perf_counter() - t
        plain = ratio = "(skipped)"
        if n <= 20_000:
            G = A.to_graph(sub)
            t = time.perf_counter()
            nx.degree_centrality(G), nx.pagerank(G)
            if n <= A.EXACT_BETWEENNESS_LIMIT:
                nx.betweenness_centrality(G)
            else:
                nx.betweenness_centrality(G, k=A.BETWEENNESS_SAMPLES, seed=A.SEED)
            secs = time.perf_counter() - t
            plain, ratio = f"{secs:.1f}", f"{secs / k:.0f}x"
        say(f"| {n:,} | {k:.2f} | {c:.2f} | {plain} | {ratio} |")
    say()


def _other_case(tmp: Path, records: int) -> Path:
    """A case from bench/othergen.py (not kg.synth: another shape), written once."""
    sys.path.insert(0, str(ROOT / "bench"))
    from othergen import write_case as other_case

    case = tmp / f"other-{records}"
    if not case.exists():
        other_case(case, records, seed=5)
    return case


def _jit() -> str:
    """kg's server JIT for this run, as kg.config.jit_mode chooses it over the empty database
    the benchmark starts with."""
    mode = jit_mode()
    return f"{mode} ({' '.join(JIT_FLAGS[mode]) or 'the JVM default'})"


def _fresh_start(local: LocalNeo4j, env: dict, **extra: str) -> float:
    """Stop the server, drop its database (a new, empty one is made at start), start it with
    `kg db start` in a fresh process (``extra``: KG_* variables for that start, such as
    KG_WARMUP=0). Seconds taken."""
    local.stop()
    for sub in ("databases/neo4j", "transactions/neo4j"):
        shutil.rmtree(local.data_dir / sub, ignore_errors=True)
    kg = str(ROOT / ".venv" / "bin" / "kg")
    return run_child([kg, "db", "start"], dict(env, **extra))[0]


def bench_cold(
    local: LocalNeo4j, env: dict, tmp: Path, sizes: list[int], naive_sizes: list[int]
) -> None:
    """The first load after a start, as users meet it, next to a warm one and the naive
    loader on a freshly started server."""
    say("## Cold and warm: the first load after `kg db start`")
    say()
    say(
        "A case written by `bench/othergen.py` (a second generator, not `kg.synth`: uniform "
        "picks instead of power laws, actors with several affiliations, events with three to "
        "six participants and several sourced quotes, one file per kind, 2% confidential). "
        "Each row starts from a new, empty database and a server started by `kg db start` in a "
        "fresh process. *cold*: `kg db start` as it is now (over an empty database its JVM "
        "compiles with the client compiler alone, KG_NEO4J_JIT=auto; before it returns it loads, reads and unloads a "
        "small generated case through kg's own code: kg.warmup), then `kg load`. *warm*: the "
        "same case loaded again right after, into the emptied database (`kg db reset`). "
        "*cold, no warm-up*: started with `KG_WARMUP=0`. *cold, full JIT, no warm-up*: "
        "`KG_NEO4J_JIT=full KG_WARMUP=0`, as Neo4j itself starts (how kg started it before). "
        "*naive cold*: the naive loader of the Load section, on a server started as for *cold*. "
        "Every load is `kg load` in a fresh process, timed once; server CPU is the Neo4j "
        "process's during the load."
    )
    say()
    say(
        "| records | graph rows | load | `kg db start` s | load s | records/s | server CPU s "
        "| vs naive cold |"
    )
    say("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    kg = str(ROOT / ".venv" / "bin" / "kg")
    notes: list[str] = []
    for n in sizes:
        case = _other_case(tmp, n)
        runs: dict[str, tuple[float, float]] = {}
        starts: dict[str, float] = {}
        rows = 0

        def timed_load(name: str) -> None:
            nonlocal rows
            before = server_cpu(local)
            secs = run_child([kg, "load", "-q", str(case)], env)[0]
            runs[name] = (secs, server_cpu(local) - before)
            if not rows:
                store = _store(local)
                c = store.counts()
                rows = sum(c["nodes"].values()) + sum(c["relationships"].values())
                store.driver.close()

        naive_s = None
        if n in naive_sizes:
            starts["naive cold"] = _fresh_start(local, env)
            store = _store(local)
            before = server_cpu(local)
            t = time.perf_counter()
            naive_load(store, case)
            naive_s = time.perf_counter() - t
            runs["naive cold"] = (naive_s, server_cpu(local) - before)
            store.driver.close()
        starts["cold, full JIT, no warm-up"] = _fresh_start(
            local, env, KG_NEO4J_JIT="full", KG_WARMUP="0"
        )
        timed_load("cold, full JIT, no warm-up")
        starts["cold, no warm-up"] = _fresh_start(local, env, KG_WARMUP="0")
        timed_load("cold, no warm-up")
        starts["cold"] = _fresh_start(local, env)
        timed_load("cold")
        store = _store(local)
        store.reset()
        store.driver.close()
        timed_load("warm")
        for name in (
            "cold",
            "warm",
            "cold, no warm-up",
            "cold, full JIT, no warm-up",
            "naive cold",
        ):
            if name not in runs:
                continue
            secs, cpu = runs[name]
            start = f"{starts[name]:.1f}" if name in starts else "—"
            vs = f"{naive_s / secs:.1f}x" if naive_s and not name.startswith("naive") else "—"
            say(
                f"| {n:,} | {rows:,} | {name} | {start} | {secs:.1f} | {n / secs:,.0f} | "
                f"{cpu:.1f} | {vs} |"
            )
        notes.append(
            f"{n:,} records: the first load after `kg db start` took "
            f"{runs['cold'][0] / runs['warm'][0]:.2f}x the warm one (without the "
            f"warm-up: {runs['cold, no warm-up'][0] / runs['warm'][0]:.2f}x; as Neo4j starts, "
            f"full JIT and no warm-up: "
            f"{runs['cold, full JIT, no warm-up'][0] / runs['warm'][0]:.2f}x)"
            + (f"; kg cold / naive cold: {naive_s / runs['cold'][0]:.1f}x" if naive_s else "")
            + f". `kg db start` with the warm-up: {starts['cold']:.1f} s, without: "
            f"{starts['cold, no warm-up']:.1f} s; start and first load together: "
            f"{starts['cold'] + runs['cold'][0]:.1f} s with, "
            f"{starts['cold, no warm-up'] + runs['cold, no warm-up'][0]:.1f} s without."
        )
    say()
    for line in notes:
        say(line)
    say()
    la = os.getloadavg()
    say(
        f"Load average (1, 5, 15 min) on the {os.cpu_count()} cores after: "
        f"{', '.join(f'{x:.1f}' for x in la)} (other work shares this machine)."
    )
    say()


def bench_commands(local: LocalNeo4j, env: dict, tmp: Path, records: int = 10_000) -> None:
    """Whole commands (a fresh process: start-up, imports, the work, output) next to the
    library call that does the work, in this (warm) process."""
    from kg.loader import load
    from kg.selection import Selection, select

    say("## Whole commands")
    say()
    say(
        "Seconds of each command as a user runs it (a fresh process: Python start-up, imports, "
        "the work, output; median of 3) next to the library call that does the work, timed in "
        "an already running Python process (median of 3). The case is the "
        f"{records:,}-record `bench/othergen.py` case of the section above; the server is "
        "warm; each load goes into the emptied database."
    )
    say()
    say("| command | whole command s | library call s | start-up and the rest s |")
    say("| --- | ---: | ---: | ---: |")
    kg = str(ROOT / ".venv" / "bin" / "kg")
    case = _other_case(tmp, records)
    small = ROOT / "data" / "chechnya-2017"
    store = _store(local)
    out = tmp / "cmd.html"

    def whole(args: list[str], before=None) -> float:
        times = []
        for _ in range(3):
            if before:
                before()
            times.append(run_child([kg, *args], env)[0])
        return statistics.median(times)

    def lib(fn, before=None) -> float:
        times = []
        for _ in range(3):
            if before:
                before()
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    rows: list[tuple[str, float, float | None]] = [
        ("kg --help", whole(["--help"]), None),
        (
            "kg validate data/chechnya-2017",
            whole(["validate", str(small)]),
            lib(lambda: check(RecordInput.from_paths([small]), keep=False)),
        ),
        (
            f"kg validate ({records:,} records)",
            whole(["validate", str(case)]),
            lib(lambda: check(RecordInput.from_paths([case]), keep=False)),
        ),
        (
            f"kg load ({records:,} records)",
            whole(["load", "-q", str(case)], store.reset),
            lib(lambda: load(store, [case]), store.reset),
        ),
        (
            f"kg export html --case other ({records:,} records)",
            whole(["export", "html", "--case", "other", "--out", str(out)]),
            lib(
                lambda: export(
                    select(store, Selection(case="other"), with_citations=True), "html", out
                )
            ),
        ),
    ]
    store.driver.close()
    for name, w, lb in rows:
        say(
            f"| `{name}` | {w:.2f} | {f'{lb:.2f}' if lb is not None else '—'} | "
            f"{f'{w - lb:.2f}' if lb is not None else '—'} |"
        )
    say()


def bench_resolve(local: LocalNeo4j, tmp: Path, records: int) -> None:
    """`kg resolve candidates` on a loaded synthetic graph: one case of `records`, and two
    cases of half as many each whose people, organizations and places bear the same names
    ('Person 17' in both), so that every one of them is a candidate pair to score."""
    from kg.loader import load
    from kg.resolve import CandidateStats, candidates

    say("## Entity resolution candidates")
    say()
    say(
        "`kg resolve candidates` (people, organizations and places; read from Neo4j, "
        "transliterated, blocked, scored) on a loaded synthetic graph, timed once. Synthetic "
        "names are 'Person 17' and 'Organization 4': within one case no two are alike; two "
        "half-size cases made from different seeds share every name, so each entity has a "
        "twin to find and score."
    )
    say()
    say("| graph | entities compared | blocks | pairs scored | candidates | seconds |")
    say("| --- | ---: | ---: | ---: | ---: | ---: |")
    layouts = [
        (f"one case of {records:,} records", [(records, 1, "synth")]),
        (
            f"two cases of {records // 2:,} records",
            [(records // 2, 1, "synth-a"), (records // 2, 7, "synth-b")],
        ),
    ]
    for title, cases in layouts:
        store = wipe(local, tmp)
        for n, seed, name in cases:
            folder = tmp / f"resolve-{name}-{n}"
            if not folder.exists():
                write_case(folder, n, seed=seed, case=name)
            load(store, [folder])
        stats = CandidateStats()
        t = time.perf_counter()
        candidates(store, stats=stats)
        secs = time.perf_counter() - t
        say(
            f"| {title} | {stats.entities:,} | {stats.blocks:,} | {stats.pairs_scored:,} | "
            f"{stats.candidates:,} | {secs:.1f} |"
        )
        store.driver.close()
    say()
    for line in HAND_RESOLVE:
        say(line)
        say()


# sizes of cold/warm kg loads and of cold naive loads (bench/othergen.py cases)
COLD = ([10_000], [10_000])

# sizes of kg loads, of naive loads, of bulk loads, and the case the queries run on
FULL_LOAD = ([10_000, 100_000, 1_000_000], [10_000, 100_000], [100_000, 1_000_000], 1_000_000)


def bench_server() -> tuple[LocalNeo4j, dict]:
    """A throwaway server under .kg-bench/ (the user's data is never touched), started."""
    home = ROOT / ".kg-bench"
    local = LocalNeo4j(home, free_port())
    local.stop()
    shutil.rmtree(home / "neo4j" / "data", ignore_errors=True)
    env = dict(os.environ, KG_HOME=str(home), KG_BOLT_PORT=str(local.requested_port))
    env.pop("KG_NEO4J_URI", None)
    local.start()
    return local, env


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--draw":
        print(_first_draw_here(Path(sys.argv[2]), float(sys.argv[3])))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument(
        "--only",
        help="re-run these sections of the full run (comma-separated: "
        "load (with the saved queries on the loaded case), cold, commands, export, "
        "export-e2e, draw, analysis, resolve) and merge them into docs/benchmarks.md",
    )
    args = ap.parse_args()
    quick = args.quick
    if args.only:
        global PARTIAL
        PARTIAL = True
        only = args.only.split(",")
        with tempfile.TemporaryDirectory() as t:
            tmp = Path(t)
            if "load" in only:
                local, env = bench_server()
                try:
                    for line in bench_load(local, env, *FULL_LOAD, tmp, 50):
                        say(line)
                finally:
                    local.stop()
                merge_report(only)
            if "export" in only:
                bench_export(
                    tmp,
                    [(500, 1_000), (5_000, 10_000), (20_000, 40_000), (50_000, 100_000)],
                    100_000,
                )
            if "cold" in only or "commands" in only:
                local, env = bench_server()
                try:
                    if "cold" in only:
                        bench_cold(local, env, tmp, *COLD)
                        merge_report(only)
                    if "commands" in only:
                        bench_commands(local, env, tmp)
                finally:
                    local.stop()
                merge_report(only)
            if "export-e2e" in only:
                local, env = bench_server()
                try:
                    bench_export_e2e(local, env, tmp)
                finally:
                    local.stop()
            if "draw" in only:
                bench_draw(tmp, [500, 2_000, 5_000, 10_000], 90)
            if "analysis" in only:
                bench_analysis([1_000, 5_000, 20_000, 100_000])
            if "resolve" in only:
                local, env = bench_server()
                try:
                    bench_resolve(local, tmp, 100_000)
                finally:
                    local.stop()
        merge_report(only)
        print("merged into docs/benchmarks.md")
        return
    local, env = bench_server()
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in open("/proc/cpuinfo")
            if ln.startswith("model name")
        ),
        "?",
    )
    import igraph
    import neo4j
    import pyvis

    say("# Benchmarks")
    say()
    say(
        f"Written by `bench/run.py` ({'quick run' if quick else 'full run'}) on "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC. Never edited by hand."
    )
    say()
    say(
        f"Machine: {os.cpu_count()} cores ({cpu}), "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
        f"Python {platform.python_version()}; kg {__version__}; Neo4j {NEO4J_VERSION} community "
        f"(heap {os.environ.get('KG_NEO4J_HEAP', '1g')}, page cache "
        f"{os.environ.get('KG_NEO4J_PAGECACHE', '256m')}, JIT {_jit()}); neo4j driver {neo4j.__version__} with "
        f"neo4j-rust-ext; networkx {nx.__version__}; python-igraph {igraph.__version__}; "
        f"pyvis {pyvis.__version__}."
    )
    say()
    try:
        with tempfile.TemporaryDirectory() as t:
            tmp = Path(t)
            if quick:
                queries = bench_load(
                    local, env, [2_000, 10_000], [2_000], [10_000], 10_000, tmp, 10
                )
                for line in queries:
                    say(line)
                bench_export(tmp, [(500, 1_000), (5_000, 10_000)], 10_000)
                bench_cold(local, env, tmp, [2_000], [2_000])
                bench_commands(local, env, tmp, 2_000)
                wipe(local, tmp).driver.close()
                bench_export_e2e(local, env, tmp, 2_000, 1)
                bench_draw(tmp, [500], 60)
                bench_analysis([1_000, 5_000])
                bench_resolve(local, tmp, 10_000)
            else:
                queries = bench_load(local, env, *FULL_LOAD, tmp, 50)
                for line in queries:
                    say(line)
                bench_export(
                    tmp,
                    [(500, 1_000), (5_000, 10_000), (20_000, 40_000), (50_000, 100_000)],
                    100_000,
                )
                bench_cold(local, env, tmp, *COLD)
                bench_commands(local, env, tmp)
                wipe(local, tmp).driver.close()
                bench_export_e2e(local, env, tmp)
                bench_draw(tmp, [500, 2_000, 5_000, 10_000], 90)
                bench_analysis([1_000, 5_000, 20_000, 100_000])
                bench_resolve(local, tmp, 100_000)
    finally:
        local.stop()
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(OUT) + "\n", encoding="utf-8")
    print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
