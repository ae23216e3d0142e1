"""A small HTTP/1.1 client for load: keep-alive connections over asyncio streams, a cookie jar per
virtual browser, and the bytes each answer took on the wire.

A general client (httpx) spends more of the two cores on itself than the server it measures; this one
reads a status line, headers and a body (Content-Length or chunked) and nothing more. It only ever
talks to loopback.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

LOOPBACK = ("127.0.0.1", "localhost")
TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    wire: int  # bytes received: status line, headers and body as sent (compressed or not)
    cookies: list[str] = field(default_factory=list)  # each Set-Cookie header

    @property
    def text(self) -> str:
        """The body as text, uncompressed (static files come brotli- or gzip-compressed)."""
        body = self.body
        if self.headers.get("content-encoding") == "br":
            import brotli

            body = brotli.decompress(body)
        elif self.headers.get("content-encoding") == "gzip":
            import gzip

            body = gzip.decompress(body)
        return body.decode("utf-8", "replace")


class Closed(Exception):
    """The server closed the connection before a whole answer arrived (a worker killed, say)."""

    def __init__(self, message: str, *, before_answer: bool = False) -> None:
        super().__init__(message)
        self.before_answer = before_answer  # not one byte of an answer came back


class Connection:
    """One keep-alive connection to a loopback server."""

    def __init__(self, host: str, port: int) -> None:
        if host not in LOOPBACK:
            raise ValueError(f"only loopback is ever a target, not {host}")
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.resent = 0  # requests sent again because the server closed a kept-alive connection unanswered

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Answer:
        reused = self._writer is not None
        try:
            return await self._request(method, path, headers, body)
        except Closed as closed:
            if not (reused and closed.before_answer):
                raise
        # The server closed a connection left idle past its keep-alive time before it read the request
        # (nothing came back): as browsers do, send it again once on a new connection. A killed worker
        # closes connections the same way, so the soak counts these.
        self.resent += 1
        return await self._request(method, path, headers, body)

    async def _request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if self._reader is None or self._writer is None:  # both are set and cleared together
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._reader, self._writer
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 *(f"{k}: {v}" for k, v in headers.items())]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            answer = await _read(reader)
        except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
            self.close()
            nothing = isinstance(exc, asyncio.IncompleteReadError) and not exc.partial
            raise Closed(str(exc) or type(exc).__name__, before_answer=nothing) from exc
        if answer.headers.get("connection", "").lower() == "close":
            self.close()
        return answer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def _read(reader: asyncio.StreamReader) -> Answer:
    head = await reader.readuntil(b"\r\n\r\n")
    wire = len(head)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            name = name.strip().lower()
            if name == "set-cookie":
                cookies.append(value.strip())
            headers[name] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
        wire += len(body)
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            wire += len(size_line) + len(chunk)
            if size == 0:
                break
            parts.append(chunk[:-2])
        body = b"".join(parts)
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        body = await reader.read()
        wire += len(body)
    return Answer(status, headers, body, wire, cookies)


class Browser:
    """One person's browser: a connection, their cookies, and a CSRF token once a page has given one."""

    def __init__(self, host: str, port: int, compressed: bool = True) -> None:
        self.connection = Connection(host, port)
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.compressed = compressed

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"User-Agent": "waypoint-bench", "Accept": "text/html"}
        if self.compressed:
            headers["Accept-Encoding"] = "br, gzip"  # as browsers ask
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def _keep(self, answer: Answer) -> Answer:
        for cookie in answer.cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            attributes = rest.lower()
            if "max-age=0" in attributes or "expires=thu, 01 jan 1970" in attributes or value in ("", "null"):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return answer

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        answer = self._keep(await self.connection.request("GET", path, self._headers(headers)))
        if not self.token and answer.headers.get("content-type", "").startswith("text/html"):
            self.token = self._token_in(answer)
        return answer

    def _token_in(self, answer: Answer) -> str:
        match = TOKEN.search(answer.text)
        return match.group(1) if match else ""

    async def post(self, path: str, form: dict[str, str] | None = None, *, body: bytes | None = None,
                   content_type: str = "application/x-www-form-urlencoded") -> Answer:
        if body is None:
            body = urlencode({**(form or {}), "_csrf_token": self.token}).encode()
        headers = self._headers({"Content-Type": content_type, "X-CSRFToken": self.token})
        return self._keep(await self.connection.request("POST", path, headers, body))

    async def sign_in(self, username: str, password: str) -> None:
        await self.get("/sign-in")
        answer = await self.post("/sign-in", {"username": username, "password": password})
        if answer.status != 303:
            raise RuntimeError(f"sign-in as {username} answered {answer.status}")
        self.token = ""
        await self.get("/home")  # a signed-in page: its token is the one this session's forms carry

    def close(self) -> None:
        self.connection.close()
