"""Assets: the page's CSS (colours with ≥ 4.5:1 contrast in light and dark mode, the citation
popovers, the phone's sources sheet, hints per width) and its one small script."""

from __future__ import annotations

# Colours: one palette, light and dark (Gradio puts `dark` on <body>); each text colour has at
# least 4.5:1 against the background it is drawn on (tests/test_browser_a11y.py measures it).
# Gradio copies rules inside @media under `.gradio-container .contain`, so those rules name
# only elements inside the app (#chat-row...), never <body>.
PALETTE = """
:root { --rag-link: #1d4ed8; --rag-muted: #4b5563; --rag-mark-bg: #fde68a; --rag-mark-fg: #1f2937;
  --rag-warn: #b91c1c; --rag-pop-bg: #ffffff; --rag-pop-fg: #111827; --rag-pop-line: #9ca3af;
  --rag-high-bg: #dcfce7; --rag-high-fg: #14532d; --rag-mid-bg: #fef3c7; --rag-mid-fg: #713f12;
  --rag-low-bg: #e5e7eb; --rag-low-fg: #1f2937; --rag-badge-bg: #dbeafe; --rag-badge-fg: #1e3a8a;
  --rag-differ-bg: #fee2e2; --rag-differ-fg: #7f1d1d; --rag-passage-bg: rgba(37, 99, 235, .10);
  --rag-accent: #2563eb; --rag-on-bg: #eff6ff; --rag-on-fg: #1e3a8a;
  --rag-edge: rgba(0, 0, 0, .28); }
.dark { --rag-link: #93c5fd; --rag-muted: #d1d5db; --rag-mark-bg: #fde68a; --rag-mark-fg: #111827;
  --rag-warn: #fca5a5; --rag-pop-bg: #1f2937; --rag-pop-fg: #f9fafb; --rag-pop-line: #6b7280;
  --rag-high-bg: #14532d; --rag-high-fg: #dcfce7; --rag-mid-bg: #713f12; --rag-mid-fg: #fef3c7;
  --rag-low-bg: #374151; --rag-low-fg: #f3f4f6; --rag-badge-bg: #1e3a8a; --rag-badge-fg: #dbeafe;
  --rag-differ-bg: #7f1d1d; --rag-differ-fg: #fee2e2; --rag-passage-bg: rgba(147, 197, 253, .14);
  --rag-accent: #60a5fa; --rag-on-bg: #1e3a8a; --rag-on-fg: #dbeafe;
  --rag-edge: rgba(255, 255, 255, .35); }
"""

