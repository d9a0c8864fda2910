"""The exported HTML page in a real headless Chromium with the network cut.

Chromium comes from Debian's package (installed here when missing); Playwright drives it
through `executable_path`, with no browser download. A screenshot is kept in
test-artifacts/.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kg.export import export
from kg.loader import load
from kg.selection import Selection, select

from conftest import CASES, CHECHNYA, ROOT

pytestmark = pytest.mark.neo4j
ARTIFACTS = ROOT / "test-artifacts"


def chromium() -> str:
    path = shutil.which("chromium")
    if path:
        return path
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
    out = subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env,
                         capture_output=True, text=True)
    path = shutil.which("chromium")
    assert path, f"could not install Debian's chromium: {out.stderr[-500:]}"
    return path


def open_page(html: Path, shot: Path):
    """Open the page offline; return (page-facts, list of attempted requests)."""
    from playwright.sync_api import sync_playwright

    requests, dialogs = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), headless=True,
                                     args=["--no-sandbox", "--disable-background-networking",
                                           "--disable-gpu"])
        context = browser.new_context(offline=True, viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else route.abort())
        page.goto(html.resolve().as_uri())
        # Polled from outside: the page's CSP forbids eval, which wait_for_function needs.
        for _ in range(600):
            if page.evaluate("window.kgDrawn === true && window.kgReady === true"):
                break
            page.wait_for_timeout(100)
        else:
            raise AssertionError("the graph was not drawn within 60 s")
        facts = page.evaluate("""() => {
            const canvas = document.querySelector('#graph canvas');
            const ctx = canvas.getContext('2d');
            const img = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < img.length; i += 4) if (img[i] !== 0) painted++;
            return {nodes: kgNetwork.body.data.nodes.length, painted,
                    imgs: document.querySelectorAll('img').length,
                    scripts: document.querySelectorAll('script[src]').length,
                    links: document.querySelectorAll('link[href]').length};
        }""")
        page.fill("#search", "Karimov")
        page.press("#search", "Enter")
        facts["selected"] = page.evaluate("kgNetwork.getSelectedNodes()")
        facts["search_result"] = page.inner_text("#searchResult")
        # hover a node: its tooltip shows its sources with their quotes
        target = "killings-2017"
        page.evaluate(f"kgNetwork.focus('{target}', {{scale: 1.5, animation: false}})")
        page.wait_for_timeout(300)
        box = page.eval_on_selector("#graph canvas", "c => c.getBoundingClientRect().toJSON()")
        pos = page.evaluate(f"kgNetwork.canvasToDOM(kgNetwork.getPositions(['{target}'])['{target}'])")
        page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
        page.wait_for_selector("#tooltip", state="visible", timeout=10_000)
        facts["tooltip"] = page.inner_text("#tooltip")
        page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
        facts["panel"] = page.inner_text("#panel")
        page.fill("#search", "NGO")
        page.press("#search", "Enter")
        facts["xss_panel"] = page.inner_text("#panel")
        facts["imgs_after"] = page.evaluate("document.querySelectorAll('img').length")
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.fill("#search", "abduction")
        page.press("#search", "Enter")
        page.evaluate("kgNetwork.fit({animation: false})")
        page.wait_for_timeout(300)
        page.screenshot(path=str(shot))
        browser.close()
    return facts, requests, dialogs


def test_exported_page_offline(store, tmp_path):
    load(store, [CHECHNYA])
    load(store, [CASES / "contract"])
    sub = select(store, Selection(), with_citations=True)
    html = tmp_path / "graph.html"
    export(sub, "html", html, title="kg: Chechnya 2017 <b>test</b>")
    text = html.read_text()
    assert "http://" not in text.split("<script>")[0] and "<script src" not in text
    facts, requests, dialogs = open_page(html, ARTIFACTS / "chechnya-graph.png")
    assert requests == [html.resolve().as_uri()], requests  # nothing but the page itself
    assert dialogs == []  # no record text ran as script
    assert facts["nodes"] == len(sub.nodes) and facts["painted"] > 10_000
    assert facts["scripts"] == 0 and facts["links"] == 0 and facts["imgs"] == 0
    assert facts["imgs_after"] == 0
    assert facts["selected"] == ["alvi-karimov"] and "match" in facts["search_result"]
    assert "at least three of the men have been killed" in facts["tooltip"]
    assert "at least three of the men have been killed" in facts["panel"]
    assert "NGO <img src=x onerror=alert(1)>" in facts["xss_panel"]
