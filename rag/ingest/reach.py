"""Reach: which addresses fetching may connect to (no loopback, private, link-local... hosts).

    reach = Reach(allowed={"127.0.0.1"})        # hosts the owner typed as sources
    client = httpx.Client(transport=transport(reach, max_connections=16))

A feed is other people's text: its links must not make us fetch from our own machine or
network (a cloud's metadata service at 169.254.169.254, a router, a database port). So every
connection, for every request and every redirect hop, resolves the host itself and refuses
when any address it resolves to is loopback, private, link-local, multicast, reserved,
unspecified or otherwise not public (IPv4 inside IPv6 judged as IPv4); it then connects to
the very address it checked, so a second DNS answer cannot slip another one in.

The owner can allow them: `allow_all` (RAG_ALLOW_PRIVATE_HOSTS=1, `--allow-private-hosts`),
or per host, for the hosts of the sources they typed themselves (a feed on 127.0.0.1 or on an
intranet name reaches that host, any port; the links in it reach only public hosts).
A refused connection raises `Refused` (not an httpx error: it is not retried).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from rag.addresses import parse, private_kind, resolve


class Refused(Exception):
    """A connection not made; `args[0]` says why, in a line."""


def host_of(url: str) -> str:
    """The URL's host, lower case, without brackets ("" when there is none)."""
    try:
        return (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


@dataclass(frozen=True)
class Reach:
    """What may be connected to: public addresses, plus private ones for `allowed` hosts (or
    for every host with `allow_all`)."""

    allowed: frozenset[str] = field(default_factory=frozenset)
    allow_all: bool = False

    @classmethod
    def of(cls, typed: Iterable[str], allow_all: bool = False) -> Reach:
        """The reach of a refresh of the sources `typed` by the owner."""
        return cls(frozenset(h for h in map(host_of, typed) if h), allow_all)

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`, each checked; Refused if there are none."""
        name = host.strip("[]").rstrip(".").lower()
        try:
            found = resolve(name, port)
        except UnicodeError:
            raise Refused(
                f"{host!r} is not a valid host name (a part over 63 characters?)"
            ) from None
        except OSError as e:
            raise Refused(f"{host} cannot be found ({e.strerror or e})") from None
        if self.allow_all or name in self.allowed:
            return found
        for address in found:
            kind = private_kind(parse(address))
            if kind:
                shown = host if host == address else f"{host} ({address})"
                raise Refused(
                    f"refused to connect to {shown}: a {kind} address; fetching from private "
                    "hosts needs --allow-private-hosts (RAG_ALLOW_PRIVATE_HOSTS=1) or the host "
                    "typed as a source"
                )
        return found


def transport(reach: Reach, **pool: Any) -> Any:
    """An httpx transport whose every new connection goes through `reach` (env proxies are
    not used: a proxy would connect where it liked)."""
    import httpcore
    import httpx

    class _Backend(httpcore.NetworkBackend):  # type: ignore[misc]
        def __init__(self) -> None:
            self.inner = httpcore.SyncBackend()

        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Any = None,
        ) -> Any:
            error: Exception | None = None
            for address in reach.addresses(host, port):
                try:
                    return self.inner.connect_tcp(
                        address, port, timeout, local_address, socket_options
                    )
                except httpcore.ConnectError as e:  # the next address, if there is one
                    error = e
            raise error or httpcore.ConnectError(f"no address for {host}")

        def connect_unix_socket(self, *args: Any, **kw: Any) -> Any:
            raise Refused("unix sockets are not fetched from")

        def sleep(self, seconds: float) -> None:
            self.inner.sleep(seconds)

    class _Transport(httpx.HTTPTransport):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(trust_env=False)
            self._pool = httpcore.ConnectionPool(
                ssl_context=httpx.create_ssl_context(),  # SSL_CERT_FILE still honoured
                network_backend=_Backend(),
                **pool,
            )

    return _Transport()
