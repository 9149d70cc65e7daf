"""Every view of a running dashboard in a real headless Chromium (Debian's chromium and its
chromedriver, as `make browser` installs them): each page must draw what a person first sees
(the element below) without a SEVERE console message. tests/containers/run_stack.sh runs it
against the dashboard container's published port.

    python tests/containers/browse_views.py URL
"""

from __future__ import annotations

import shutil
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

VIEWS = {  # path: what the view draws once its callbacks have answered
    "/": "#map-graph .js-plotly-plot",
    "/network": "#network-graph",
    "/distributions": "#dist-graph .js-plotly-plot",
    "/families": "#families-table td",
    "/drift": "#drift-findings-list",
    "/evolution": "#evolution-resemblance .js-plotly-plot",
    "/growth": "#growth-total",
    "/compare": "#compare-hint",
}
TIMEOUT = 90.0


def chromium() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1400,1000")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = shutil.which("chromedriver") or "chromedriver"
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def drawn(browser: webdriver.Chrome, css: str) -> bool:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            if browser.find_elements(By.CSS_SELECTOR, css):
                return True
        except WebDriverException:
            pass
        time.sleep(0.5)
    return False


def severe_messages(browser: webdriver.Chrome) -> list[str]:
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]
    ]


def main() -> int:
    if len(sys.argv) != 2 or not sys.argv[1].startswith("http"):
        print("usage: python tests/containers/browse_views.py URL", file=sys.stderr)
        return 2
    url = sys.argv[1].rstrip("/")
    browser = chromium()
    failures = []
    try:
        for path, css in VIEWS.items():
            started = time.monotonic()
            browser.get(url + path)
            if not drawn(browser, css):
                failures.append(f"{path}: {css} was not drawn within {TIMEOUT:.0f} s")
            elif errors := severe_messages(browser):
                failures.append(f"{path}: console errors {errors}")
            else:
                print(f"  {path}: {css} drawn in {time.monotonic() - started:.1f} s", flush=True)
    finally:
        browser.quit()
    for failure in failures:
        print(f"  FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