CSS = (
    PALETTE
    + """
/* Gradio's bundled Source Sans Pro SemiBold (600) is a few-glyph subset: semibold text came out
   with stray glyphs from another face ("NᴀTO"). Our bold text uses 700, served by the full Bold
   face bundled beside it. */
@font-face { font-family: 'Source Sans Pro'; font-style: normal; font-weight: 700;
  src: url('static/fonts/SourceSansPro/SourceSansPro-Bold.woff2') format('woff2'); }
.card-head, .cards h2, #status th, .articles th, #index-report strong, #chat strong,
#title h1, .overview b, .sheet-back, .sheet-open { font-weight: 700 !important; }
#title h1 { font-size: 1.5rem; margin: .2em 0; }
#title, #title .prose { overflow: visible !important; }
.gradio-container { max-width: 1400px !important; }
footer a, footer button, footer .show-api, footer .settings, footer .run-history,
footer .built-with, .min_value, .max_value, #upload .or, #upload .subdued, input.subdued {
  color: var(--rag-muted) !important; opacity: 1 !important; }
button[role="tab"].selected { color: #c2410c !important; }
.dark button[role="tab"].selected { color: #fdba74 !important; }
#remove { background: #b91c1c !important; border-color: #b91c1c !important;
  color: #ffffff !important; }
/* Gradio's orange primary button is white on #f97316 (2.8:1) or #ea580c (3.6:1): darker */
#update { background: #c2410c !important; border-color: #c2410c !important;
  color: #ffffff !important; }
#update:hover { background: #9a3412 !important; border-color: #9a3412 !important; }
#cards .cards { max-width: 100%; }
@media (min-width: 761px) {
  #cards { max-height: calc(100vh - 120px); overflow-y: auto !important; padding-right: 4px; }
}
.overview { font-size: .92em; color: var(--rag-muted); padding: .2em .1em; }
.hints p { font-size: .88em; color: var(--rag-muted); margin: .3em .1em; }
.hints .hint-narrow { display: none; }
.cards h2 { margin: 0 0 .2em; font-size: 1em; }
.cards .asked { font-size: .85em; color: var(--rag-muted); margin-bottom: .6em;
  overflow-wrap: anywhere; }
.cards.empty { color: var(--rag-muted); padding: .5em 0; }
.card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6em .8em;
        margin-bottom: .6em; scroll-margin-top: 1em; overflow-wrap: anywhere;
        transition: box-shadow .2s, background-color .2s; }
.card.cited { border-left: 4px solid var(--rag-accent); }
.card.weak { border-left-color: #dc2626; }
.card:target, .card.active { outline: 3px solid #f59e0b; outline-offset: 1px; }
.card-head { line-height: 1.3; }
.card-head .n { color: var(--rag-link); }
.card .meta { font-size: .85em; color: var(--rag-muted); margin: .2em 0 .4em; }
.card .also { font-size: .85em; color: var(--rag-muted); margin: .3em 0 0; }
.card-head .latest { font-size: .72em; font-weight: 700; text-transform: uppercase;
        letter-spacing: .03em; padding: 1px 6px; border-radius: 8px;
        background: var(--rag-badge-bg); color: var(--rag-badge-fg); vertical-align: 1px;
        white-space: nowrap; }
.card a.at-source { font-size: .85em; color: var(--rag-link); text-decoration: none;
        display: inline-block; margin: .3em .9em 0 0; }
.card .warn { font-size: .85em; color: var(--rag-warn); margin: .2em 0 .4em; }
.card .passage, .card .article-text { white-space: pre-wrap; font-size: .92em; }
.card .article-text { max-height: 24em; overflow-y: auto; margin-top: .4em; padding: .4em;
        border: 1px solid var(--border-color-primary); border-radius: 6px; }
.card details.article summary { cursor: pointer; color: var(--rag-link); margin-top: .3em; }
mark.support { background: var(--rag-mark-bg); color: var(--rag-mark-fg); padding: 0 .1em; }
.in-passage { background: var(--rag-passage-bg); }
a.cite { font-weight: 700; text-decoration: none; color: var(--rag-link) !important;
  cursor: pointer; }
a.cite.unsupported { color: var(--rag-warn) !important; }
span.unsupported { text-decoration: underline wavy #dc2626; text-underline-offset: 3px; }
span.note, span.filters { font-size: .85em; color: var(--rag-muted); }
span.filters.on { color: var(--rag-on-fg); background: var(--rag-on-bg); padding: 1px 7px;
  border-radius: 9px; }
a.clear-filters { font-size: .85em; color: var(--rag-link) !important; margin-left: .5em; }
span.confidence { font-size: .8em; padding: 1px 7px; border-radius: 9px; white-space: nowrap; }
span.confidence.high { background: var(--rag-high-bg); color: var(--rag-high-fg); }
span.confidence.medium { background: var(--rag-mid-bg); color: var(--rag-mid-fg); }
span.confidence.low { background: var(--rag-low-bg); color: var(--rag-low-fg); }
#filters-row { align-items: center; gap: .5em; min-height: 0; }
.filters-now { font-size: .88em; color: var(--rag-muted); }
.filters-now.on { color: var(--rag-on-fg); background: var(--rag-on-bg); padding: 2px 8px;
  border-radius: 9px; display: inline-block; }
/* a citation's popover: the cited sentence, title, outlet and date, next to the [n] */
span.cite-wrap { position: relative; display: inline; }
span.cite-wrap > .pop { display: none; position: absolute; left: 0; top: calc(100% + 4px);
  z-index: 60; width: max-content; max-width: min(26rem, calc(100vw - 24px));
  background: var(--rag-pop-bg); color: var(--rag-pop-fg); border: 1px solid var(--rag-pop-line);
  border-radius: 8px; padding: .55em .7em; box-shadow: 0 6px 20px rgba(0, 0, 0, .25);
  font-size: .9rem; line-height: 1.35; white-space: normal; text-align: left; }
span.cite-wrap:hover > .pop, span.cite-wrap:focus-within > .pop,
span.cite-wrap.open > .pop { display: block; }
span.cite-wrap.shut > .pop { display: none !important; }
.pop > span { display: block; }
.pop .pop-quote { margin-bottom: .35em; }
.pop .pop-title { font-weight: 700; }
.pop .pop-meta { font-size: .9em; color: var(--rag-pop-fg); }
.pop .pop-warn { color: var(--rag-warn); font-size: .9em; }
.pop a.pop-open { display: inline-block; margin-top: .35em; color: var(--rag-link) !important; }
#chat .message-content, #chat .message, #chat .bubble-wrap .message-row { overflow: visible; }
/* Gradio draws every chat message at opacity .8: grey text, below 4.5:1 */
#chat .prose.chatbot.md { opacity: 1 !important; }
/* the phone's sources sheet and its buttons: hidden on a wide screen */
.sheet-open, .sheet-back { display: none; }
#sheet-back-box, #sheet-open-box { min-height: 0; }
#turn-pick { display: none !important; }
#status table, .articles table { border-collapse: collapse; width: 100%; margin: 0; }
#status th, #status td, .articles th, .articles td { border: none !important;
  border-bottom: 1px solid var(--border-color-primary) !important; padding: .35em .6em;
  text-align: left; vertical-align: top; }
#status th { white-space: nowrap; width: 1%; }
#status td { overflow-wrap: anywhere; }
.articles { max-height: 32em; overflow: auto; }
/* the sources table scrolls sideways in its own box on a phone: a shadow on the side with more */
#sources-table { background:
  linear-gradient(to right, var(--background-fill-primary) 30%, transparent) left / 2.5em 100%
    no-repeat local,
  linear-gradient(to left, var(--background-fill-primary) 30%, transparent) right / 2.5em 100%
    no-repeat local,
  radial-gradient(farthest-side at 0 50%, var(--rag-edge), transparent) left / .9em 100% no-repeat,
  radial-gradient(farthest-side at 100% 50%, var(--rag-edge), transparent) right / .9em 100%
    no-repeat; }
/* Gradio floats the upload box's label over its top: on two lines it covered the arrow */
#upload label[data-testid="block-label"] { position: static !important; }
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
@media (max-width: 760px) {
  #chat-row { flex-direction: column !important; }
  #cards-col { display: none !important; }
  #chat-row.sources-open #cards-col { display: flex !important; flex-wrap: nowrap !important;
    overflow-x: hidden;
    position: fixed; inset: 0;
    z-index: 1000; overflow-y: auto; padding: .6em .8em 2em;
    background: var(--background-fill-primary); }
  #chat-row.sources-open #cards { max-height: none; flex-shrink: 0; }
  #chat-row.sources-open #sheet-back-box { position: sticky; top: 0; z-index: 5; flex-shrink: 0; }
  #chat-row.sources-open .card { scroll-margin-top: 4em; }
  .sheet-back { display: block; width: 100%;
    padding: .6em; border-radius: 8px; border: 1px solid var(--border-color-primary);
    background: var(--background-fill-primary); color: var(--rag-link); font-size: 1rem; }
  .sheet-open { display: block; width: 100%; padding: .45em; border-radius: 8px;
    border: 1px solid var(--border-color-primary); background: none; color: var(--rag-link);
    font-size: .95rem; }
  .hints .hint-wide { display: none; }
  .hints .hint-narrow { display: block; }
  .articles td.id { display: none; }
  .articles th.id { display: none; }
  .card { padding: .5em .6em; }
  .card .article-text { max-height: 18em; }
}
"""
)

