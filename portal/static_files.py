"""The files of static/, read, hashed and compressed once at start-up and served from memory.

Every link names a file with its content hash (`/static/css/app.36457c442b52.css`, from `StaticAssets.url`): such
a name is kept a year (`immutable`), and a name whose hash is not the file's current one is a 404, so no other
bytes are ever served under an immutable name. The plain name (`/static/css/app.css`) still answers, for a page
or service worker from before a change, with `no-cache`. Text files are kept brotli- (quality 11) and gzip-
(level 9) compressed too, when that is smaller: nothing is compressed per request. Each encoding has its own
ETag, and `If-None-Match` gets a 304 with no body. See "Static files from memory" in docs/decisions.md.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import brotli
from litestar import HttpMethod, Request, route
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.types import ASGIApp, Receive, Scope, Send

# Worth compressing; images and fonts are compressed already.
COMPRESSIBLE = frozenset({".css", ".js", ".svg", ".json", ".webmanifest", ".txt", ".html", ".map"})
MEDIA_TYPES = {
    ".css": "text/css", ".js": "text/javascript", ".mjs": "text/javascript", ".svg": "image/svg+xml",
    ".json": "application/json", ".map": "application/json", ".webmanifest": "application/manifest+json",
    ".txt": "text/plain", ".html": "text/html", ".png": "image/png", ".ico": "image/x-icon", ".webp": "image/webp",
    ".woff2": "font/woff2",
}
TEXT_TYPES = frozenset({"text/javascript", "image/svg+xml", "application/json", "application/manifest+json"})
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
Headers = tuple[tuple[bytes, bytes], ...]

# Compressed forms by content hash, kept for the life of the process: brotli at quality 11 takes about 0.2 s for
# the whole folder, and the tests build many apps from the same files.
_compressed: dict[str, tuple[bytes, bytes]] = {}


def _compress(digest: str, data: bytes) -> tuple[bytes, bytes]:
    if digest not in _compressed:
        _compressed[digest] = (brotli.compress(data, quality=11), gzip.compress(data, compresslevel=9, mtime=0))
    return _compressed[digest]


def media_type(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    found = MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"{found}; charset=utf-8" if found.startswith("text/") or found in TEXT_TYPES else found


def hashed_name(name: str, version: str) -> str:
    """`css/app.css` → `css/app.36457c442b52.css` (the hash before the last suffix)."""
    path = PurePosixPath(name)
    return str(path.with_name(f"{path.stem}.{version}{path.suffix}")) if path.suffix else f"{name}.{version}"


class Answer:
    """One response, its headers encoded once: an ASGI app Litestar sends as it is (through the app's
    before_send hook, which adds the security headers)."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Headers, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A fresh list each time: the before_send hook adds to it.
        await send({"type": "http.response.start", "status": self.status, "headers": list(self.headers)})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


@dataclass(frozen=True, slots=True)
class Variant:
    """One encoding of one file under one kind of name: its answers to GET, HEAD and a matching If-None-Match."""

    etag: str
    get: Answer
    head: Answer
    not_modified: Answer


def _variant(body: bytes, etag: str, content_type: str, encoding: str | None, cache: str, vary: bool) -> Variant:
    common: list[tuple[bytes, bytes]] = [(b"cache-control", cache.encode()), (b"etag", etag.encode())]
    if vary:
        common.append((b"vary", b"Accept-Encoding"))
    full = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()), *common]
    if encoding:
        full.append((b"content-encoding", encoding.encode()))
    return Variant(etag, Answer(200, tuple(full), body), Answer(200, tuple(full), b""), Answer(304, tuple(common), b""))


@dataclass(frozen=True, slots=True)
class StaticFile:
    name: str
    version: str  # the first 12 hex digits of the SHA-256 of the bytes: in the hashed name and the ETags
    integrity: str  # SRI of the bytes (a browser checks it on the decoded body)
    media_type: str
    body: bytes
    brotli: bytes | None  # None when not worth it (not a text type, or no smaller)
    gzip: bytes | None
    # By whether the name asked carries the hash, then by encoding ("br", "gzip", "" for identity).
    variants: dict[bool, dict[str, Variant]]

    @classmethod
    def read(cls, name: str, data: bytes) -> StaticFile:
        digest = hashlib.sha256(data).hexdigest()
        version = digest[:12]
        br = gz = None
        if PurePosixPath(name).suffix.lower() in COMPRESSIBLE:
            br, gz = _compress(digest, data)
            br = br if len(br) < len(data) else None
            gz = gz if len(gz) < len(data) else None
        content_type = media_type(name)
        vary = br is not None or gz is not None
        variants: dict[bool, dict[str, Variant]] = {}
        for hashed, cache in ((True, IMMUTABLE), (False, REVALIDATE)):
            variants[hashed] = {"": _variant(data, f'"{version}"', content_type, None, cache, vary)}
            if br is not None:
                variants[hashed]["br"] = _variant(br, f'"{version}-br"', content_type, "br", cache, vary)
            if gz is not None:
                variants[hashed]["gzip"] = _variant(gz, f'"{version}-gzip"', content_type, "gzip", cache, vary)
        return cls(name=name, version=version,
                   integrity="sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode(),
                   media_type=content_type, body=data, brotli=br, gzip=gz, variants=variants)

    def size(self) -> int:
        return len(self.body) + len(self.brotli or b"") + len(self.gzip or b"")


