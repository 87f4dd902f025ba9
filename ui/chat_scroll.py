"""Chat scroll: a new question is held at the top of the chat box, just under its
"Conversation" label, while its answer comes in, so a long answer is read from its first line.

Gradio's own autoscroll (off in ui/layout.py) follows a streamed answer to its end: on a phone
the first lines of a long answer then sat above the box, the top one under the label. Here the
chat box scrolls as far as it can towards the newest question (to the end while the turn is
short, the question at the top once it is long) until the answer is complete (its
`span.turn`), or the reader scrolls the chat themselves.
"""

from __future__ import annotations

JS = r"""
() => {
  if (window.__ragChatScroll) return;
  window.__ragChatScroll = true;
  let asked = 0;  // questions in the chat
  let answered = 0;  // complete answers (each ends in a span.turn)
  let hold = false;  // the newest question is kept at the top
  const place = () => {
    const wrap = document.querySelector('#chat .bubble-wrap');
    const questions = wrap ? wrap.querySelectorAll('[data-testid="user"]') : [];
    const newest = questions[questions.length - 1];
    if (!hold || !newest) return;
    const label = document.querySelector('#chat [data-testid="block-label"]');
    const top = wrap.getBoundingClientRect().top;
    const room = (label ? Math.max(0, label.getBoundingClientRect().bottom - top) : 0) + 8;
    const want = wrap.scrollTop + newest.getBoundingClientRect().top - top - room;
    wrap.scrollTop = Math.max(0, Math.min(want, wrap.scrollHeight - wrap.clientHeight));
  };
  const seen = () => {
    const chat = document.getElementById('chat');
    if (!chat) return;
    const q = chat.querySelectorAll('[data-testid="user"]').length;
    const a = chat.querySelectorAll('span.turn').length;
    if (q > asked) hold = true;
    if (hold) place();
    if (a > answered && hold) requestAnimationFrame(() => { place(); hold = false; });
    asked = q;
    answered = a;
  };
  new MutationObserver(seen).observe(document.body, {subtree: true, childList: true});
  const mine = (ev) => {  // the reader scrolls the chat: it stays where they put it
    if (ev.target.closest && ev.target.closest('#chat .bubble-wrap')) hold = false;
  };
  ['wheel', 'touchstart', 'mousedown', 'keydown'].forEach((kind) =>
    document.addEventListener(kind, mine, {capture: true, passive: true}));
}
"""
