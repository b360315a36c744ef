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
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"  # axe-core 4.14.1, MPL-2.0
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
UNANSWERABLE_Q = "What is the capital of France?"  # abstains, listing the closest passages
DIRECTOR_Q = "Who is Balenciaga's creative director?"
FOLLOW_UP_Q = "How did he apologize?"
TIMEOUT_MS = 30_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = [pytest.param(DESKTOP, id="1280x800"), pytest.param(PHONE, id="390x844")]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


class WatchedPage:
    """A page that records console errors, page errors, dialogs and every request's host."""

    def __init__(self, browser: object, url: str, viewport: dict | None = None, *, bypass_csp: bool = False) -> None:
        # bypass_csp only to inject the axe-core checker: the page's policy (script-src 'self') blocks it.
        self.context = browser.new_context(viewport=viewport or {"width": 1280, "height": 820}, bypass_csp=bypass_csp)
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


# -- layout, accessibility and follow-ups at desktop and phone widths ---------------------------------------


@pytest.fixture
def open_page(browser, live_server) -> Iterator[object]:
    """open_page(viewport, bypass_csp=False) -> a WatchedPage at that size, closed after the test."""
    pages: list[WatchedPage] = []

    def open_(viewport: dict, *, bypass_csp: bool = False) -> WatchedPage:
        pages.append(WatchedPage(browser, live_server.url, viewport, bypass_csp=bypass_csp))
        return pages[-1]

    yield open_
    for w in pages:
        w.close()


def squash(text: str) -> str:
    return " ".join(text.split())


def is_focused(locator: object) -> bool:
    return locator.evaluate("e => e === document.activeElement")


# Is the element entirely inside the visible part of the conversation's scroller?
IN_SCROLLER_VIEW = """e => { const r = e.getBoundingClientRect();
    const s = document.getElementById('scroller').getBoundingClientRect();
    return r.top >= s.top - 1 && r.bottom <= s.bottom + 1 && r.height > 0; }"""


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_reply_is_shown_from_its_question_not_scrolled_to_the_bottom(open_page, viewport) -> None:
    w = open_page(viewport)
    w.ask(LAWSUIT_Q)
    reply = w.ask(UNANSWERABLE_Q)  # a long message: the statement, then the closest passages
    assert "abstained" in reply.get_attribute("class")
    assert reply.locator(".related-item").count() > 0
    question = w.page.locator(".msg.user .bubble").last
    assert question.inner_text() == UNANSWERABLE_Q
    assert question.evaluate(IN_SCROLLER_VIEW), "the question scrolled out of view"
    assert reply.locator(".statement").evaluate(IN_SCROLLER_VIEW), "the answer's first line is out of view"
    assert w.page.locator("#scroller").evaluate("e => e.scrollTop") > 0  # moved on from the first exchange
    assert w.console_errors == []


def test_follow_up_shows_what_it_was_understood_as(watched: WatchedPage, live_server) -> None:
    page = watched.page
    first_json = httpx.post(f"{live_server.url}/api/ask", json={"question": DIRECTOR_Q}, timeout=60).json()
    history = [{"role": "user", "content": DIRECTOR_Q}, {"role": "assistant", "content": first_json["reply"]}]
    follow_json = httpx.post(
        f"{live_server.url}/api/ask", json={"question": FOLLOW_UP_Q, "history": history}, timeout=60
    ).json()
    resolved = squash(follow_json["resolved_question"])
    assert resolved != FOLLOW_UP_Q  # the premise: the server rewrote the follow-up with the earlier turn

    first = watched.ask(DIRECTOR_Q)
    assert first.locator(".understood").count() == 0  # taken as asked: nothing to say
    follow = watched.ask(FOLLOW_UP_Q)
    line = follow.locator(".understood")
    assert line.is_visible()
    assert squash(line.text_content()) == f"Understood as: {resolved}"

    # Also on an abstention: the same server reply, turned into one.
    def as_abstention(route: object) -> None:
        response = route.fetch()
        body = response.json()
        body.update(
            abstained=True, answer=None, sentence=None, citations=[], candidates=[], answer_start=None,
            answer_end=None, reply="The articles don't say. I found nothing in them that answers it.",
        )  # fmt: skip
        route.fulfill(response=response, json=body)

    page.route("**/api/ask", as_abstention)
    none = watched.ask("When did he apologize?")
    assert "abstained" in none.get_attribute("class")
    line = none.locator(".understood")
    assert line.is_visible()
    assert squash(line.text_content()).startswith("Understood as: When did he apologize? ")
    assert watched.console_errors == []


