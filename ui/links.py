"""Links: which article URLs may be linked (http(s) only), and deep links that open the
outlet's page scrolled to the cited sentence (a URL text fragment, `#:~:text=`).

    >>> deep_link("https://news.example/a#top", "Rain, then sun - at last.")
    'https://news.example/a#:~:text=Rain%2C%20then%20sun%20%2D%20at%20last'
    >>> deep_link("javascript:alert(1)", "Rain.")
    ''
"""

from __future__ import annotations

from urllib.parse import quote, urldefrag, urlparse

WORDS = 5  # a sentence of more words is matched by its first and last WORDS words
_EDGE = " \t\n\"'“”‘’«»()[]{}<>.,;:!?…*_"  # cut from the ends: pages render quotes their way


def safe_url(url: str) -> str:
    """The URL if it is http(s), else "" (no javascript:, data: ...)."""
    return url if urlparse(url).scheme in ("http", "https") else ""


def _encode(text: str) -> str:
    """Percent-encoded for a text directive: everything but letters, digits and `._~` (the
    spec's syntax characters `-`, `&` and `,` included).

    >>> _encode("a-b & c,d é")
    'a%2Db%20%26%20c%2Cd%20%C3%A9'
    """
    return quote(text, safe="").replace("-", "%2D")


def text_fragment(sentence: str, words: int = WORDS) -> str:
    """The `text=` directive for `sentence` (whitespace collapsed, quotes and punctuation cut
    from its ends): the whole sentence, or `textStart,textEnd` when it is longer than
    2 × `words` words; "" when nothing is left.

    >>> text_fragment('"One two three four five six seven eight nine ten eleven."', 3)
    'text=One%20two%20three,nine%20ten%20eleven'
    """
    parts = sentence.split()
    while parts and not parts[0].strip(_EDGE):
        parts.pop(0)
    while parts and not parts[-1].strip(_EDGE):
        parts.pop()
    if not parts:
        return ""
    parts[0] = parts[0].lstrip(_EDGE)
    parts[-1] = parts[-1].rstrip(_EDGE)
    if len(parts) <= 2 * words:
        return "text=" + _encode(" ".join(parts))
    return f"text={_encode(' '.join(parts[:words]))},{_encode(' '.join(parts[-words:]))}"


def deep_link(url: str, sentence: str) -> str:
    """`url` (http(s) only, else "") without its fragment, opening at `sentence`; the URL
    itself when the sentence leaves no text. Escape it for HTML where it is used."""
    url = safe_url(url)
    fragment = text_fragment(sentence)
    if not url or not fragment:
        return url
    return f"{urldefrag(url).url}#:~:{fragment}"
