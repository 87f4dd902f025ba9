"""Chunk: split an article's text into overlapping passages with exact character offsets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.types import Article

if TYPE_CHECKING:  # langchain is imported by the builds that chunk, not by every `rag ask`
    from langchain_text_splitters import RecursiveCharacterTextSplitter

# paragraph, line, sentence, clause, word, character: the splitter tries them in this order
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def splitter(size: int, overlap: int) -> RecursiveCharacterTextSplitter:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, separators=SEPARATORS, keep_separator="end"
    )


def spans(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """Character spans `(start, end)` of the chunks of `text`; `text[start:end]` is the chunk.

    >>> spans("One. Two. Three.", 9, 0)
    [(0, 4), (5, 9), (10, 16)]
    """
    out: list[tuple[int, int]] = []
    cursor = 0
    for piece in splitter(size, overlap).split_text(text):
        start = text.find(piece, cursor)
        if start < 0:  # cannot happen with strip-only splitting; fall back to a full search
            start = text.find(piece)
        out.append((start, start + len(piece)))
        # the next chunk starts at most `overlap` characters before this one ends
        cursor = max(start + 1, start + len(piece) - overlap)
    return out


def embed_text(article: Article, start: int, end: int) -> str:
    """What the model reads for a chunk: the title for context, then the passage."""
    return (
        f"{article.title}\n{article.text[start:end]}" if article.title else article.text[start:end]
    )
