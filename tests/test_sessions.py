"""Server-side sessions: fixation, forged ids, timeouts, cookies, CSRF."""

from __future__ import annotations

import secrets

import re

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from app import create_app
from portal.db import make_engine, session_factory
from portal.config import new_document_key
from portal.sessions import DatabaseSessionStore, RedisSessionStore, hash_token
from tests.conftest import PASSWORD, REDIS_URL, make_user, post_form, run, sign_in, sign_up


RANDOM_SECRET = secrets.token_urlsafe(48)


def test_anonymous_visitors_get_no_session_cookie(client):
    for path in ("/", "/sign-in", "/sign-up", "/safety"):
        response = client.get(path)
        assert "wp_session" not in response.headers.get("set-cookie", "")
    assert "wp_session" not in client.cookies


def test_a_session_id_planted_before_sign_in_is_not_the_one_used_after(client, settings):
    make_user(settings, "harbour")
    planted = "attacker-chosen-session-id-0123456789"
    client.cookies.set("wp_session", planted, domain="testserver.local")
    response = sign_in(client, "harbour")
    issued = response.cookies.get("wp_session")
    assert issued and issued != planted
    client.cookies.clear()
    client.cookies.set("wp_session", planted, domain="testserver.local")
    assert client.get("/home", follow_redirects=False).status_code == 303  # the planted id signs nobody in


def test_sign_in_rotates_an_existing_session(client, settings):
    make_user(settings, "harbour")
    first = sign_in(client, "harbour").cookies.get("wp_session")
    post = post_form(client, "/sign-in", {"username": "harbour", "password": PASSWORD})
    second = post.cookies.get("wp_session")
    assert first and second and first != second


def test_a_forged_session_cookie_is_ignored_and_removed(client):
    client.cookies.set("wp_session", "forged" * 10, domain="testserver.local")
    response = client.get("/sign-in")
    assert response.status_code == 200
    assert 'wp_session=""' in response.headers.get("set-cookie", "") or "wp_session=;" in response.headers.get("set-cookie", "")
    client.cookies.set("wp_session", "x" * 5000, domain="testserver.local")
    assert client.get("/", follow_redirects=False).status_code == 200


def test_session_cookie_flags(client, settings):
    make_user(settings, "harbour")
    header = sign_in(client, "harbour").headers["set-cookie"]
    cookie = [part for part in header.split(",") if "wp_session=" in part][0].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # development runs on plain http://localhost


def test_production_cookies_are_secure_and_host_bound(database_url, tmp_path):
    from portal.config import Config

    settings = Config.from_env(
        {}, env="production", secret_key=RANDOM_SECRET, document_key=new_document_key(), data_dir=tmp_path, database_url=database_url,
        redis_url=REDIS_URL, allowed_hosts=("testserver.local",),
    )
    cookie = create_app(settings).state.services.sessions.cookie("t")
    assert cookie.key == "__Host-wp_session" and cookie.secure and cookie.httponly


def _age_session(settings, token: str, **changes) -> None:  # type: ignore[no-untyped-def]
    """Move a session's clock back, through the same store the app uses (database or Redis)."""

    async def change() -> None:
        engine = make_engine(settings.database_url)
        redis = Redis.from_url(REDIS_URL) if REDIS_URL else None
        store = RedisSessionStore(redis, "waypoint:") if redis else DatabaseSessionStore(session_factory(engine))
        record = await store.get(hash_token(token))
        assert record is not None
        await store.delete(record.id)
        await store.save(replace(record, **changes))
        if redis:
            await redis.aclose()
        await engine.dispose()

    run(change())


def test_idle_sessions_end(client, settings):
    make_user(settings, "harbour")
    token = sign_in(client, "harbour").cookies["wp_session"]
    assert client.get("/home", follow_redirects=False).status_code == 200
    _age_session(settings, token, last_seen_at=datetime.now(UTC) - timedelta(minutes=16))
    assert client.get("/home", follow_redirects=False).status_code == 303