def test_article_opens_as_a_closable_sheet_on_a_phone(open_page) -> None:
    w = open_page(PHONE)
    page = w.page
    answer = w.ask(LAWSUIT_Q)
    reader = page.locator("#reader")
    assert not reader.is_visible()
    chat = page.locator("#chat").bounding_box()
    assert chat["width"] >= 0.9 * PHONE["width"] and chat["height"] >= 0.8 * PHONE["height"]

    chip = answer.locator(".answer-line .chip")
    chip.click()
    page.locator("#doc-text mark").wait_for()
    sheet = reader.bounding_box()
    assert reader.evaluate("e => getComputedStyle(e).position") == "fixed"
    assert sheet["width"] >= PHONE["width"] - 1 and sheet["height"] >= 0.75 * PHONE["height"]
    close = page.get_by_role("button", name="Close")
    box = close.bounding_box()
    assert close.is_visible() and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
    # A compact head: most of the sheet is the article's text.
    head = page.locator(".doc-head")
    assert head.evaluate("e => getComputedStyle(e).position") != "sticky"
    assert head.bounding_box()["height"] <= 0.25 * sheet["height"]
    page.wait_for_function(
        """() => { const m = document.querySelector('#doc-text mark').getBoundingClientRect();
                   const t = document.querySelector('#doc-text').getBoundingClientRect();
                   return m.top >= t.top && m.bottom <= t.bottom; }"""
    )
    assert page.locator("#chat").evaluate("e => e.inert")  # what the sheet covers can't be reached

    # Escape closes it: the chat has the whole screen again, and focus is back on the citation.
    page.keyboard.press("Escape")
    reader.wait_for(state="hidden")
    assert page.locator("#chat").bounding_box() == chat
    assert not page.locator("#chat").evaluate("e => e.inert")
    assert is_focused(chip)

    # So does the Close button.
    chip.click()
    page.locator("#doc-text mark").wait_for()
    close.click()
    reader.wait_for(state="hidden")
    assert chip.get_attribute("aria-pressed") == "false"
    assert w.console_errors == []


def test_article_panel_closes_on_desktop(open_page) -> None:
    w = open_page(DESKTOP)
    page = w.page
    chip = w.ask(LAWSUIT_Q).locator(".answer-line .chip")
    chip.click()
    page.locator("#doc-text mark").wait_for()
    assert chip.get_attribute("aria-pressed") == "true"
    page.get_by_role("button", name="Close").click()
    page.locator("#doc").wait_for(state="hidden")
    assert page.locator("#reader-empty").is_visible()  # the panel is back to its hint
    assert chip.get_attribute("aria-pressed") == "false"
    assert is_focused(chip)
    chip.click()
    page.locator("#doc-text mark").wait_for()
    page.keyboard.press("Escape")
    page.locator("#doc").wait_for(state="hidden")
    assert w.console_errors == []


# Each shown title's clamp, rendered lines, weight and size, and the answer text's size.
TITLE_METRICS = """() => {
  const answer = parseFloat(getComputedStyle(document.querySelector('.answer-text')).fontSize);
  const titles = [...document.querySelectorAll('.sources .source-title, .related-item .source-title, #doc-title')];
  return titles.map(e => { const s = getComputedStyle(e);
    return { text: e.textContent.slice(0, 50), clamp: s.webkitLineClamp, weight: Number(s.fontWeight),
             size: parseFloat(s.fontSize), answer, lines: e.getBoundingClientRect().height / parseFloat(s.lineHeight) };
  });
}"""


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_titles_are_clamped_and_lighter_than_answers(open_page, viewport) -> None:
    w = open_page(viewport)
    page = w.page
    w.ask(UNANSWERABLE_Q)  # related passages with their titles
    answer = w.ask(LAWSUIT_Q)  # sources with their titles
    answer.locator(".answer-line .chip").click()
    page.locator("#doc-text mark").wait_for()
    metrics = page.evaluate(TITLE_METRICS)
    kinds = page.evaluate("""() => [!!document.querySelector('.sources .source-title'),
                                    !!document.querySelector('.related-item .source-title')]""")
    assert kinds == [True, True]
    for m in metrics:
        assert m["clamp"] in ("1", "2"), m
        assert round(m["lines"], 1) <= 2, m
        assert m["weight"] <= 500, m
        assert m["size"] <= m["answer"], m
    assert w.console_errors == []


