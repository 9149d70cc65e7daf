"""What the browser tests do on a page: read an element's text or attribute, read the address's
query, click an element. Each tolerates Dash replacing the element meanwhile."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from selenium.common.exceptions import (
    ElementClickInterceptedException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By


def text_of(browser, css: str, attribute: str = "") -> str:
    """The text (or an attribute) of the first element matching css; "" when there is none or
    Dash replaced it meanwhile."""
    try:
        found = browser.find_elements(By.CSS_SELECTOR, css)
        if not found:
            return ""
        return (found[0].get_attribute(attribute) if attribute else found[0].text) or ""
    except StaleElementReferenceException:
        return ""


def query_of(browser) -> dict[str, list[str]]:
    return parse_qs(urlsplit(browser.current_url).query)


def click(browser, css: str) -> None:
    """A real click on the first element matching css, scrolled into view first (again, while a
    redrawn page moves it)."""
    for _ in range(20):
        try:
            element = browser.find_element(By.CSS_SELECTOR, css)
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
            element.click()
            return
        except (ElementClickInterceptedException, StaleElementReferenceException):
            time.sleep(0.2)
    raise AssertionError(f"could not click {css}")