class StaticAssets:
    """Every file of static/ (dot files left out), read once at start-up: what links name and what is served."""

    def __init__(self, directory: Path) -> None:
        self._files: dict[str, StaticFile] = {}
        for path in sorted(directory.rglob("*")):
            name = path.relative_to(directory).as_posix()
            if path.is_file() and not any(part.startswith(".") for part in name.split("/")):
                self._files[name] = StaticFile.read(name, path.read_bytes())
        # What a request may name: the plain name (False) or the hashed one (True); a file's own name first.
        self._by_request: dict[str, tuple[StaticFile, bool]] = {
            name: (file, False) for name, file in self._files.items()
        }
        for name, file in self._files.items():
            self._by_request.setdefault(hashed_name(name, file.version), (file, True))
        self._urls = {name: f"/static/{hashed_name(name, file.version)}" for name, file in self._files.items()}

    def url(self, name: str) -> str:
        return self._urls[name]

    def integrity(self, name: str) -> str:
        return self._files[name].integrity

    def file(self, name: str) -> StaticFile:
        return self._files[name]

    def size(self) -> int:
        """Bytes held in memory: every file and its compressed forms."""
        return sum(file.size() for file in self._files.values())

    def answer(self, path: str, method: str, accept_encoding: str, if_none_match: str) -> ASGIApp | None:
        """The answer to a request for /static/<path>, or None for a 404."""
        found = self._by_request.get(path)
        if found is None:
            return None
        file, hashed = found
        variants = file.variants[hashed]
        br, gz = accepts(accept_encoding) if len(variants) > 1 else (False, False)
        if br and "br" in variants:
            variant = variants["br"]
        elif gz and "gzip" in variants:
            variant = variants["gzip"]
        else:
            variant = variants[""]
        if if_none_match and matches(if_none_match, variant.etag):
            return variant.not_modified
        return variant.head if method == "HEAD" else variant.get


_accepted: dict[str, tuple[bool, bool]] = {}


def accepts(header: str) -> tuple[bool, bool]:
    """Whether an Accept-Encoding header allows brotli, and gzip (a q above 0, given or by `*`)."""
    known = _accepted.get(header)
    if known is not None:
        return known
    weights: dict[str, float] = {}
    for part in header.split(","):
        token, _, params = part.partition(";")
        token = token.strip().lower()
        if not token:
            continue
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        weights[token] = weight
    anything = weights.get("*", 0.0)
    result = (weights.get("br", anything) > 0, weights.get("gzip", weights.get("x-gzip", anything)) > 0)
    if len(_accepted) < 256:  # browsers send a handful of different headers; anything else is not kept
        _accepted[header] = result
    return result


def matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): a W/ prefix does not matter."""
    return any(tag.strip().removeprefix("W/") in (etag, "*") for tag in if_none_match.split(","))


def assets_of(request: Request[Any, Any, Any]) -> StaticAssets:
    return request.app.state.static_assets


def handler(assets: StaticAssets) -> HTTPRouteHandler:
    """The route for one app's files. Not compressed by the app (they come compressed); the access matrix names it
    `GET /static/{file_path:path}`."""

    @route("/static/{file_path:path}", http_method=[HttpMethod.GET, HttpMethod.HEAD], name="static",
           include_in_schema=False, opt={"exclude_from_csrf": True})
    async def static_file(request: Request[Any, Any, Any], file_path: FromPath[str]) -> ASGIApp:
        headers = request.headers
        answer = assets.answer(file_path.lstrip("/"), request.method, headers.get("accept-encoding", ""),
                               headers.get("if-none-match", ""))
        if answer is None:
            raise NotFoundException
        return answer

    return static_file
