"""Serving: the rules `rag serve` starts by (who may connect, what index is served, and
whether visitors may change it), kept apart from the Gradio app that serves."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from rag.addresses import parse, private_kind, resolve
from rag.errors import InputError


class Verifiable(Protocol):
    def verify(self) -> str: ...


def parse_auth(auth: str | tuple[str, str] | None) -> tuple[str, str] | None:
    """`"user:password"` -> ("user", "password"); None or "" -> None; anything else: InputError.

    >>> parse_auth("ann:s3cret:x")
    ('ann', 's3cret:x')
    """
    if not auth:
        return None
    if isinstance(auth, tuple):
        return auth
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise InputError("--auth / RAG_AUTH must look like user:password")
    return user, password


def addresses(host: str) -> set[str] | None:
    """The IP addresses `host` stands for (an IP literal: itself); None when it does not
    resolve. "[::1]" and "::1%lo" are read as ::1.

    >>> addresses("127.0.0.1"), addresses("[::1]"), addresses("")
    ({'127.0.0.1'}, {'::1'}, None)
    """
    name = host.strip().removeprefix("[").removesuffix("]")
    if not name:
        return None  # "" would listen on every address
    try:
        return {str(parse(name))}
    except ValueError:
        pass
    try:
        found = resolve(name)
    except (OSError, UnicodeError):  # gaierror: no such name; UnicodeError: a bad IDNA label
        return None
    return {a.split("%", 1)[0] for a in found} or None


def loopback(host: str) -> bool:
    """True only when every address `host` resolves to is a loopback one: "127.0.0.1.evil.test"
    (a name, whatever it starts with) counts by what it resolves to, a name that does not
    resolve is not loopback, and neither are 0.0.0.0 and :: (every interface).

    >>> loopback("127.0.0.1"), loopback("::1"), loopback("0.0.0.0"), loopback("::")
    (True, True, False, False)
    """
    found = addresses(host)
    return bool(found) and all(private_kind(parse(a)) == "loopback" for a in found or ())


def check_access(
    host: str, auth: str | tuple[str, str] | None, allow_anonymous: bool = False
) -> tuple[str, str] | None:
    """The login to ask for; refuses to serve other machines without one unless
    `allow_anonymous` (then the app is read-only: see `read_only`).

    >>> check_access("0.0.0.0", None)
    Traceback (most recent call last):
    rag.errors.InputError: serving on 0.0.0.0 without a login ...
    """
    login = parse_auth(auth)
    if login is None and not loopback(host) and not allow_anonymous:
        unknown = (
            " (a name that does not resolve: not known to be this machine alone)"
            if not addresses(host)
            else ""
        )
        raise InputError(
            f"serving on {host}{unknown} without a login would let anyone who can reach it use "
            "it; add --auth user:password (or RAG_AUTH), or --allow-anonymous for a read-only chat"
        )
    return login


def read_only(host: str, login: tuple[str, str] | None) -> bool:
    """Index changes (upload, update, remove) need a login when others can connect."""
    return login is None and not loopback(host)


def first_sources(given: Sequence[str], default: Sequence[str], index_dir: Path) -> list[str]:
    """What to index when there is no index yet: `given`, else `default` if it exists."""
    paths = list(given or default)
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise InputError(
            f"there is no index in {index_dir}/ and {', '.join(missing)} does not exist: run "
            "`rag index build PATH...` first, or pass --sources PATH"
        )
    return paths


def verified(index: Verifiable) -> str:
    """Check every index file's checksum before serving; one line with the time it took."""
    t0 = time.perf_counter()
    summary = index.verify()
    return f"index verified in {time.perf_counter() - t0:.2f} s ({summary})"
