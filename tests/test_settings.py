"""Settings: defaults, the development secret, production refusals, and the README table."""

from __future__ import annotations

import base64
import secrets

from pathlib import Path

import pytest

from portal.config import CONFIG_HELP, Config, ConfigError, new_document_key

README = Path(__file__).resolve().parent.parent / "README.md"


RANDOM_SECRET = secrets.token_urlsafe(48)


def test_defaults(tmp_path):
    settings = Config.from_env({"PORTAL_DATA_DIR": str(tmp_path)})
    assert settings.port == 8000
    assert settings.env == "development"
    assert settings.database_url == f"sqlite:///{tmp_path.as_posix()}/waypoint.db"
    assert settings.session_idle_minutes == 15 and settings.session_absolute_hours == 8
    assert settings.redis_url == ""


def test_development_secret_is_generated_once_and_kept(tmp_path):
    first = Config.from_env({"PORTAL_DATA_DIR": str(tmp_path)}).secret_key
    second = Config.from_env({"PORTAL_DATA_DIR": str(tmp_path)}).secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "PORTAL_SECRET_KEY"),
        ({"PORTAL_SECRET_KEY": "changeme"}, "PORTAL_SECRET_KEY"),
        ({"PORTAL_SECRET_KEY": RANDOM_SECRET, "PORTAL_DEBUG": "true"}, "PORTAL_DEBUG"),
        ({"PORTAL_SECRET_KEY": RANDOM_SECRET, "PORTAL_API_DOCS": "1"}, "PORTAL_API_DOCS"),
        ({"PORTAL_SECRET_KEY": RANDOM_SECRET, "PORTAL_PUSH_LOOPBACK": "true"}, "PORTAL_PUSH_LOOPBACK"),
        ({"PORTAL_SECRET_KEY": "a" * 36}, "PORTAL_SECRET_KEY"),  # long, but one character
        ({"PORTAL_SECRET_KEY": "abcd" * 12}, "PORTAL_SECRET_KEY"),
        ({"PORTAL_SECRET_KEY": RANDOM_SECRET, "PORTAL_DOCUMENT_KEY": base64.b64encode(bytes(32)).decode()}, "PORTAL_DOCUMENT_KEY"),
        ({"PORTAL_SECRET_KEY": RANDOM_SECRET, "PORTAL_DOCUMENT_KEY": base64.b64encode(b"0123456789" * 3 + b"01").decode()},
         "PORTAL_DOCUMENT_KEY"),
    ],
)
def test_production_refuses_unsafe_settings(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_env({"PORTAL_ENV": "production", "PORTAL_DATA_DIR": str(tmp_path), **environ})
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    "environ",
    [{"PORT": "eighty"}, {"PORTAL_ENV": "staging"}, {"DATABASE_URL": "mysql://x"}, {"PORTAL_DEBUG": "maybe"},
     {"PORTAL_ARGON2_MEMORY_KIB": "1024"}, {"PORTAL_SESSION_IDLE_MINUTES": "1"}, {"PORTAL_EXIT_URL": "javascript:x"}],
)
def test_bad_values_are_refused_with_a_message(tmp_path, environ):
    with pytest.raises(ConfigError):
        Config.from_env({"PORTAL_DATA_DIR": str(tmp_path), **environ})


def test_production_with_a_real_secret_and_document_key_starts(tmp_path):
    environ = {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": RANDOM_SECRET, "PORTAL_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="PORTAL_DOCUMENT_KEY"):
        Config.from_env(environ)  # never a key made beside the data it protects
    assert not (tmp_path / "document_key").exists()
    settings = Config.from_env({**environ, "PORTAL_DOCUMENT_KEY": new_document_key()})
    assert settings.production


def test_production_serves_no_api_pages_and_sends_hsts(tmp_path, database_url):
    from litestar.testing import TestClient

    from app import create_app

    settings = Config.from_env(
        {}, env="production", secret_key=RANDOM_SECRET, document_key=new_document_key(), data_dir=tmp_path, database_url=database_url,
        allowed_hosts=("testserver.local",),
    )
    with TestClient(create_app(settings), base_url="http://testserver.local") as client:
        for path in ("/schema", "/schema/swagger", "/schema/openapi.json", "/schema/redoc"):
            assert client.get(path).status_code == 404
        assert "max-age" in client.get("/").headers["strict-transport-security"]


def test_every_setting_is_documented_in_the_readme():
    readme = README.read_text()
    for name in CONFIG_HELP:
        assert f"`{name}`" in readme, f"{name} missing from README"


def test_document_key_is_generated_once_private_and_32_bytes(tmp_path):
    from portal.config import document_key_bytes

    first = Config.from_env({"PORTAL_DATA_DIR": str(tmp_path)}).document_key
    second = Config.from_env({"PORTAL_DATA_DIR": str(tmp_path)}).document_key
    assert first == second and len(document_key_bytes(first)) == 32
    assert (tmp_path / "document_key").stat().st_mode & 0o077 == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".key-")]


def test_a_given_document_key_is_used_and_nothing_is_written(tmp_path):
    import base64

    key = base64.b64encode(bytes(range(32))).decode()  # the standard alphabet is accepted too
    settings = Config.from_env({"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_DOCUMENT_KEY": key})
    assert settings.document_key == key
    assert not (tmp_path / "document_key").exists()


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PORTAL_DOCUMENT_KEY": "too-short"}, "PORTAL_DOCUMENT_KEY"),
        ({"PORTAL_DOCUMENT_KEY": "%%%%"}, "PORTAL_DOCUMENT_KEY"),
        ({"PORTAL_UPLOAD_MAX_MB": "0"}, "PORTAL_UPLOAD_MAX_MB"),
        ({"PORTAL_UPLOAD_MAX_MB": "500"}, "PORTAL_UPLOAD_MAX_MB"),
    ],
)
def test_bad_document_settings_are_refused(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_env({"PORTAL_DATA_DIR": str(tmp_path), **environ})
