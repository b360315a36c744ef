"""Boilerplate removal: page debris never reaches a chunk or sentence; genuine text next to it does, and so does
an article's byline, which readers ask about.

The unit tests run `clean` on small hand-made texts (pure functions, no model); the seed-corpus tests
look at what the real index (built once per session by conftest) holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from index.chunking import ChunkingConfig, chunk_document
from index.cleaning import clean, is_boilerplate, is_byline
from index.store import IndexData, load_index

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"

# Debris the seed articles really carry (each is asserted present in the raw files first, so the
# absence checks below cannot pass vacuously).
SEED_DEBRIS = [
    "Article continues below advertisement",
    "Advertisement",
    "Source: mega",
    "Source: OK!",
    "source: Page Six",
    "source: Instagram",
    "Link to FacebookShare to XShare to Email",
    "View this post on Instagram",
    "A post shared by",
    "Leave a Reply",
    "Your email address will not be published",
    "Required fields are marked",
    "GIPHY App Key not set",
    "© Copyright 2024 OK!",
    "All rights reserved",
    "Opt-out of personalized ads",
    "Sign up here",
    "Home > News",
    "BREAKING NEWS",
    "OK! Logo",
    "Getty Images",
    "Image via Instagram",
    # The unrelated stories appended after the comment form / "You may be interested in".
    "Dua Lipa",
    "Prince Harry",
    "Britney Spears",
]

# Genuine sentences that sit right next to debris in the seeds.
SEED_KEPT_SENTENCES = [
    "Kim Kardashian is a brand ambassador for Balenciaga.",
    "Kardashian has yet to publicly respond to the backlash.",
    "Balenciaga came under fire in 2022 for a controversial series of ads.",
    "Social media critics slammed Kardashian for her decision to continue to do business with Balenciaga.",
    "Apart from this, Kim Kardashian gave a proper answer to people’s comments.",
    "What do you think?",
    "Written by Keshaa Perry",  # a byline: kept (who wrote the article is a question readers ask)
]


@pytest.fixture(scope="module")
def seed_index(seed_index_dir: Path) -> IndexData:
    return load_index(seed_index_dir)


def _raw_seed_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(SEED_CORPUS.glob("*.txt")))


def _kept(text: str) -> list[str]:
    return [text[p.start : p.end] for p in clean(text)]


# --- unit tests on hand-made text ---------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Advertisement",
        "Article continues below advertisement",
        "Story continues below advertisement",
        "Source: mega",
        "Kim at the show source: Page Six",
        "Link to FacebookShare to XShare to Email",
        "Share on Twitter",
        "Click to share on Facebook (Opens in new window)",
        "Post to X",
        "View this post on Instagram",
        "A post shared by Kim Kardashian (@kimkardashian)",
        "Your email address will not be published. Required fields are marked *",
        "GIPHY App Key not set. Please check settings",
        "© Copyright 2024 OK!. A DIVISION OF EMPIRE MEDIA GROUP HOLDINGS LLC. All rights reserved.",
        "Copyright 2023 Some Paper Ltd.",
        "Jan. 22 2024, Published 6:20 p.m. ET",
        "Dimitrios Kambouris/Getty Images",
        "Opt-out of personalized ads",
    ],
)
def test_debris_lines_are_boilerplate(line: str) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "Kim Kardashian is a brand ambassador for Balenciaga.",
        "Kardashian has yet to publicly respond to the backlash.",
        "The advertisement was pulled after two days.",
        "She shared the post on Instagram with her followers.",
        # Regressions: the byline rule ignored case and the copyright rule matched any leading
        # "Copyright", dropping real one-line paragraphs like these.
        "By Christmas everything changed.",
        "Copyright lawsuits rose sharply last year.",
        # Regressions: the caption-credit and share-button rules matched anywhere in a line, dropping news prose.
        "In a post on X, Doe said she would spend more time with her family.",
        "Police wrote in a post on Facebook that the suspect, John Smith, 34, was arrested at 4 a.m.",
        "The data came from one source: the Treasury.",
        "",
    ],
)
def test_genuine_lines_are_not_boilerplate(line: str) -> None:
    assert not is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    ["Written by Keshaa Perry", "By Jane Doe", "By Ann Lee and Tom Ng, Staff Writers", "By Kim Lee, Reuters"],
)
def test_bylines_are_kept_as_text(line: str) -> None:
    assert is_byline(line) and not is_boilerplate(line)
    text = f"Council passes the budget\n\nThe council passed the budget on Monday.\n\n{line}\n\nLeave a Reply\n"
    assert _kept(text) == ["Council passes the budget", "The council passed the budget on Monday.", line]


@pytest.mark.parametrize("line", ["By Christmas everything changed.", "By Sunday, it was over", "by the way"])
def test_sentences_starting_with_by_are_not_bylines(line: str) -> None:
    assert not is_byline(line)


def test_clean_returns_offsets_into_the_original_text() -> None:
    text = "Headline of the story here\n\nFirst real paragraph.\nAdvertisement\n  Second paragraph, indented.  \n"
    paragraphs = clean(text)
    assert [text[p.start : p.end] for p in paragraphs] == [
        "Headline of the story here",
        "First real paragraph.",
        "Second paragraph, indented.",
    ]


def test_removed_debris_starts_a_new_block_so_chunks_never_bridge_it() -> None:
    text = "The first fact is here.\nThe second fact is here.\nAdvertisement\nThe third fact is here.\n"
    paragraphs = clean(text)
    assert [p.block for p in paragraphs] == [0, 0, 1]
    # Even with a budget that would fit everything, no chunk may span the removed line.
    chunks = chunk_document(text, paragraphs, ChunkingConfig(max_tokens=500, overlap_tokens=0))
    assert all("Advertisement" not in text[c.start : c.end] for c in chunks)
    assert [text[c.start : c.end] for c in chunks][-1] == "The third fact is here."


def test_image_credit_takes_its_alt_text_line_with_it() -> None:
    text = (
        "Opening sentence of the article.\n\n"
        "kim kardashian ballenciagajpg\nSource: mega\n\n"
        "Kim Kardashian is a brand ambassador for Balenciaga.\n"
    )
    assert _kept(text) == ["Opening sentence of the article.", "Kim Kardashian is a brand ambassador for Balenciaga."]


def test_everything_after_leave_a_reply_is_dropped() -> None:
    text = (
        "The real article ends here.\n\nWhat do you think?\n\nLeave a Reply\n\n"
        "Your email address will not be published.\n\n"
        "Dua Lipa is granted Albanian citizenship on Sunday!\n\nPrince Harry feared the worst.\n"
    )
    assert _kept(text) == ["The real article ends here.", "What do you think?"]


def test_share_buttons_instagram_embeds_and_footer_are_dropped() -> None:
    text = (
        "A real first paragraph about the story.\n\n"
        "Link to FacebookShare to XShare to Email\n\n"
        "View this post on Instagram\n\nA post shared by Kim Kardashian (@kimkardashian)\n\n"
        "A real second paragraph.\n\n"
        "© Copyright 2024 OK!. All rights reserved.\n"
    )
    assert _kept(text) == ["A real first paragraph about the story.", "A real second paragraph."]


def test_masthead_and_date_prefix_are_dropped_but_headline_kept() -> None:
    text = " date 2024-01-22 OK Magazine\nOK Magazine\nBREAKING NEWS\n\nThe Actual Headline Of The Story\n\nBody.\n"
    assert _kept(text) == ["The Actual Headline Of The Story", "Body."]
    # The seeds' date line keeps the headline that follows the date on the same line.
    text2 = " date 2022-12-27 Kim Kardashian is opening up about the backlash.\n\nMore text.\n"
    assert _kept(text2) == ["Kim Kardashian is opening up about the backlash.", "More text."]


def test_markdown_front_matter_and_syntax_are_not_text() -> None:
    text = (
        "---\ntitle: A title\ndate: 2024-02-03\n---\n# The heading line here\n\n- a list item here.\n> quoted words.\n"
    )
    assert _kept(text) == ["The heading line here", "a list item here.", "quoted words."]


def test_crlf_text_keeps_exact_offsets() -> None:
    text = "First paragraph here.\r\n\r\nAdvertisement\r\n\r\nSecond paragraph here.\r\n"
    assert _kept(text) == ["First paragraph here.", "Second paragraph here."]


# --- the seed corpus, as the real index holds it ------------------------------------------------


def test_seed_debris_is_really_in_the_raw_files() -> None:
    raw = _raw_seed_text()
    missing = [d for d in SEED_DEBRIS if d not in raw]
    assert not missing, f"fixture strings not found in the seed files: {missing}"


def test_no_debris_in_any_seed_chunk_or_sentence(seed_index: IndexData) -> None:
    texts = [c.text for c in seed_index.chunks] + [s.text for s in seed_index.sentences]
    assert len(seed_index.chunks) > 20 and len(seed_index.sentences) > 100
    # Case-sensitive: genuine text says "the advertisements" (003), the debris line is "Advertisement".
    found = [(d, t[:80]) for d in SEED_DEBRIS for t in texts if d in t]
    assert not found, found
    # No line of any chunk is debris by the cleaner's own rules either.
    debris_lines = [ln for t in texts for ln in t.splitlines() if is_boilerplate(ln)]
    assert not debris_lines, debris_lines


def test_no_debris_in_seed_titles(seed_index: IndexData) -> None:
    for doc in seed_index.documents.values():
        assert not any(d in doc.title for d in SEED_DEBRIS), doc.title


def test_genuine_content_next_to_debris_is_kept(seed_index: IndexData) -> None:
    sentences = {s.text for s in seed_index.sentences}
    missing = [s for s in SEED_KEPT_SENTENCES if s not in sentences]
    assert not missing, missing
    # And they are retrievable: each lies inside some chunk.
    for wanted in SEED_KEPT_SENTENCES:
        assert any(wanted in c.text for c in seed_index.chunks), wanted
