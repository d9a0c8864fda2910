"""kg benchmarks, side by side in one run on one Neo4j; writes docs/benchmarks.md.

    python bench/run.py [--quick] [--sizes 10000,100000] [--naive-sizes 10000]

Benchmarks are not tests: nothing here asserts a time. Each comparison runs its baseline
and kg on the same input, in the same run, on the same server (a throwaway one of its own
under .kg-bench/, so the user's data is never touched).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import resource
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
from kg.config import NEO4J_VERSION, Settings  # noqa: E402
from kg.export import export  # noqa: E402
from kg.loader import load  # noqa: E402
from kg.mapping import map_collection  # noqa: E402
from kg.queries import Library, bind, run  # noqa: E402
from kg.runtime import LocalNeo4j  # noqa: E402
from kg.selection import Subgraph  # noqa: E402
from kg.store import Store, connect  # noqa: E402
from kg.synth import write_case  # noqa: E402
from kg.validation import collect  # noqa: E402

OUT: list[str] = []


REPORT = ROOT / "docs" / "benchmarks.md"


def say(line: str = "") -> None:
    print(line, flush=True)
    OUT.append(line)
    if line == "":  # the end of a paragraph or table: keep what is measured so far
        REPORT.write_text("\n".join(OUT) + "\n", encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_peak_mb(cmd: list[str], env: dict) -> tuple[float, float]:
    """Run a command; (seconds, peak resident MB of that process)."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return elapsed, int(proc.stderr.strip().splitlines()[-1]) / 1024


def naive_load(store: Store, case: Path) -> None:
    """What object-merge loaders do: one auto-commit MERGE per node and per relationship
    (with labels and the id constraint, so the difference measured is batching alone)."""
    coll = collect([case])
    rows = map_collection(coll)
    with store.driver.session(database="neo4j") as s:
        for n in rows.nodes:
            s.run(f"MERGE (n:Entity {{id: $id}}) SET n += $props SET n:{n.label}",
                  id=n.id, props={**n.props, "cases": list(n.cases)}).consume()
        for e in rows.edges:
            s.run(f"MATCH (a:Entity {{id: $a}}) MATCH (b:Entity {{id: $b}}) "
                  f"MERGE (a)-[r:{e.type}]->(b) SET r += $p",
                  a=e.start, b=e.end, p=e.props).consume()


