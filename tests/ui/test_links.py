"""Deep links: a card's "at the source" link opens the outlet's page at the cited sentence (a URL
text fragment), http(s) only, percent-encoded and HTML-escaped; the newest of the articles that
disagree carries a "latest" badge. Made-up articles only."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import unquote

import pytest

from rag.types import Answer, Article, Chunk, Citation, Disagreement, Hit, Side
from ui.links import deep_link, safe_url, text_fragment
from ui.render import at_source, cards_html

HOSTILE = [
    '"Quoted," she said <script>alert(1)</script>.',
    "Bread & butter, jam & honey - all sold out.",
    "Zoë's café in Malmö – über-busy, “really” — 100% full.",
    "a,b-c&d#e%f=g?h/i+j k;l'm\"n",
    "Ordinary words only",
]
# what a text directive's value may hold: unreserved characters and percent escapes
_ENCODED = re.compile(r"(?:[A-Za-z0-9._~]|%[0-9A-F]{2})+")


def _directive(link: str) -> list[str]:
    """The `textStart[,textEnd]` values of a link's text fragment."""
    base, _, fragment = link.partition("#:~:text=")
    assert base and fragment and "#" not in base
    return fragment.split(",")


@pytest.mark.parametrize("sentence", HOSTILE)
def test_fragments_are_percent_encoded_and_decode_to_the_sentence(sentence: str) -> None:
    parts = _directive(deep_link("https://news.example/story", sentence))
    assert 1 <= len(parts) <= 2 and all(_ENCODED.fullmatch(p) for p in parts)
    words = " ".join(sentence.split())
    for p in parts:  # each decodes to words of the sentence, in order
        assert unquote(p) in words


def test_a_short_sentence_is_matched_whole_and_a_long_one_by_its_ends() -> None:
    assert text_fragment("  Rain  fell\non Lyon.  ") == "text=Rain%20fell%20on%20Lyon"
    long = "One two three four five six seven eight nine ten eleven twelve."
    assert text_fragment(long) == (
        "text=One%20two%20three%20four%20five,eight%20nine%20ten%20eleven%20twelve"
    )
    assert text_fragment(long, words=6) == "text=" + "%20".join(long.rstrip(".").split())
    assert text_fragment(' " ... " ') == ""


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)//https://x",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/relative/path",
        "ftp://files.example/a",
        "",
    ],
)
def test_only_http_urls_get_a_link(url: str) -> None:
    assert deep_link(url, "Rain fell.") == "" and safe_url(url) == ""


def test_an_existing_fragment_is_dropped_and_the_query_kept() -> None:
    link = deep_link("https://news.example/a?id=3&x=1#comments", "Rain fell.")
    assert link == "https://news.example/a?id=3&x=1#:~:text=Rain%20fell"
    assert deep_link("https://news.example/a#top", "  ") == "https://news.example/a#top"


def _hit(n: int, text: str, day: date | None, url: str) -> Hit:
    a = Article(f"d{n}", f"Title {n}", text, published=day, url=url)
    return Hit(Chunk(n, a.doc_id, 0, len(text), text), a, 1.0, rank=n)


def test_a_cited_card_links_the_sentence_at_the_source_escaped() -> None:
    text = 'Intro. The "ferry" & <b>tug</b> sailed to Orlen. Tail.'
    h = _hit(1, text, date(2024, 5, 1), 'https://news.example/a?x=1&y="2"#old')
    s = text.index("The")
    ans = Answer("q", "It sailed [1].", False, (Citation(1, h, s, text.index(" Tail")),), (h,))
    out = cards_html(ans)
    (href,) = re.findall(r'class="at-source" href="([^"]*)"', out)
    assert href == (
        "https://news.example/a?x=1&amp;y=&quot;2&quot;"
        "#:~:text=The%20%22ferry%22%20%26%20%3Cb%3Etug%3C%2Fb%3E%20sailed%20to%20Orlen"
    )
    assert 'rel="noopener noreferrer nofollow"' in out and "<b>tug" not in out
    assert at_source(h.article, []) == ""  # no cited sentence: no deep link
    bad = _hit(2, text, None, "javascript:alert(1)")
    assert at_source(bad.article, [(s, s + 5)]) == ""


def test_the_newest_article_that_disagrees_is_badged_latest() -> None:
    h1 = _hit(1, "The ferry toll was 30.", date(2024, 5, 1), "https://a.example/1")
    h2 = _hit(2, "The ferry toll rose to 45.", date(2024, 5, 3), "https://b.example/2")
    h3 = _hit(3, "Unrelated.", date(2024, 5, 4), "https://c.example/3")  # newer, not a side
    d = Disagreement("the toll", (Side("30", (1,)), Side("45", (2,))))
    cites = (Citation(1, h1, 0, 22), Citation(2, h2, 0, 26))
    out = cards_html(Answer("q", "30 [1]. 45 [2].", False, cites, (h1, h2, h3), disagreements=(d,)))
    cards = re.split(r'<div class="card[ "]', out)[1:]
    badged = [c for c in cards if 'class="latest"' in c]
    assert len(badged) == 1 and 'id="passage-2"' in badged[0] and ">latest</span>" in badged[0]
    tie = Disagreement("the toll", (Side("30", (1,)), Side("45", (3,))))
    h1b = _hit(1, h1.article.text, date(2024, 5, 4), "https://a.example/1")
    same_day = Answer("q", "x [1].", False, cites[:1], (h1b, h2, h3), disagreements=(tie,))
    assert 'class="latest"' not in cards_html(same_day)  # a tie: none is the latest
    assert 'class="latest"' not in cards_html(Answer("q", "x", False, cites, (h1, h2)))