# Runs once on page load (`launch(js=...)`). Wide screens: a click on a citation [n] marks
# passage card n and scrolls it into view (for an older answer it first asks the server for
# that answer's passages, through the hidden #turn-pick box); pointing at [n] shows its popover
# (CSS), kept inside the window here. Phones (≤ 760 px): a tap on [n] opens its popover (the
# chat box, never the page, scrolls up if the box cut it off); "See it in the sources" and "All
# sources" open the sources sheet, "Back to the answer" closes it and returns to the [n].
# Opening an article scrolls its box to the highlighted passage. Icon buttons without a name
# get one.
JS = r"""
() => {
  if (window.__ragNews) return;
  window.__ragNews = true;
  const narrow = () => window.matchMedia('(max-width: 760px)').matches;
  const panel = () => document.querySelector('#cards .cards');
  const row = () => document.getElementById('chat-row');
  let from = null;  // the [n] the sources sheet was opened from
  const show = (n) => {
    const card = document.getElementById('passage-' + n);
    if (!card) return false;
    document.querySelectorAll('.card.active').forEach((c) => c.classList.remove('active'));
    card.classList.add('active');
    card.scrollIntoView({block: 'start', inline: 'nearest'});
    return true;
  };
  const turnOf = (link) => {
    const holder = link.closest('.message-content, .message, [data-testid="bot"]');
    const tag = holder && holder.querySelector('span.turn');
    const m = tag && /(?:^|\s)turn-(\d+)/.exec(tag.className);
    return m ? m[1] : null;
  };
  const openCard = (link) => {  // passage card n of the answer `link` belongs to
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
  };
  const sheet = (open, link) => {
    const r = row();
    if (!r) return;
    r.classList.toggle('sources-open', open);
    if (open) {
      from = link || null;
      const back = document.getElementById('sheet-back');
      if (back) back.focus({preventScroll: true});
      if (link) openCard(link);
    } else if (from) {
      from.scrollIntoView({block: 'center'});
      from.focus({preventScroll: true});
    }
  };
  const closePops = (except) => document.querySelectorAll('span.cite-wrap.open').forEach((w) => {
    if (w !== except) w.classList.remove('open');
  });
  const place = (wrap) => {  // keep the popover inside the chat box that clips it
    const pop = wrap.querySelector('.pop');
    if (!pop) return;
    const box = (wrap.closest('.bubble-wrap, #chat') || document.body).getBoundingClientRect();
    const left = Math.max(box.left, 0) + 8;
    const right = Math.min(box.right, window.innerWidth) - 8;
    pop.style.maxWidth = Math.max(160, Math.min(416, right - left)) + 'px';
    pop.style.left = '0px';
    const r = pop.getBoundingClientRect();
    const over = r.right - right;
    if (over > 0) pop.style.left = -Math.min(over, r.left - left) + 'px';
  };
  const reveal = (wrap) => {  // a tapped popover cut off by the chat box (or under its ↓ button)
    const pop = wrap.querySelector('.pop'), box = wrap.closest('.bubble-wrap');
    if (!pop || !box) return;
    const under = pop.getBoundingClientRect().bottom - box.getBoundingClientRect().bottom + 44;
    const room = wrap.getBoundingClientRect().top - box.getBoundingClientRect().top - 40;
    if (under > 0) box.scrollTop += Math.min(under, Math.max(0, room));  // the [n] stays shown
  };
  document.addEventListener('mouseover', (ev) => {
    const wrap = ev.target.closest && ev.target.closest('span.cite-wrap');
    if (wrap) { wrap.classList.remove('shut'); place(wrap); }
  }, true);
  document.addEventListener('focusin', (ev) => {
    const wrap = ev.target.closest && ev.target.closest('span.cite-wrap');
    if (wrap) { wrap.classList.remove('shut'); place(wrap); }
  }, true);
  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape') return;
    document.querySelectorAll('span.cite-wrap').forEach((w) => {
      const shown = w.classList.contains('open') || w.matches(':hover, :focus-within');
      if (shown) w.classList.add('shut');
      w.classList.remove('open');
    });
    if (row() && row().classList.contains('sources-open')) sheet(false);
  }, true);
  document.addEventListener('click', (ev) => {
    const t = ev.target;
    if (!t.closest) return;
    const pop = t.closest('a.pop-open');
    const link = t.closest('a.cite');
    if (t.closest('#sheet-back')) { ev.preventDefault(); sheet(false); return; }
    if (t.closest('#sheet-open')) { ev.preventDefault(); sheet(true, null); return; }
    if (t.closest('a.clear-filters')) {
      ev.preventDefault();
      const b = document.querySelector('#clear-filters button, button#clear-filters');
      if (b) b.click();
      return;
    }
    if (pop) {
      ev.preventDefault(); ev.stopPropagation();
      const cite = pop.closest('span.cite-wrap').querySelector('a.cite');
      closePops(null);
      if (narrow()) sheet(true, cite); else openCard(cite);
      return;
    }
    if (link) {
      ev.preventDefault(); ev.stopPropagation();
      const wrap = link.closest('span.cite-wrap');
      if (narrow() && wrap) {
        const open = !wrap.classList.contains('open');
        closePops(wrap);
        wrap.classList.toggle('open', open);
        wrap.classList.remove('shut');
        if (open) { place(wrap); reveal(wrap); }
        return;
      }
      openCard(link);
      return;
    }
    if (!t.closest('span.cite-wrap')) closePops(null);
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
  const NAMES = [  // [selector, accessible name] for Gradio's icon buttons
    ['#question button.submit-button, #question button[aria-label=""]', 'Send the question'],
    ['#chat button[aria-label=""]', 'Chat action'],
  ];
  const name = () => {
    NAMES.forEach(([sel, label]) => document.querySelectorAll(sel).forEach((b) => {
      if (!(b.getAttribute('aria-label') || '').trim() && !b.textContent.trim()) {
        b.setAttribute('aria-label', label);
      }
    }));
    document.querySelectorAll('.examples[role="list"]').forEach((e) => e.removeAttribute('role'));
    // tables that scroll on a phone: reachable by keyboard
    document.querySelectorAll('#sources-table, .articles, .card .article-text').forEach((e) => {
      if (!e.hasAttribute('tabindex')) e.setAttribute('tabindex', '0');
    });
  };
  name();
  // Gradio may set a role on a node already there (an attribute change, not a new child)
  new MutationObserver(name).observe(
    document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['role']});
}
"""