def test_sessions_end_after_the_absolute_limit_even_when_active(client, settings):
    make_user(settings, "harbour")
    token = sign_in(client, "harbour").cookies["wp_session"]
    _age_session(settings, token, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert client.get("/home", follow_redirects=False).status_code == 303


def test_sessions_survive_a_restart(settings, client):
    from litestar.testing import TestClient

    make_user(settings, "harbour")
    token = sign_in(client, "harbour").cookies["wp_session"]
    with TestClient(create_app(settings), base_url="http://testserver.local") as restarted:
        restarted.cookies.set("wp_session", token, domain="testserver.local")
        assert restarted.get("/home", follow_redirects=False).status_code == 200


def test_state_changes_without_a_csrf_token_are_refused(client, settings):
    make_user(settings, "harbour")
    no_token = client.post("/sign-in", data={"username": "harbour", "password": PASSWORD}, follow_redirects=False)
    assert no_token.status_code == 403
    client.get("/sign-in")
    wrong = client.post(
        "/sign-in", data={"username": "harbour", "password": PASSWORD, "_csrf_token": "0" * 128}, follow_redirects=False
    )
    assert wrong.status_code == 403
    assert "wp_session" not in wrong.headers.get("set-cookie", "")


def test_htmx_requests_send_the_token_in_a_header(client, settings):
    sign_up(client, "river")
    token = client.get("/home").text.split('"X-CSRFToken": "', 1)[1].split('"', 1)[0]
    refused = client.post("/sign-out", headers={"HX-Request": "true"}, follow_redirects=False)
    assert refused.status_code == 403
    accepted = client.post("/sign-out", headers={"HX-Request": "true", "X-CSRFToken": token}, follow_redirects=False)
    assert accepted.status_code == 303


def test_sign_out_ends_the_session_on_the_server(client, settings):
    make_user(settings, "harbour")
    token = sign_in(client, "harbour").cookies["wp_session"]
    post_form(client, "/sign-out")
    client.cookies.set("wp_session", token, domain="testserver.local")
    assert client.get("/home", follow_redirects=False).status_code == 303


def test_password_hash_is_upgraded_at_sign_in_when_parameters_change(settings):
    from dataclasses import replace

    from litestar.testing import TestClient
    from sqlmodel import select

    from portal.models import User

    make_user(settings, "harbour")
    stronger = replace(settings, password_hash_memory_kib=settings.password_hash_memory_kib * 2)
    with TestClient(create_app(stronger), base_url="http://testserver.local") as client:
        sign_in(client, "harbour")

    async def stored_hash() -> str:
        engine = make_engine(settings.database_url)
        async with session_factory(engine)() as db:
            user = (await db.exec(select(User).where(User.username_key == "harbour"))).one()
        await engine.dispose()
        return user.password_hash

    assert f"m={settings.password_hash_memory_kib * 2}," in run(stored_hash())


def test_every_state_change_needs_the_csrf_token(app, client, settings):
    """A sweep over every POST route: without a token, 403 (the exit endpoint alone is exempt)."""
    make_user(settings, "harbour")
    sign_in(client, "harbour")
    checked = []
    for route in app.routes:
        if "POST" not in getattr(route, "methods", set()) or route.path == "/exit":
            continue
        path = re.sub(r"\{\w+:str\}", "x" * 20, re.sub(r"\{\w+:int\}", "1", route.path))
        response = client.post(path, data={"username": "x", "exit_url": "https://a.example"}, follow_redirects=False)
        assert response.status_code == 403, path
        checked.append(path)
    assert {"/sign-in", "/sign-up", "/sign-out", "/settings/exit", "/admin/staff", "/check-ins", "/admin/help-lines"} <= set(checked)


def test_unusable_sessions_are_purged_from_the_database_at_sign_in(client, settings):
    from sqlmodel import select

    from portal.models import WebSession

    make_user(settings, "harbour")
    old = sign_in(client, "harbour").cookies["wp_session"]
    client.cookies.clear()
    if not REDIS_URL:
        _age_session(settings, old, expires_at=datetime.now(UTC) - timedelta(seconds=1))

        async def count() -> int:
            engine = make_engine(settings.database_url)
            async with session_factory(engine)() as db:
                rows = (await db.exec(select(WebSession))).all()
            await engine.dispose()
            return len(rows)

        assert run(count()) == 1
        sign_in(client, "harbour")
        assert run(count()) == 1  # the expired one went, the new one is there


@pytest.mark.parametrize("token", ["a" * 70 + "é", "é" * 100, "ß"])
def test_a_csrf_token_with_characters_no_real_token_has_is_refused_not_a_500(client, token):
    sign_up(client, "harbour")
    for path in ("/check-ins", "/goals"):
        assert client.post(path, data={"_csrf_token": token, "feeling": "3"}, follow_redirects=False).status_code == 403
        assert client.post(path, data={"feeling": "3"}, headers={"x-csrftoken": token.encode()},
                           follow_redirects=False).status_code == 403
    upload = client.post("/documents", data={"_csrf_token": token}, files={"file": ("a.pdf", b"%PDF-1.7\n")},
                         follow_redirects=False)
    assert upload.status_code == 403


def test_an_unknown_host_is_refused_before_the_csrf_check(client):
    """The host check is the outermost middleware: a form sent to a name the portal does not answer to is
    400 Unknown host, whatever its token, before the CSRF check could answer 403."""
    for path in ("/sign-in", "/goals"):
        answer = client.post(path, data={"username": "someone"}, headers={"host": "evil.example"})
        assert (answer.status_code, answer.text) == (400, "Unknown host")
    assert client.get("/sign-in", headers={"host": "evil.example"}).status_code == 400
