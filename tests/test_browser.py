"""The exported HTML page in a real headless Chromium with the network cut.

Chromium comes from Debian's package (installed here when missing); Playwright drives it
through `executable_path`, with no browser download. Screenshots (Chechnya and a 5,000-record
synthetic case, 1000 and 1400 px wide) and the measured time to `kg.ready` are kept in
test-artifacts/ for a person to look at; no time is asserted.
"""

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import CASES, CHECHNYA, ROOT

from kg.cli import cli
from kg.export import export
from kg.loader import load
from kg.selection import Selection, select
from kg.synth import write_case

pytestmark = pytest.mark.neo4j
ARTIFACTS = ROOT / "test-artifacts"


def chromium() -> str:
    path = shutil.which("chromium")
    if path:
        return path
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
    out = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium"], env=env, capture_output=True, text=True
    )
    path = shutil.which("chromium")
    assert path, f"could not install Debian's chromium: {out.stderr[-500:]}"
    return path


class Browser:
    """One headless Chromium, offline; pages opened at a width, every request recorded."""

    def __init__(self, pw):
        self.b = pw.chromium.launch(
            executable_path=chromium(),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []

    def open(self, html: Path, width: int = 1400):
        context = self.b.new_context(
            offline=True, viewport={"width": width, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith("file:") else route.abort()
            ),
        )
        t = time.perf_counter()
        page.goto(html.resolve().as_uri())
        assert page.evaluate("kg.ready.then(() => true)") is True  # the documented promise
        page.ready_seconds = time.perf_counter() - t
        return page


@contextlib.contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = Browser(pw)
        try:
            yield b
        finally:
            b.b.close()


def page_data(html: Path) -> dict:
    text = html.read_text(encoding="utf-8")
    return json.loads(
        re.search(r'<script type="application/json" id="kg-data">(.*?)</script>', text, re.S).group(
            1
        )
    )


def chrome_facts(page) -> dict:
    """Where the bars end and the graph starts; whether each legend chip is the element found
    at its own centre (nothing covers it)."""
    return page.evaluate("""() => {
        const r = s => document.querySelector(s).getBoundingClientRect();
        const chips = Array.from(document.querySelectorAll('.chip'));
        const covered = chips.filter(c => { const b = c.getBoundingClientRect();
            const hit = document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2);
            return !(hit === c || c.contains(hit)); }).length;
        return {top: r('#top').bottom, filters: r('#filters').bottom, graph: r('#graphwrap').top,
                graphHeight: r('#graphwrap').height, panelLeft: r('#panel').left,
                graphRight: r('#graphwrap').right, width: innerWidth, chips: chips.length, covered};
    }""")


def test_exported_page_offline(store, tmp_path):
    load(store, [CHECHNYA])
    load(store, [CASES / "contract"])
    sub = select(store, Selection(), with_citations=True)
    html = tmp_path / "graph.html"
    export(sub, "html", html, title="kg: Chechnya 2017 <b>test</b>")
    text = html.read_text()
    assert "http://" not in text.split("<script>")[0] and "<script src" not in text
    with browser() as b:
        page = b.open(html)
        facts = page.evaluate("""() => {
            const canvas = document.querySelector('#graph canvas');
            const img = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < img.length; i += 4) if (img[i] !== 0) painted++;
            return {nodes: kgNetwork.body.data.nodes.length, painted,
                    imgs: document.querySelectorAll('img').length,
                    scripts: document.querySelectorAll('script[src]').length,
                    links: document.querySelectorAll('link[href]').length};
        }""")
        # the search box: a result list, the person first, Enter selects
        page.fill("#search", "Karimov")
        page.press("#search", "Enter")
        facts["selected"] = page.evaluate("kgNetwork.getSelectedNodes()")
        facts["search_info"] = page.inner_text("#searchInfo")
        facts["results"] = page.eval_on_selector_all("#results li", "ls => ls.length")
        # hover a node: its tooltip shows its sources with their quotes, on screen
        target = "killings-2017"
        page.evaluate(
            f"kg.select(null); kgNetwork.focus('{target}', {{scale: 1.5, animation: false}})"
        )
        page.wait_for_timeout(300)
        box = page.eval_on_selector("#graph canvas", "c => c.getBoundingClientRect().toJSON()")
        pos = page.evaluate(
            f"kgNetwork.canvasToDOM(kgNetwork.getPositions(['{target}'])['{target}'])"
        )
        page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
        page.wait_for_selector("#tooltip", state="visible", timeout=10_000)
        facts["tooltip"] = page.inner_text("#tooltip")
        page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
        facts["panel"] = page.inner_text("#panel")
        page.fill("#search", "NGO")
        page.press("#search", "Enter")
        facts["xss_panel"] = page.inner_text("#panel")
        facts["imgs_after"] = page.evaluate("document.querySelectorAll('img').length")
        facts["panel_links"] = page.evaluate(
            "Array.from(document.querySelectorAll('#panel a')).map(a => a.href)"
        )
        page.evaluate("kg.select('src-report')")
        facts["report_links"] = page.evaluate(
            "Array.from(document.querySelectorAll('#panel a')).map(a => a.href)"
        )
    assert b.requests == [html.resolve().as_uri()], b.requests  # nothing but the page itself
    assert b.dialogs == [] and b.errors == []  # no record text ran as script; no script error
    assert facts["nodes"] == len(sub.nodes) and facts["painted"] > 10_000
    assert facts["scripts"] == 0 and facts["links"] == 0 and facts["imgs"] == 0
    assert facts["imgs_after"] == 0
    assert facts["selected"] == ["alvi-karimov"] and "of" in facts["search_info"]
    assert facts["results"] >= 2
    assert "at least three of the men have been killed" in facts["tooltip"]
    assert "at least three of the men have been killed" in facts["panel"]
    assert "NGO <img src=x onerror=alert(1)>" in facts["xss_panel"]
    assert "https://example.org/report" in facts["report_links"]  # http(s) links are links


def test_page_api_relationships_filters_search(store, tmp_path):
    """The acceptance list of issue 16 through window.kg (and the page's own controls)."""
    load(store, [CHECHNYA])
    load(store, [CASES / "contract"])
    sub = select(store, Selection(), with_citations=True)
    html = tmp_path / "graph.html"
    export(sub, "html", html, title="Chechnya 2017: abductions, claims and denials")
    data = page_data(html)
    ids = {n["id"] for n in data["nodes"]}
    with browser() as b:
        page = b.open(html)
        ev = page.evaluate
        # search: an alias finds its person first; exact matches before partial ones
        assert ev("kg.search('Kadyrov')")[0] == "ramzan-kadyrov"
        assert ev("kg.search('kadyrov')")[0] == "ramzan-kadyrov"
        assert ev("kg.search('Anna Avtor')")[0] == "person-author"
        gay = ev("kg.search('gay')")
        assert len(gay) >= 13 and len(set(gay)) == len(gay)
        # Enter goes through every result, in order
        page.fill("#search", "gay")
        seen = []
        for _ in range(3):
            page.press("#search", "Enter")
            seen.append(ev("kg.selected()"))
        assert seen == gay[:3]
        assert page.inner_text("#searchInfo").startswith("3 of")
        page.click("#results li:nth-child(5)")
        assert ev("kg.selected()") == gay[4]
        # who said what about whom: a denial's panel names speaker, outlet, stance, target
        assert ev("kg.select('karimov-denial')") is True
        panel = ev("kg.panelText()")
        first = panel.splitlines()[0]
        assert first == (
            "Alvi Karimov (via Interfax) — denies → Abduction and detention of up to "
            "100 men suspected of being gay"
        ), first
        assert "““" not in panel and "””" not in panel  # quotes are not wrapped twice
        assert (
            "confidential" not in panel.lower().split("relationships")[0] or "Confidential" in panel
        )
        assert "said by (← SAID) · 1" in panel and "Alvi Karimov" in panel
        # a node's relationships, grouped, each other end by name and clickable
        ev("kg.select('abduction-campaign-2017')")
        panel = ev("kg.panelText()")
        assert "statements about it (← ABOUT)" in panel and "located in (LOCATED_IN →)" in panel
        assert "Chechnya" in panel and "abduction-campaign-2017" in panel
        assert (
            "date_precision" not in panel and "confidential" not in panel.split("Relationships")[0]
        )
        page.click('#panel .group .ref >> text="Chechnya"')
        assert ev("kg.selected()") == "chechnya"
        # an edge panel resolves ids to names and shows the statement
        assert ev("kg.selectEdge('alvi-karimov', 'abduction-campaign-2017', 'DENIED')") is True
        panel = ev("kg.panelText()")
        assert "karimov-denial" not in panel.split("Statement")[0]
        assert "Alvi Karimov (via Interfax) — denies → Abduction" in panel
        assert "You cannot arrest" in panel
        assert ev("kg.selectEdge('chechnya', 'russia', 'LOCATED_IN')") in (True, False)
        # neighbors: an event's sources, the statements about it, its place
        nb = ev("kg.neighbors('abduction-campaign-2017')")
        assert {"type", "direction", "other", "stance"} == set(nb[0])
        assert {
            n["other"] for n in nb if n["type"] == "REPORTED_BY" and n["direction"] == "out"
        } >= {"nyt-report-2017", "novaya-gazeta-report-2017"}
        about = {
            n["other"]: n["stance"] for n in nb if n["type"] == "ABOUT" and n["direction"] == "in"
        }
        assert (
            about["karimov-denial"] == "denies"
            and about["novaya-gazeta-abduction-claim"] == "asserts"
        )
        assert {"type": "LOCATED_IN", "direction": "out", "other": "chechnya", "stance": None} in nb
        # filters: denials only shows exactly the denials' ends
        denial_ends = {
            x for e in data["edges"] if e.get("stance") == "denies" for x in (e["from"], e["to"])
        }
        assert ev("kg.filter({stances: ['denies']})") == len(denial_ends)
        assert set(ev("kg.visible()")) == denial_ends
        assert page.eval_on_selector("#stance", "s => s.value") == "denies"
        # a date range hides events outside it and keeps undated entities
        ev("kg.filter({stances: null, since: '2020-03', until: '2020-12'})")
        vis = set(ev("kg.visible()"))
        by = {n["id"]: n for n in data["nodes"]}
        assert (
            "event-followup" in vis
            and "abduction-campaign-2017" not in vis
            and "event-main" not in vis
        )
        assert {i for i in ids if "span" not in by[i]} <= vis  # undated entities stay
        assert all(
            by[i]["span"][1] >= "2020-03-01" and by[i]["span"][0] <= "2020-12-31"
            for i in vis
            if "span" in by[i]
        )
        # every visible node has a position
        pos = ev("kg.positions()")
        assert set(pos) == vis and all(len(p) == 2 for p in pos.values())
        assert ev("kg.filter({since: null, until: null})") == len(ids)
        # the histogram: clicking a bar keeps that period
        assert page.eval_on_selector_all("#hist div", "bs => bs.length") >= 2
        # the legend toggles kinds and edge classes
        page.click(".chip >> text=person")
        assert not any(by[i]["kind"] == "person" for i in ev("kg.visible()"))
        page.click(".chip >> text=person")
        page.click(".chip >> text=citations")
        assert not any(e["type"] == "REPORTED_BY" for e in ev("kg.visibleEdges()"))
        assert ev("kg.filter({kinds: ['event'], classes: null})") == sum(
            1 for n in data["nodes"] if n["kind"] == "event"
        )
        ev("kg.filter({kinds: null})")
        # focus and expand: a node's neighbourhood, then its neighbours' neighbours
        n = ev("kg.focus('alvi-karimov')")
        around = {x["other"] for x in ev("kg.neighbors('alvi-karimov')")} | {"alvi-karimov"}
        assert set(ev("kg.visible()")) == around and n == len(around)
        assert ev("kg.expand('karimov-denial')") > 0
        assert "abduction-campaign-2017" in ev("kg.visible()")
        ev("kg.collapse('karimov-denial')")
        assert set(ev("kg.visible()")) == around
        assert ev("kg.showAll()") == len(ids)
        # Save PNG downloads the drawing
        with page.expect_download() as dl:
            page.click("#png")
        png = Path(dl.value.path()).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
        # the chrome at both widths: bars in flow, nothing covers the legend
        ARTIFACTS.mkdir(exist_ok=True)
        for width in (1000, 1400):
            p = b.open(html, width)
            c = chrome_facts(p)
            assert c["graph"] >= c["filters"] >= c["top"] and c["graphHeight"] > 400, c
            assert c["covered"] == 0 and c["chips"] >= 8, c
            assert c["graphRight"] <= c["panelLeft"] + 1, c
            # a tooltip near the right edge stays on screen
            p.evaluate("kg.select(null)")
            box = p.eval_on_selector("#graph canvas", "c => c.getBoundingClientRect().toJSON()")
            target = p.evaluate("""() => { const ps = kg.positions(); let best = null, bx = -1e9;
                for (const id in ps) { const d = kgNetwork.canvasToDOM({x: ps[id][0], y: ps[id][1]});
                  if (d.x > bx && d.x < document.querySelector('#graph').clientWidth - 5) { bx = d.x; best = id; } }
                return best; }""")
            d = p.evaluate(
                f"kgNetwork.canvasToDOM(kgNetwork.getPositions(['{target}'])['{target}'])"
            )
            p.mouse.move(box["x"] + d["x"], box["y"] + d["y"])
            p.wait_for_selector("#tooltip", state="visible", timeout=10_000)
            tip = p.eval_on_selector("#tooltip", "t => t.getBoundingClientRect().toJSON()")
            assert (
                tip["x"] >= box["x"] and tip["x"] + tip["width"] <= box["x"] + box["width"] + 1
            ), (tip, box)
            p.mouse.move(5, 5)
            p.evaluate("kg.select('karimov-denial')")
            p.wait_for_timeout(200)
            p.screenshot(path=str(ARTIFACTS / f"chechnya-{width}.png"))
    assert b.dialogs == [] and b.errors == [], (b.dialogs, b.errors)
    assert all(u == html.resolve().as_uri() for u in b.requests), b.requests


def test_large_page_opens_focused_and_the_whole_graph_is_one_click_away(store, tmp_path, runner):
    case = tmp_path / "synth"
    write_case(case, 5_000, seed=1)
    load(store, [case])
    html = tmp_path / "synth.html"
    res = runner.invoke(
        cli, ["export", "html", "--out", str(html), "--title", "Synthetic, 5,000 records"]
    )
    assert res.exit_code == 0, res.output
    data = page_data(html)
    total = len(data["nodes"])
    assert total > 4_000 and data["large"] and len(data["focus"]) < 500
    focused = tmp_path / "focused.html"
    hub = data["focus"][0]
    res = runner.invoke(cli, ["export", "html", "--out", str(focused), "--focus", hub])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["export", "html", "--out", str(focused), "--focus", "no-such-id"])
    assert res.exit_code != 0 and "no-such-id" in res.output
    ARTIFACTS.mkdir(exist_ok=True)
    times = {}
    with browser() as b:
        for width in (1000, 1400):
            page = b.open(html, width)
            times[width] = round(page.ready_seconds, 2)
            vis = page.evaluate("kg.visible()")
            assert 0 < len(vis) < 500
            assert set(vis) == set(data["focus"])
            assert page.evaluate("kgNetwork.body.data.nodes.length") == len(vis)
            assert not any(e["type"] == "REPORTED_BY" for e in page.evaluate("kg.visibleEdges()"))
            c = chrome_facts(page)
            assert c["graph"] >= c["filters"] and c["covered"] == 0, c
            page.screenshot(path=str(ARTIFACTS / f"synth-5000-{width}.png"))
        # the whole graph, one click away
        page.click("#all")
        assert len(page.evaluate("kg.visible()")) == total
        assert len(page.evaluate("kg.positions()")) == total
        page.click("#opening")
        assert set(page.evaluate("kg.visible()")) == set(data["focus"])
        # a search reaches a node outside the opening view, and draws it with its neighbours
        outside = next(
            n["id"]
            for n in data["nodes"]
            if n["id"] not in set(data["focus"]) and n["kind"] == "person"
        )
        assert page.evaluate(f"kg.select('{outside}')") is True
        assert outside in page.evaluate("kg.visible()")
        page = b.open(focused)
        assert hub in page.evaluate("kg.visible()") and len(page.evaluate("kg.visible()")) < 500
    (ARTIFACTS / "synth-5000-ready.json").write_text(
        json.dumps({"nodes": total, "edges": len(data["edges"]), "ready_seconds_by_width": times})
        + "\n"
    )
    print(f"5,000-record page ({total} nodes): kg.ready after {times} s")
    assert b.errors == [] and all(u.startswith("file:") for u in b.requests), (b.errors, b.requests)
