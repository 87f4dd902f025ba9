"""Addresses: what a host name resolves to, and what kind of address each one is.

Shared by the two rules that depend on it: which hosts `rag serve --host` counts as this
machine alone (rag/cli/serving.py: every address loopback) and which addresses fetching may
connect to (rag/ingest/reach.py: none that is not public, unless the owner allows it).

    >>> [private_kind(parse(a)) for a in ("127.0.0.2", "fe80::1%eth0", "::ffff:10.0.0.1")]
    ['loopback', 'link-local', 'private']
"""

from __future__ import annotations

import ipaddress
import socket

IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def resolve(name: str, port: int | None = None) -> list[str]:
    """The addresses `name` resolves to, each once, in the resolver's order (an IPv6 one may
    carry its zone: "fe80::1%eth0"). OSError (socket.gaierror) when it does not resolve,
    UnicodeError when the name cannot be encoded (a label over 63 characters)."""
    return list(dict.fromkeys(str(info[4][0]) for info in socket.getaddrinfo(name, port)))


def parse(address: str) -> IP:
    """An address as resolved or written, its zone ("%eth0") left out; ValueError if it is none.

    >>> parse("fe80::1%eth0"), parse("127.0.0.1")
    (IPv6Address('fe80::1'), IPv4Address('127.0.0.1'))
    """
    return ipaddress.ip_address(address.split("%", 1)[0])


def private_kind(ip: IP) -> str:
    """What kind of non-public address `ip` is ("" for a public one); IPv4 inside IPv6
    (::ffff:127.0.0.1) is judged as IPv4.

    >>> [private_kind(ipaddress.ip_address(a)) for a in ("169.254.169.254", "::1", "8.8.8.8")]
    ['link-local', 'loopback', '']
    """
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return private_kind(ip.ipv4_mapped)
    for kind in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return "" if ip.is_global else "non-public"
