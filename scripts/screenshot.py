"""Screenshot an exported kg page with headless Chromium (offline): used for the README.

python scripts/screenshot.py out/chechnya-2017.html docs/chechnya-graph.png [search]
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright


def main(html: str, png: str, search: str = "") -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        page = browser.new_context(offline=True, viewport={"width": 1400, "height": 860}).new_page()
        page.goto(Path(html).resolve().as_uri())
        for _ in range(600):
            if page.evaluate("window.kgDrawn === true && window.kgReady === true"):
                break
            page.wait_for_timeout(100)
        if search:
            page.fill("#search", search)
            page.press("#search", "Enter")
        page.evaluate("kgNetwork.fit({animation: false})")
        page.wait_for_timeout(300)
        page.screenshot(path=png)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