def bench_load(store: Store, env: dict, sizes: list[int], naive_sizes: list[int], tmp: Path) -> None:
    say("## Load")
    say()
    say("Synthetic cases (`kg.synth`: power-law actors and outlets, nested places, statements "
        "that assert, dispute and deny). kg: `kg load` in a fresh process (validation, plan, "
        "batched writes), into an emptied database. Naive: one auto-commit `MERGE` per node "
        "and per relationship, as object-merge loaders do. Client peak memory is the loading "
        "process's maximum resident set.")
    say()
    say("| records | graph rows | validation s | kg load s | kg records/s | client peak MB | naive s | naive records/s | kg / naive |")
    say("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    kg = str(ROOT / ".venv" / "bin" / "kg")
    for n in sizes:
        case = tmp / f"case-{n}"
        if not case.exists():
            write_case(case, n, seed=11)
        t = time.perf_counter()
        coll = collect([case])
        val = time.perf_counter() - t
        rows = map_collection(coll)
        graph_rows = len(rows.nodes) + len(rows.edges)
        del coll, rows
        store.reset()
        secs, peak = child_peak_mb([kg, "load", "-q", str(case)], env)
        naive = ratio = "—"
        naive_rate = "—"
        if n in naive_sizes:
            store.reset()
            t = time.perf_counter()
            naive_load(store, case)
            ns = time.perf_counter() - t
            naive, naive_rate, ratio = f"{ns:.1f}", f"{n / ns:,.0f}", f"{ns / secs:.1f}x"
        say(f"| {n:,} | {graph_rows:,} | {val:.1f} | {secs:.1f} | {n / secs:,.0f} | {peak:,.0f} | "
            f"{naive} | {naive_rate} | {ratio} |")
        store.reset()
    say()


def _random_subgraph(nodes: int, edges: int, seed: int = 5) -> Subgraph:
    rng = random.Random(seed)
    G = nx.gnm_random_graph(nodes, edges, seed=seed, directed=True)
    sub = Subgraph()
    kinds = ("person", "organization", "event", "statement", "location", "source")
    for v in G.nodes:
        k = kinds[v % len(kinds)]
        sub.nodes[f"n{v}"] = {"kind": k, "labels": ["Entity", k.capitalize()],
                              "props": {"id": f"n{v}", "name": f"Node {v}", "confidential": False}}
    types = ("ABOUT", "SAID", "REPORTED_BY", "INVOLVED_IN", "LOCATED_IN")
    for a, b in G.edges:
        sub.edges.append({"type": rng.choice(types), "start": f"n{a}", "end": f"n{b}",
                          "props": {"stance": "denies"} if rng.random() < 0.1 else {}})
    sub.redacted = True
    return sub


def bench_export(tmp: Path, sizes: list[tuple[int, int]], pyvis_limit: int) -> None:
    from pyvis.network import Network

    say("## HTML export")
    say()
    say("The same random graph written as an HTML page by kg (`kg export html`: layout computed "
        "in Python above 300 nodes, nodes and edges written directly) and by pyvis "
        "(`Network.from_nx` then `write_html`, its documented path). Larger pyvis runs are "
        f"skipped above {pyvis_limit:,} edges (quadratic: each edge is checked against all earlier ones).")
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
            say(f"| {nodes:,} | {edges:,} | {k:.2f} | {p:.2f} | {p / k:.1f}x |" if p / k < 10 else f"| {nodes:,} | {edges:,} | {k:.2f} | {p:.2f} | {p / k:.0f}x |")
        else:
            say(f"| {nodes:,} | {edges:,} | {k:.2f} | (skipped) | — |")
    say()


def first_draw(html: Path, timeout_s: float) -> str:
    """Seconds to a drawn graph, measured in a child process killed at the timeout: a page
    whose script never yields blocks the browser's automation too."""
    try:
        out = subprocess.run([sys.executable, __file__, "--draw", str(html), str(timeout_s)],
                             capture_output=True, text=True, timeout=timeout_s + 30)
    except subprocess.TimeoutExpired:
        # the child is gone; its headless Chromium must not keep computing during later runs
        subprocess.run(["pkill", "-f", "chromium.*--headless"], capture_output=True)
        return f"> {timeout_s:.0f}"
    lines = out.stdout.strip().splitlines()
    return lines[-1] if out.returncode == 0 and lines else f"> {timeout_s:.0f}"


def _first_draw_here(html: Path, timeout_s: float) -> str:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                               headless=True, args=["--no-sandbox", "--disable-background-networking"])
        page = b.new_context(offline=True, viewport={"width": 1400, "height": 900}).new_page()
        js = ("() => { const c = document.querySelector('canvas'); if (!c) return false;"
              " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
              " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) { n++; if (n > 500) return true; }"
              " return false; }")
        t = time.perf_counter()
        try:  # a page whose own script never yields may not even finish loading
            page.goto(html.resolve().as_uri(), wait_until="commit", timeout=timeout_s * 1000)
        except Exception:  # noqa: BLE001 - a timeout is the measurement
            b.close()
            return f"> {timeout_s:.0f}"
        while time.perf_counter() - t < timeout_s:
            # pyvis pages draw only after stabilizing; kg pages set kgDrawn
            done = page.evaluate("window.kgDrawn === true") or (
                page.evaluate("!!document.querySelector('#loadingBar') ? "
                              "getComputedStyle(document.querySelector('#loadingBar')).display === 'none' : true")
                and page.evaluate(js))
            if done:
                break
            try:
                page.wait_for_timeout(100)
            except Exception:  # noqa: BLE001
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
    say("Time from opening the file to a drawn graph in Debian's Chromium (headless, offline). "
        "kg: its exported page. pyvis: defaults (`Network()`, physics on; it draws after "
        f"stabilizing). Runs stop at {timeout_s:.0f} s.")
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
        say(f"| {n:,} | {n * 2:,} | {first_draw(kg_html, timeout_s)} | {first_draw(py_html, timeout_s)} |")
    say()


