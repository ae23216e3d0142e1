"""The run command serves the portal; the installable-app files say what they must."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import sign_up

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_run_command_migrates_an_empty_database_and_serves_on_port(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"PORT": str(port), "PORTAL_DATA_DIR": str(tmp_path / "var")})
    process = subprocess.Popen(
        [sys.executable, "-m", "portal", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        body = b""
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://localhost:{port}/healthz", timeout=2) as response:
                    body = response.read()
                    break
            except OSError:
                time.sleep(0.2)
        assert json.loads(body) == {"status": "ok"}
        with urllib.request.urlopen(f"http://localhost:{port}/sign-up", timeout=5) as response:
            assert b"Create account" in response.read()
        assert (tmp_path / "var" / "waypoint.db").exists()
        assert (tmp_path / "var" / "secret_key").exists()
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    assert f"http://localhost:{port}" in output


def test_manifest_names_waypoint_and_its_own_icons(client):
    response = client.get("/manifest.webmanifest")
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["name"] == "Waypoint" and manifest["start_url"] == "/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        assert icon["src"].startswith("/static/icons/")
        assert client.get(icon["src"]).status_code == 200


def test_service_worker_is_served_from_the_root_uncached_and_caches_nothing_signed_in(client):
    response = client.get("/sw.js")
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert 'credentials: "omit"' in response.text
    assert '"/static/"' in response.text


def test_offline_page_never_shows_who_is_signed_in(client):
    sign_up(client, "river")
    page = client.get("/offline").text
    assert "river" not in page and "Sign out" not in page


def test_static_files_are_cached_long_and_carry_security_headers(client):
    # Pages name each file with its content hash (portal/static_files.py): that name is kept a year.
    src = re.search(r'<script src="(/static/js/app\.[0-9a-f]{12}\.js)"', client.get("/sign-in").text)
    assert src
    response = client.get(src.group(1))
    assert "max-age=31536000" in response.headers["cache-control"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/../portal/config.py").status_code == 404


def test_health_check(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_static_files_are_compressed_but_pages_holding_secrets_are_not(client):
    static = client.get("/static/js/htmx.min.js", headers={"accept-encoding": "gzip"})
    assert static.headers.get("content-encoding") == "gzip"
    page = client.get("/sign-in", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in page.headers
