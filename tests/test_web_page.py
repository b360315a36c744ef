"""The chat page in headless Chromium, against the real server on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium is not installed at /usr/bin/chromium"),
]

LAWSUIT_Q = "How much was the lawsuit against the set designer?"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


class WatchedPage:
    """A page that records console errors, page errors, dialogs and every request's host."""

    def __init__(self, browser: object, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 820})
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.console_errors: list[str] = []
        self.hosts: set[str] = set()
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.console_errors.append(f"pageerror: {e}"))
        self.page.on("request", lambda r: self.hosts.add(urlsplit(r.url).hostname or urlsplit(r.url).scheme))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(url)
        self.page.wait_for_selector(".status-ready")

    def ask(self, question: str) -> object:
        """Type and send a question; the new assistant (or error) message once it is there."""
        before = self.page.locator(".msg:not(.user):not(.pending)").count()
        self.page.fill("#question", question)
        self.page.press("#question", "Enter")
        latest = self.page.locator(".msg:not(.user):not(.pending)").nth(before)
        latest.wait_for()
        return latest

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser, live_server) -> Iterator[WatchedPage]:
    w = WatchedPage(browser, live_server.url)
    yield w
    w.close()


def test_conversation_citations_follow_ups_and_abstention(watched: WatchedPage, live_server) -> None:
    page = watched.page
    expected = httpx.post(f"{live_server.url}/api/ask", json={"question": LAWSUIT_Q}, timeout=60).json()

    # A follow-up question is answered using the conversation so far (the history is sent back).
    first = watched.ask("Who is Balenciaga's creative director?")
    assert "Demna" in first.inner_text()
    follow = watched.ask("How did he apologize?")
    assert "answered" in follow.get_attribute("class")
    assert re.search(r"apologi[sz]", follow.inner_text(), re.I)

    # An answer with a citation chip; the chip opens the article with the quote highlighted in view.
    answer = watched.ask(LAWSUIT_Q)
    assert "answered" in answer.get_attribute("class")
    assert "$25 million" in answer.inner_text()
    chip = answer.locator(".answer-line .chip")
    assert chip.inner_text() == "1"
    chip.click()
    mark = page.locator("#doc-text mark")
    mark.wait_for()
    assert mark.inner_text() == expected["citations"][0]["quote"]
    assert page.locator("#doc-title").inner_text() == expected["citations"][0]["title"]
    page.wait_for_function(
        """() => { const m = document.querySelector('#doc-text mark').getBoundingClientRect();
                   const r = document.querySelector('#reader').getBoundingClientRect();
                   return m.top >= r.top && m.bottom <= r.bottom; }"""
    )  # scrolled into view inside the reader panel

    # No answer: said plainly, styled differently, with related passages.
    none = watched.ask("What is the capital of France?")
    assert "abstained" in none.get_attribute("class")
    assert none.locator(".statement").inner_text().startswith("The articles don't say")
    assert none.locator(".related-item").count() > 0
    assert none.evaluate("e => getComputedStyle(e.querySelector('.bubble')).borderStyle") == "dashed"

    # Look at the result (artifacts/ is gitignored).
    chip.scroll_into_view_if_needed()
    chip.click()
    mark.wait_for()
    page.locator("#scroller").evaluate("e => { e.scrollTop = e.scrollHeight; }")
    page.wait_for_timeout(400)  # the smooth scroll to the highlight
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"))

    assert watched.console_errors == []
    assert watched.hosts <= {"127.0.0.1", "data"}, watched.hosts


def test_html_in_text_is_shown_as_text(watched: WatchedPage) -> None:
    payload = "<img src=x onerror=alert(1)> Who is <b>Demna</b>?"
    reply = watched.ask(payload)
    assert watched.page.locator(".msg.user .bubble").last.inner_text() == payload
    assert watched.page.locator("img").count() == 0
    assert watched.page.locator(".messages b").count() == 0
    assert reply.is_visible()
    assert watched.dialogs == []
    assert watched.console_errors == []
    assert watched.hosts <= {"127.0.0.1", "data"}, watched.hosts


def test_unreachable_server_is_explained(watched: WatchedPage) -> None:
    # The network fails for /api/ask (as when the server is down): the fetch rejects.
    watched.page.route("**/api/ask", lambda route: route.abort())
    reply = watched.ask(LAWSUIT_Q)
    assert "error" in reply.get_attribute("class")
    assert "Can't reach the server" in reply.inner_text()
    # The page still works afterwards.
    watched.page.unroute("**/api/ask")
    assert "$25 million" in watched.ask(LAWSUIT_Q).inner_text()


def test_server_error_is_explained(watched: WatchedPage) -> None:
    reply = watched.ask("why " * 300)  # over the 1000-character limit: a 400 from the server
    assert "error" in reply.get_attribute("class")
    text = reply.inner_text()
    assert "(400)" in text and "the limit is 1000" in text
