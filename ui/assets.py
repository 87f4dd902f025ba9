"""Assets: the page's CSS and its one small script (citation links, article scrolling)."""

from __future__ import annotations

CSS = """
/* Gradio's bundled Source Sans Pro SemiBold (600) is a few-glyph subset: semibold text came out
   with stray glyphs from another face ("NᴀTO"). Our bold text uses 700, served by the full Bold
   face bundled beside it. */
@font-face { font-family: 'Source Sans Pro'; font-style: normal; font-weight: 700;
  src: url('static/fonts/SourceSansPro/SourceSansPro-Bold.woff2') format('woff2'); }
.card-head, .cards h3, #status th, .articles th, #index-report strong, #chat strong,
#title h2 { font-weight: 700 !important; }
.gradio-container { max-width: 1400px !important; }
#cards .cards { max-width: 100%; }
@media (min-width: 900px) {
  #cards { max-height: calc(100vh - 120px); overflow-y: auto !important; padding-right: 4px; }
}
.cards h3 { margin: 0 0 .2em; font-size: 1em; }
.cards .asked { font-size: .85em; opacity: .7; margin-bottom: .6em; overflow-wrap: anywhere; }
.cards.empty { opacity: .7; padding: .5em 0; }
.card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6em .8em;
        margin-bottom: .6em; scroll-margin-top: 1em; overflow-wrap: anywhere;
        transition: box-shadow .2s, background-color .2s; }
.card.cited { border-left: 4px solid #2563eb; }
.card.weak { border-left-color: #dc2626; }
.card:target, .card.active { outline: 3px solid #f59e0b; outline-offset: 1px;
        background: rgba(245, 158, 11, .08); }
.card-head { line-height: 1.3; }
.card-head .n { color: #2563eb; }
.card .meta { font-size: .85em; opacity: .75; margin: .2em 0 .4em; }
.card .also { font-size: .85em; opacity: .8; margin: .3em 0 0; }
.card-head .latest { font-size: .72em; font-weight: 700; text-transform: uppercase;
        letter-spacing: .03em; padding: 1px 6px; border-radius: 8px; background: #dbeafe;
        color: #1e40af; vertical-align: 1px; white-space: nowrap; }
.card a.at-source { font-size: .85em; color: #2563eb; text-decoration: none;
        display: inline-block; margin: .3em .9em 0 0; }
.card .warn { font-size: .85em; color: #b91c1c; margin: .2em 0 .4em; }
.card .passage, .card .article-text { white-space: pre-wrap; font-size: .92em; }
.card .article-text { max-height: 24em; overflow-y: auto; margin-top: .4em; padding: .4em;
        border: 1px solid var(--border-color-primary); border-radius: 6px; }
.card details.article summary { cursor: pointer; color: #2563eb; margin-top: .3em; }
mark.support { background: #fde68a; color: inherit; padding: 0 .1em; }
.in-passage { background: rgba(37, 99, 235, .10); }
a.cite { font-weight: 700; text-decoration: none; color: #2563eb; cursor: pointer; }
a.cite.unsupported { color: #dc2626; }
span.unsupported { text-decoration: underline wavy #dc2626; text-underline-offset: 3px; }
span.note { font-size: .85em; opacity: .8; }
span.confidence { font-size: .8em; padding: 1px 7px; border-radius: 9px; white-space: nowrap; }
span.confidence.high { background: #e3f4e6; color: #1d5e2c; }
span.confidence.medium { background: #fdf1d8; color: #7a5200; }
span.confidence.low { background: #eee; color: #555; }
#turn-pick { display: none !important; }
#status table, .articles table { border-collapse: collapse; width: 100%; margin: 0; }
#status th, #status td, .articles th, .articles td { border: none !important;
  border-bottom: 1px solid var(--border-color-primary) !important; padding: .35em .6em;
  text-align: left; vertical-align: top; }
#status th { white-space: nowrap; width: 1%; }
#status td { overflow-wrap: anywhere; }
.articles { max-height: 32em; overflow: auto; }
.articles table { font-size: .88em; }
.articles td { overflow-wrap: break-word; }
.articles td.title { min-width: 10em; }
.articles td code { font-size: .9em; white-space: nowrap; }
.articles td.date { white-space: nowrap; }
#status table, .articles table, #status tr, .articles tr { border: none !important; }
#chat .bubble-wrap, #chat .message { overflow-wrap: anywhere; }
/* Gradio prefixes the selectors inside @media with ".contain", which .main is outside of */
.gradio-container .main.app { padding-left: clamp(8px, 3vw, 32px) !important;
  padding-right: clamp(8px, 3vw, 32px) !important; }
@media (max-width: 640px) {
  .articles td.id { display: none; }
  .articles th.id { display: none; }
  .card { padding: .5em .6em; }
  .card .article-text { max-height: 18em; }
}
"""

# Runs once on page load (`launch(js=...)`). A click on a citation [n] marks passage card n and
# scrolls it into view; when the link belongs to an older answer than the one whose passages
# are shown, it first asks the server for that answer's passages (hidden #turn-pick box).
# Opening an article scrolls its box to the highlighted passage.
JS = r"""
() => {
  if (window.__ragNews) return;
  window.__ragNews = true;
  const panel = () => document.querySelector('#cards .cards');
  const show = (n) => {
    const card = document.getElementById('passage-' + n);
    if (!card) return false;
    document.querySelectorAll('.card.active').forEach((c) => c.classList.remove('active'));
    card.classList.add('active');
    card.scrollIntoView({block: 'start'});
    return true;
  };
  const turnOf = (link) => {
    const holder = link.closest('.message-content, .message, [data-testid="bot"]');
    const tag = holder && holder.querySelector('span.turn');
    const m = tag && /(?:^|\s)turn-(\d+)/.exec(tag.className);
    return m ? m[1] : null;
  };
  document.addEventListener('click', (ev) => {
    const link = ev.target.closest && ev.target.closest('a.cite');
    if (!link) return;
    ev.preventDefault();
    ev.stopPropagation();
    const n = (link.getAttribute('href') || '').replace('#passage-', '');
    const turn = turnOf(link);
    const p = panel();
    if (turn === null || !p || p.getAttribute('data-turn') === turn) { show(n); return; }
    const box = document.querySelector('#turn-pick textarea, #turn-pick input');
    if (!box) { show(n); return; }
    box.value = turn + ':' + Date.now();
    box.dispatchEvent(new Event('input', {bubbles: true}));
    const t0 = Date.now();
    const wait = () => {
      const q = panel();
      if (q && q.getAttribute('data-turn') === turn) show(n);
      else if (Date.now() - t0 < 8000) setTimeout(wait, 50);
    };
    wait();
  }, true);
  document.addEventListener('toggle', (ev) => {
    const d = ev.target;
    if (!(d instanceof HTMLDetailsElement) || !d.open || !d.classList.contains('article')) return;
    const box = d.querySelector('.article-text');
    const mark = d.querySelector('.in-passage');
    if (!box || !mark) return;
    box.scrollTop = Math.max(0, mark.offsetTop - box.offsetTop - 24);
    box.scrollIntoView({block: 'nearest'});
  }, true);
}
"""
