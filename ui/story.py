"""Story view: a story's timeline across outlets, rendered in the passage panel (pure HTML, all
article text escaped), the link to it on a passage card, and the page's CSS and script for it.

A card's "Story" link puts "<story id>:<turn>:<nonce>" in the hidden #story-pick box; the server
answers with `story_html`, shown in place of the passage cards, with a link back to them.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from rag.errors import RagError
from rag.types import StoryRef

from .links import safe_url

if TYPE_CHECKING:
    from rag.index.stories import Story
    from rag.pipeline import Pipeline

PICK = "story-pick"


def esc(text: str) -> str:
    """HTML-escape untrusted text (as ui/render.py's `esc`, which imports this module)."""
    return html.escape(text, quote=True)


def story_link(ref: StoryRef | None, turn: int) -> str:
    """The card's link to its story: "Story: 6 articles from 3 outlets ›" ("" without one, and
    for a story that is the article alone).

    >>> story_link(StoryRef("d1", "s0a", 3, 2), 1)
    '<a class="story-link" ... data-turn="1">Story: 3 articles from 2 outlets ›</a>'
    >>> story_link(StoryRef("d1", "s0a", 1, 1), 1)
    ''
    """
    if ref is None or ref.articles < 2:
        return ""
    outlets = f" from {ref.outlets} outlet{'s' * (ref.outlets != 1)}" if ref.outlets else ""
    what = f"{ref.articles} article{'s' * (ref.articles != 1)}{outlets}"
    return (
        f'<a class="story-link" href="#story" data-story="{esc(ref.story)}" '
        f'data-turn="{turn}">Story: {what} ›</a>'
    )


def _headline(title: str, url: str) -> str:
    link = safe_url(url)
    head = f'<span class="headline">{esc(title)}</span>'
    if not link:
        return head
    return f'<a href="{esc(link)}" target="_blank" rel="noopener noreferrer nofollow">{head}</a>'


def story_html(story: Story, turn: int | None = None) -> str:
    """The story panel: counts, first and latest report, the timeline newest first (a button
    flips it to oldest first), and a link back to turn `turn`'s passages."""
    n = len(story.entries)
    facts = [
        f"{n} article{'s' * (n != 1)}",
        f"{story.outlets} outlet{'s' * (story.outlets != 1)}",
        f"first report {esc(str(story.first or 'undated'))}",
        f"latest {esc(str(story.latest or 'undated'))}",
    ]
    rows = "".join(
        '<li class="entry">'
        f'<div class="when">{esc(e.published.isoformat() if e.published else "undated")}'
        f"{' · ' + esc(e.outlet) if e.outlet else ''}</div>"
        f"{_headline(e.title or e.doc_id, e.url)}"
        f'<div class="key">{esc(e.sentence)}</div></li>'
        for e in reversed(story.entries)
    )
    back = (
        f'<a class="story-back" href="#cards" data-turn="{turn}">← Back to the sources</a>'
        if turn is not None
        else ""
    )
    latest = story.entries[-1] if story.entries else None
    title = esc(latest.title or latest.doc_id) if latest else ""
    return (
        f'<div class="cards story-view" data-turn="story" id="story-view">{back}'
        f'<h2>Story: {title}</h2><div class="story-meta">{" · ".join(facts)}</div>'
        '<button type="button" class="story-flip" aria-pressed="false">Show oldest first</button>'
        f'<ol class="timeline">{rows}</ol></div>'
    )


def show_story(pipeline: Pipeline, value: str) -> str:
    """The story panel for the #story-pick box's "<story id>:<turn>:<nonce>"."""
    sid, _, rest = (value or "").partition(":")
    turn_text = rest.split(":")[0]
    turn = int(turn_text) if turn_text.isdigit() else None
    try:
        return story_html(pipeline.story(sid), turn)
    except RagError as e:
        return f'<div class="cards empty" data-turn="story">{esc(str(e))}</div>'


CSS = """
#story-pick { display: none !important; }
a.story-link { font-size: .85em; color: var(--rag-link); text-decoration: none; cursor: pointer;
  display: inline-block; margin-top: .3em; }
a.story-back { font-size: .9em; color: var(--rag-link); text-decoration: none; cursor: pointer; }
.story-view h2 { margin-top: .4em !important; }
.story-view .story-meta { font-size: .88em; color: var(--rag-muted); margin-bottom: .5em; }
.story-view .story-flip { font-size: .85em; border: 1px solid var(--border-color-primary);
  border-radius: 6px; padding: 1px 8px; background: none; color: inherit; cursor: pointer; }
.story-view ol.timeline { list-style: none; padding: 0; margin: .6em 0 0; }
.story-view li.entry { border-left: 3px solid var(--rag-accent); padding: .2em 0 .5em .7em;
  margin: 0 0 .3em; overflow-wrap: anywhere; }
.story-view .when { font-size: .82em; color: var(--rag-muted); }
.story-view .headline { font-weight: 700; }
.story-view .key { font-size: .9em; margin-top: .15em; }
span.disagree-note { font-size: .8em; padding: 1px 7px; border-radius: 9px;
  background: var(--rag-differ-bg); color: var(--rag-differ-fg); white-space: nowrap; }
"""

# A click on a card's story link asks the server for the story (#story-pick); the panel's
# "back" link asks for that turn's passages again (#turn-pick); the button reverses the list
# (its DOM order, so screen readers hear it in the order shown).
JS = r"""
() => {
  if (window.__ragStories) return;
  window.__ragStories = true;
  const send = (id, value) => {
    const box = document.querySelector('#' + id + ' textarea, #' + id + ' input');
    if (!box) return false;
    box.value = value;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    return true;
  };
  document.addEventListener('click', (ev) => {
    const t = ev.target;
    const link = t.closest && t.closest('a.story-link');
    if (link) {
      ev.preventDefault();
      const sid = link.getAttribute('data-story');
      const turn = link.getAttribute('data-turn') || '';
      send('story-pick', sid + ':' + turn + ':' + Date.now());
      const t0 = Date.now();
      const wait = () => {
        const v = document.getElementById('story-view');
        if (v) v.scrollIntoView({block: 'start'});
        else if (Date.now() - t0 < 8000) setTimeout(wait, 50);
      };
      wait();
      return;
    }
    const back = t.closest && t.closest('a.story-back');
    if (back) {
      ev.preventDefault();
      send('turn-pick', back.getAttribute('data-turn') + ':' + Date.now());
      return;
    }
    const flip = t.closest && t.closest('button.story-flip');
    if (flip) {
      const list = flip.parentElement.querySelector('ol.timeline');
      [...list.children].reverse().forEach((li) => list.appendChild(li));  // the DOM order too
      const oldest = list.classList.toggle('oldest');
      flip.textContent = oldest ? 'Show newest first' : 'Show oldest first';
      flip.setAttribute('aria-pressed', String(oldest));
    }
  }, true);
}
"""


def with_script(*scripts: str) -> str:
    """The page's scripts followed by this one's, as one function for `launch(js=...)`."""
    calls = " ".join(f"({js.strip()})();" for js in (*scripts, JS))
    return f"() => {{ {calls} }}"