def test_waiting_and_opening_an_article_are_announced(watched: WatchedPage) -> None:
    page = watched.page
    held: list[object] = []  # the /api/ask request, held so that the waiting indicator stays up
    page.route("**/api/ask", lambda route: held.append(route))
    page.fill("#question", LAWSUIT_Q)
    page.press("#question", "Enter")
    waiting = page.locator(".msg.pending [role=status]")
    waiting.wait_for()
    assert "Looking for the answer" in waiting.text_content()
    assert "Looking for the answer" in page.locator(".msg.pending").aria_snapshot()  # in the accessibility tree
    while not held:
        page.wait_for_timeout(50)
    held[0].continue_()
    page.unroute("**/api/ask")
    answer = page.locator(".msg.answered").last
    answer.wait_for()
    assert page.locator(".msg.pending").count() == 0

    answer.locator(".answer-line .chip").click()
    page.locator("#doc-text mark").wait_for()
    title = page.locator("#doc-title")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'doc-title'")
    assert title.get_attribute("tabindex") == "-1"
    assert title.evaluate("e => e.tagName") == "H2"
    announcer = page.locator("#announcer")
    assert announcer.get_attribute("role") == "status"
    expected = f"Opened article: {title.text_content()}, quoted passage highlighted."
    page.wait_for_function("t => document.getElementById('announcer').textContent === t", arg=expected)
    assert watched.console_errors == []


def test_previews_are_cut_at_a_word_boundary(watched: WatchedPage, live_server) -> None:
    related = httpx.post(f"{live_server.url}/api/ask", json={"question": UNANSWERABLE_Q}, timeout=60).json()
    passages = related["related"][:3]
    reply = watched.ask(UNANSWERABLE_Q)
    shown = reply.locator(".snippet").all_text_contents()
    assert len(shown) == len(passages)
    cut = 0
    for snippet, passage in zip(shown, passages, strict=True):
        full = passage["text"].strip()
        if snippet == full:
            continue
        cut += 1
        assert snippet.endswith("…"), snippet
        kept = snippet[:-1]
        assert full.startswith(kept), snippet
        assert not full[len(kept)].isalnum(), f"cut mid-word: {snippet!r}"
        assert len(snippet) <= 220
    assert cut > 0  # the passages are longer than a preview
    preview = "(args) => preview(...args)"
    assert watched.page.evaluate(preview, ["one two three four", 12]) == "one two…"
    assert watched.page.evaluate(preview, ["one two, three", 9]) == "one two…"
    assert watched.page.evaluate(preview, ["short", 12]) == "short"


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_axe_finds_no_serious_problems_and_screenshots(open_page, viewport) -> None:
    size = f"{viewport['width']}x{viewport['height']}"
    w = open_page(viewport, bypass_csp=True)  # bypass_csp: axe is injected as an inline script
    page = w.page
    w.ask(DIRECTOR_Q)
    w.ask(FOLLOW_UP_Q)  # a rewritten follow-up: the "understood as" line
    w.ask(UNANSWERABLE_Q)  # an abstention with the closest passages
    answer = w.ask(LAWSUIT_Q)  # an answer with citations
    answer.locator(".answer-line .chip").click()
    page.locator("#doc-text mark").wait_for()
    page.wait_for_timeout(600)  # the smooth scroll to the highlight
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"page-{size}.png"))  # artifacts/ is git-ignored

    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    if viewport == PHONE:  # also the conversation with the sheet closed
        page.keyboard.press("Escape")
        page.locator("#reader").wait_for(state="hidden")
        page.screenshot(path=str(ARTIFACTS / f"page-{size}-closed.png"))
        seen = {v["id"] for v in violations}
        violations += [
            v for v in page.evaluate("async () => (await axe.run(document)).violations") if v["id"] not in seen
        ]
    print(f"axe {size}: {len(violations)} violations")
    for v in violations:
        targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:3]]
        print(f"axe {size}: {v['impact']}: {v['id']} ({len(v['nodes'])} nodes) {v['help']} {targets}")
    serious = [(v["id"], v["impact"]) for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    # The two reported before: scrolling regions reachable from the keyboard, and heading levels in order.
    assert {v["id"] for v in violations}.isdisjoint({"scrollable-region-focusable", "heading-order"})
    assert w.console_errors == []
