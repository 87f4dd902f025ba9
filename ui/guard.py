"""Guard: what the page's rules mean for the routes Gradio serves whatever the app is.

- A read-only server has no upload route: Gradio's `POST /gradio_api/upload` (which saves any
  file and returns its path on the server) is refused with 403.
- Under a login, the MCP route asks for it too (HTTP Basic): Gradio serves
  `/gradio_api/mcp/...` outside its own login check, so without this anyone could list and
  call the tools of a server that asks visitors for a password.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from starlette.responses import PlainTextResponse

UPLOAD = "/gradio_api/upload"
MCP = "/gradio_api/mcp"
READ_ONLY = "this server is read-only: it takes no uploads"
LOGIN = "log in first: send the server's user:password as HTTP Basic authorization"


def basic_login(headers: list[tuple[bytes, bytes]]) -> tuple[str, str] | None:
    """The (user, password) of an `Authorization: Basic ...` header, or None.

    >>> basic_login([(b"authorization", b"Basic " + base64.b64encode(b"ann:pw:x"))])
    ('ann', 'pw:x')
    """
    for key, value in headers:
        if key.lower() != b"authorization":
            continue
        kind, _, token = value.decode("latin-1").partition(" ")
        if kind.lower() != "basic":
            return None
        try:
            pair = base64.b64decode(token.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = pair.partition(":")
        return (user, password) if sep else None
    return None


class Guard:
    """ASGI middleware in front of the Gradio app: refuses uploads when `read_only`, and asks
    MCP clients for `login` when there is one."""

    def __init__(self, app: Any, read_only: bool, login: tuple[str, str] | None) -> None:
        self.app = app
        self.read_only = read_only
        self.login = login

    def _logged_in(self, scope: dict[str, Any]) -> bool:
        given = basic_login(scope.get("headers") or [])
        if self.login is None or given is None:
            return False
        user_ok = secrets.compare_digest(given[0].encode(), self.login[0].encode())
        password_ok = secrets.compare_digest(given[1].encode(), self.login[1].encode())
        return user_ok and password_ok

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            path = str(scope.get("path", "")).rstrip("/")
            if self.read_only and path.endswith(UPLOAD):
                await PlainTextResponse(READ_ONLY, status_code=403)(scope, receive, send)
                return
            if self.login and MCP in path and not self._logged_in(scope):
                response = PlainTextResponse(
                    LOGIN, status_code=401, headers={"WWW-Authenticate": 'Basic realm="rag-news"'}
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
