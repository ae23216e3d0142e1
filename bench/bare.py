"""The reference: a bare Litestar app with one "hello" page, served the same way as the portal in the
same run, so the portal's figures can be read as a ratio on a noisy machine."""

from __future__ import annotations

from litestar import Litestar, MediaType, get


@get("/", media_type=MediaType.TEXT, sync_to_thread=False)
def hello() -> str:
    return "hello"


@get("/healthz", media_type=MediaType.TEXT, sync_to_thread=False)
def healthz() -> str:
    return "ok"


def create_app() -> Litestar:
    return Litestar(route_handlers=[hello, healthz])
