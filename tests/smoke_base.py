"""Smoke test of a plain install (the package with no extras), run by `make smoke-base` with the
python of a fresh venv: `rag index build` from an HTML file and from a feed served on 127.0.0.1,
then `rag ask` about each; every answer must lead with the fact and cite the right article.
Standard library only (no pytest in a plain install): it prints one line per check and a last
line "smoke-base: N passed, 0 failed"; any failure exits 1 with what the command printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.localweb import Site, publish, story  # noqa: E402  (stdlib only)

# made-up articles (no text from the evaluation sets)
HTML = """<!doctype html><html><head><title>Volunteers relight the Skerry Point lighthouse</title>
<meta name="author" content="Ola Brenn">
<meta property="article:published_time" content="2025-05-16T08:00:00+00:00"></head>
<body><nav>Home | Coast</nav><article><h1>Volunteers relight the Skerry Point lighthouse</h1>
<p>The Skerry Point lighthouse reopened to visitors on Saturday after four years of repairs
carried out by a group of local volunteers.</p>
<p>About 3,200 visitors climbed the tower on its first weekend, the volunteers said. The lamp,
first lit in 1887, now runs on solar power.</p>
<p>The group plans to open a small museum about the keepers who lived on the point.</p>
</article><footer>Coast News</footer></body></html>
"""
FERRY = (
    "The town of Tamsby launched its first electric ferry on Monday. The ferry, named Nordlys, "
    "can carry 180 passengers and twelve bicycles across the fjord in nine minutes. Ferry "
    "operators said the old diesel boat will be kept as a spare until the summer season ends."
)
LIBRARY = (
    "The village of Orrby opened a library in its old railway station on Friday. The library "
    "lends 4,500 books and keeps a reading room in the former ticket hall. A volunteer said the "
    "station clock, stopped since 1961, will be repaired next year."
)
QUESTIONS = [  # (question, the fact the answer must state, the cited article's title)
    (
        "How many visitors climbed the Skerry Point lighthouse on its first weekend?",
        "3,200",
        "Volunteers relight the Skerry Point lighthouse",
    ),
    (
        "How many passengers can the Nordlys carry across the fjord?",
        "180",
        "Tamsby launches an electric ferry",
    ),
    (
        "How many books does the Orrby station library lend?",
        "4,500",
        "Orrby opens a library in its old station",
    ),
]


def rag(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed `rag` command (beside this python), as a user would run it."""
    command = [str(Path(sys.executable).with_name("rag")), *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
    if result.returncode != 0:
        fail(f"`rag {' '.join(args)}` exited {result.returncode}", result.stdout + result.stderr)
    return result


def fail(what: str, output: str = "", passed: int = 0) -> None:
    """Print what failed last (CI shows the tail of the log) and exit 1."""
    print(f"{output}\nsmoke-base: FAILED: {what}", flush=True)
    print(f"smoke-base: {passed} passed, 1 failed", flush=True)
    sys.exit(1)


def brief(answer: dict) -> str:
    """The answer in a few lines: its text, refusal, confidence and the passages' titles."""
    shown = [f"{h['rank']}. {h['title']} (relevance {h['relevance']})" for h in answer["passages"]]
    said = f"answer: {answer['answer']!r}\nrefused: {answer['refused']}"
    return f"{said}, confidence {answer['confidence']}\n" + "\n".join(shown)


def main() -> None:
    passed = 0
    with tempfile.TemporaryDirectory() as tmp, Site() as site:
        html = Path(tmp) / "lighthouse.html"
        html.write_text(HTML)
        feed = publish(site, [story("ferry", FERRY, title="Tamsby launches an electric ferry")])
        page = story("library", LIBRARY, title="Orrby opens a library in its old station")
        publish(site, [page], feed="/other.xml")  # its page only is given: an article URL
        index = str(Path(tmp) / "index")
        sources = [str(html), feed, site.url(page.path)]
        built = rag("index", "build", "--quiet", "--index", index, *sources)
        if "skipped" in built.stderr or "read 3 articles" not in built.stdout:
            fail("the HTML file, the feed's article and the page were not all read", built.stderr)
        print(f"smoke-base: ok: built from {', '.join(sources)}", flush=True)
        passed += 1
        for question, fact, title in QUESTIONS:
            answer = json.loads(rag("ask", question, "--index", index, "--json").stdout)
            cited = [c["title"] for c in answer["citations"]]
            sentences = " ".join(c["sentence"] for c in answer["citations"])
            if answer["refused"] or fact not in answer["answer"] or fact not in sentences:
                fail(f"no cited answer to {question!r}", brief(answer), passed)
            if title not in cited or "[1]" not in answer["answer"]:
                fail(f"{question!r} does not cite {title!r}", brief(answer), passed)
            print(f"smoke-base: ok: {question} -> {answer['answer'][:80]!r}", flush=True)
            passed += 1
    print(f"smoke-base: {passed} passed, 0 failed", flush=True)


if __name__ == "__main__":
    main()
