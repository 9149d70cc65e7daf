"""Retake the README's screenshots on a build (the real Hub listing's, for the README).

Serves the build with `hfmap serve` (as bench/dashboard.py does), opens each view in headless
Chromium at one window size, waits until the view has drawn (its graph or table present and no
callback loading), and saves docs/screenshots/NAME.png. The Growth view reads the tracker's
history, not the build: its screenshot stays the one the browser tests take on the sample unless
--growth-history points at a tracker history.

    python bench/screenshots.py --builds bench/out/builds_real_day
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.dashboard import chrome, running_server  # noqa: E402
from bench.run import ROOT  # noqa: E402

WINDOW = (1400, 1000)
FAMILY = "mistralai/Mistral-7B-v0.1"  # the real listing's family with the most descendants
# two of its grandchildren, on two branches: their path meets at FAMILY
COMPARED = ("Intel/neural-chat-7b-v3-3", "TheBloke/zephyr-7B-beta-AWQ")
# name -> (path and query, the CSS selector of what must be drawn)
SHOTS = {
    "map": ("/", "#map-graph .js-plotly-plot .gl-container"),
    "map-3d": ("/?dims=3&colour=cluster", "#map-graph .js-plotly-plot .gl-container"),
    "network": (
        f"/network?model={quote(FAMILY, safe='')}&show=family",
        "#network-graph canvas",
    ),
    "distributions": ("/distributions?attr=downloads", "#dist-graph .js-plotly-plot"),
    "families": ("/families", "#families-table td"),
    "families-over-time": ("/families?tab=time", "#adoption-curves .js-plotly-plot"),
    "families-growing": ("/families?tab=growing", "#growing-fastest td"),
    "compare": (
        f"/compare?a={quote(COMPARED[0], safe='')}&b={quote(COMPARED[1], safe='')}",
        "#compare-path",
    ),
    "drift": ("/drift", "#drift-findings-list"),
    "evolution": ("/evolution", "#evolution-findings .js-plotly-plot, .js-plotly-plot"),
}
SELECTION_SHARE = 0.3  # map-selection: a box over the middle 30% of the first view's axes
SETTLE_SECONDS = 2.0  # after the view is drawn: WebGL frames, layouts that animate
READY_TIMEOUT = 120.0


def wait_drawn(driver, css: str) -> None:
    """Until css matches an element and no Dash callback is loading, then SETTLE_SECONDS."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        ready = driver.execute_script(
            "return document.querySelector(arguments[0]) !== null && "
            "document.querySelector('[data-dash-is-loading=\"true\"]') === null;",
            css,
        )
        if ready:
            time.sleep(SETTLE_SECONDS)
            return
        time.sleep(0.2)
    sys.exit(f"screenshots: {driver.current_url} did not draw {css} in {READY_TIMEOUT:.0f} s")


def selection_query(driver, url: str) -> str:
    """The map's URL with a box selection over the middle of the first view's axes."""
    driver.get(url + "/")
    wait_drawn(driver, SHOTS["map"][1])
    x0, x1, y0, y1 = driver.execute_script(
        "const l = document.querySelector('#map-graph .js-plotly-plot')._fullLayout;"
        "return [...l.xaxis.range, ...l.yaxis.range];"
    )
    margin = (1 - SELECTION_SHARE) / 2
    box = [
        x0 + (x1 - x0) * margin,
        x1 - (x1 - x0) * margin,
        y0 + (y1 - y0) * margin,
        y1 - (y1 - y0) * margin,
    ]
    return "/?sel=box:" + ",".join(f"{value:.3f}" for value in box)


def take(builds: Path, out: Path, names: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hfmap-screenshots-") as work:
        work_dir = Path(work)
        # REDIS_URL empty: the server embeds its own Redis, so no cached view is reused
        with running_server(builds, work_dir / "cache", "", work_dir / "serve.log") as server:
            driver = chrome()
            try:
                driver.set_window_size(*WINDOW)
                for name in names:
                    if name == "map-selection":
                        path, css = selection_query(driver, server.url), SHOTS["map"][1]
                    else:
                        path, css = SHOTS[name]
                    driver.get(server.url + path)
                    wait_drawn(driver, css)
                    target = out / f"{name}.png"
                    if not driver.save_screenshot(str(target)):
                        sys.exit(f"screenshots: could not save {target}")
                    print(f"screenshots: {target} ({path})", flush=True)
            finally:
                driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description="Retake the README's screenshots on a build.")
    parser.add_argument("--builds", type=Path, required=True, help="a build or builds directory")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    names = [*SHOTS, "map-selection"]
    parser.add_argument(
        "--only", nargs="+", choices=names, default=names, help="the screenshots to take"
    )
    args = parser.parse_args()
    if not args.builds.exists():
        parser.error(f"--builds {args.builds} does not exist; make a build first")
    take(args.builds, args.out, args.only)


if __name__ == "__main__":
    main()
