"""CLI for stories: `rag story KEY`, the timeline of an article's story across outlets."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from rag.cli.common import common, pipeline

if TYPE_CHECKING:
    from rag.index.stories import Story


def story_json(story: Story, newest: bool) -> dict[str, Any]:
    """The story as JSON: counts, first and latest report, the timeline in the order asked."""
    entries = list(reversed(story.entries)) if newest else list(story.entries)
    return {
        "story": story.id,
        "articles": len(story.entries),
        "outlets": story.outlets,
        "first": story.first.isoformat() if story.first else None,
        "latest": story.latest.isoformat() if story.latest else None,
        "order": "newest first" if newest else "oldest first",
        "timeline": [
            {
                "doc_id": e.doc_id,
                "published": e.published.isoformat() if e.published else None,
                "outlet": e.outlet,
                "title": e.title,
                "url": e.url,
                "sentence": e.sentence,
            }
            for e in entries
        ],
    }


@click.command("story")
@click.argument("key")
@common
@click.option("--oldest", is_flag=True, help="Oldest report first (default: newest first).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def story_cmd(key: str, oldest: bool, as_json: bool, **opts: Any) -> None:
    """Show the story of KEY (an article's doc_id, or a story id): every article about the
    same event across outlets and days, with its date, outlet, headline and key sentence."""
    story = pipeline(**opts).story(key)
    if as_json:
        click.echo(json.dumps(story_json(story, not oldest), ensure_ascii=False, indent=1))
        return
    n = len(story.entries)
    click.echo(
        f"story {story.id}: {n} article{'s' * (n != 1)} from {story.outlets} "
        f"outlet{'s' * (story.outlets != 1)}; first report {story.first or 'undated'}, "
        f"latest {story.latest or 'undated'}"
    )
    for e in story.entries if oldest else reversed(story.entries):
        click.echo(f"\n{e.published or 'undated'}  {e.outlet or '-'}  {e.title or e.doc_id}")
        click.echo(f"    {e.sentence}")