def bench_queries(store: Store, env: dict, n: int, tmp: Path, repeats: int) -> None:
    say(f"## Saved queries on a {n:,}-record case")
    say()
    say("Warm (each query run once before timing), with parameters drawn at random from hub "
        "entities (the 1% with most relationships) and median ones, timed from the client.")
    say()
    case = tmp / f"case-{n}"
    if not case.exists():
        write_case(case, n, seed=11)
    store.reset()
    load(store, [case])
    degree = [(r["id"], r["d"], r["k"]) for r in store.read(
        "MATCH (n:Entity) RETURN n.id AS id, COUNT { (n)--() } AS d, "
        "[l IN labels(n) WHERE l <> 'Entity'][0] AS k").records]
    degree.sort(key=lambda x: x[1])
    rng = random.Random(3)

    def pick(kinds: tuple[str, ...], hub: bool) -> str:
        pool = [d for d in degree if d[2] in kinds]
        part = pool[-max(1, len(pool) // 100):] if hub else pool[len(pool) // 2 - 50: len(pool) // 2 + 50]
        return rng.choice(part)[0]

    lib = Library.load()
    cases = [("claims-about", ("Event",), "id"), ("statements-about", ("Event",), "id"),
             ("said-by", ("Person", "Organization"), "id"), ("sources-of", ("Event",), "id"),
             ("participants", ("Event",), "id"), ("involvement", ("Person", "Organization"), "id"),
             ("affiliations", ("Person",), "id"), ("network", ("Person",), "id"),
             ("events-in-place", ("Location",), "place")]
    say("| query | entities | p50 ms | p95 ms |")
    say("| --- | --- | ---: | ---: |")
    for name, kinds, param in cases:
        q = lib.get(name)
        for hub in (False, True):
            extra = {"hops": "1"} if name == "network" else {}
            run(store, q, bind(q, {param: pick(kinds, hub), **extra}))
            times = []
            for _ in range(repeats):
                p = bind(q, {param: pick(kinds, hub), **extra})
                t = time.perf_counter()
                run(store, q, p)
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            say(f"| {name}{' (1 hop)' if name == 'network' else ''} | {'hubs' if hub else 'median'} | "
                f"{statistics.median(times):.1f} | {p95:.1f} |")
    store.reset()
    say()


def bench_analysis(sizes: list[int]) -> None:
    say("## Analysis")
    say()
    say("`kg analyze` centrality (degree, PageRank, betweenness; betweenness sampled with 500 "
        "pivots above 5,000 nodes) against plain networkx calls on the same graph (exact "
        "betweenness). Random graphs with twice as many edges as nodes.")
    say()
    say("| nodes | kg analyze s | networkx exact s |")
    say("| ---: | ---: | ---: |")
    for n in sizes:
        sub = _random_subgraph(n, 2 * n)
        t = time.perf_counter()
        A.centrality(sub)
        k = time.perf_counter() - t
        G = A.to_graph(sub)
        if n <= 5_000:
            t = time.perf_counter()
            nx.degree_centrality(G), nx.pagerank(G), nx.betweenness_centrality(G)
            plain = f"{time.perf_counter() - t:.1f}"
        else:
            plain = "(skipped: exact betweenness is O(nm))"
        say(f"| {n:,} | {k:.1f} | {plain} |")
    say()


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--draw":
        print(_first_draw_here(Path(sys.argv[2]), float(sys.argv[3])))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = ap.parse_args()
    quick = args.quick
    home = ROOT / ".kg-bench"
    local = LocalNeo4j(home, free_port())
    local.stop()
    shutil.rmtree(home / "neo4j" / "data", ignore_errors=True)
    env = dict(os.environ, KG_HOME=str(home), KG_BOLT_PORT=str(local.requested_port))
    env.pop("KG_NEO4J_URI", None)
    local.start()
    settings = Settings(uri=local.uri, user="neo4j", password=local.read_password(),
                        database="neo4j", managed=True, home=home, password_file=local.password_file)
    drv = connect(settings)
    store = Store(drv, "neo4j", managed=True)
    store.apply_schema()
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    import neo4j
    import pyvis
    say("# Benchmarks")
    say()
    say(f"Written by `bench/run.py` ({'quick run' if quick else 'full run'}) on "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC. Never edited by hand.")
    say()
    say(f"Machine: {os.cpu_count()} cores ({cpu}), "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
        f"Python {platform.python_version()}; kg {__version__}; Neo4j {NEO4J_VERSION} community "
        f"(heap {os.environ.get('KG_NEO4J_HEAP', '1g')}, page cache "
        f"{os.environ.get('KG_NEO4J_PAGECACHE', '256m')}); neo4j driver {neo4j.__version__} with "
        f"neo4j-rust-ext; networkx {nx.__version__}; pyvis {pyvis.__version__}.")
    say()
    try:
        with tempfile.TemporaryDirectory() as t:
            tmp = Path(t)
            if quick:
                bench_load(store, env, [2_000, 10_000], [2_000], tmp)
                bench_export(tmp, [(500, 1_000), (5_000, 10_000)], 10_000)
                bench_draw(tmp, [500], 60)
                bench_queries(store, env, 10_000, tmp, 20)
                bench_analysis([1_000, 5_000])
            else:
                bench_load(store, env, [10_000, 100_000], [10_000], tmp)
                bench_export(tmp, [(500, 1_000), (5_000, 10_000), (20_000, 40_000), (50_000, 100_000)], 100_000)
                bench_draw(tmp, [500, 2_000, 5_000, 10_000], 90)
                bench_queries(store, env, 100_000, tmp, 50)
                bench_analysis([1_000, 5_000, 20_000])
    finally:
        drv.close()
        local.stop()
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(OUT) + "\n", encoding="utf-8")
    print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
