"""Installable app: the web app manifest, the service worker and its neutral offline page.

The service worker caches static files and the offline page only: never a signed-in response.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, get
from litestar.response import Template

from portal.disguise import CHOICES, NEUTRAL, brand
from portal.i18n import _
from portal.push import default_text
from portal.static_files import assets_of
from portal.web import page, services_of


# The icons an installed app can have, by name (portal.disguise). A person who chose "Notes" in Settings gets
# a manifest that names and draws it as a notes app; the choice is made before installing, since an installed
# app keeps its name and icon.
APPS = {
    "waypoint": {"icons": ("icon-192.png", "icon-512.png", "icon-maskable-512.png", "icon.svg")},
    "notes": {"icons": ("notes-192.png", "notes-512.png", "notes-maskable-512.png", "notes.svg")},
}
if set(APPS) != set(CHOICES):
    raise RuntimeError("portal.pwa.APPS and portal.disguise.CHOICES name different apps")


@get("/manifest.webmanifest", include_in_schema=False)
async def manifest(request: Request[Any, Any, Any]) -> Response[Any]:
    key = request.query_params.get("app", "")
    name = brand(key if key in APPS else "waypoint")
    # Hashed names (kept a year): the manifest itself is no-cache, so a new icon is a new name.
    small, large, maskable, vector = (assets_of(request).url(f"icons/{icon}") for icon in APPS[name.key]["icons"])
    body = {
        "name": name.title,
        "short_name": name.title,
        "description": (
            "" if name.key == "notes" else _("Your goals, appointments and papers, in one place you control.")
        ),
        # The installed Notes app opens at /?app=notes: its signed-out pages say "Notes" even after Exit now
        # cleared the cookie that keeps the name. `id` keeps the app the same one whatever it starts at.
        "id": "/",
        "start_url": "/?app=notes" if name.key == "notes" else "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5563",
        "icons": [
            {"src": small, "sizes": "192x192", "type": "image/png"},
            {"src": large, "sizes": "512x512", "type": "image/png"},
            {"src": maskable, "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
            {"src": vector, "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return Response(body, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"})


# The line of sw.js that /sw.js fills with the portal's default exit destination, so the worker can
# send an exit there when the portal cannot be reached (see "Exit now offline" in docs/decisions.md).
EXIT_URL_LINE = b'var EXIT_URL = "about:blank";'
# The line that /sw.js fills with its words in the language of whoever asked (from the catalog, never written twice).
WORDS_LINE = b'var WORDS = {"update": "You have a new update"};'


@get("/sw.js", include_in_schema=False)
async def service_worker(request: Request[Any, Any, Any]) -> Response[bytes]:
    # Served from the root so it may control the whole site; never cached, so updates arrive.
    exit_url = json.dumps(services_of(request).exit_default.url).encode()
    script = assets_of(request).file("sw.js").body  # read once at start-up, with the rest of static/
    if EXIT_URL_LINE not in script or WORDS_LINE not in script:
        raise RuntimeError("static/sw.js lost its EXIT_URL or WORDS line")
    words = json.dumps({"update": default_text()}, ensure_ascii=False).encode()
    script = script.replace(EXIT_URL_LINE, b"var EXIT_URL = " + exit_url + b";")
    return Response(
        script.replace(WORDS_LINE, b"var WORDS = " + words + b";"),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


@get("/offline", include_in_schema=False)
async def offline(request: Request[Any, Any, Any]) -> Template:
    """The one page the service worker keeps. It must never show who is signed in, and it names no app:
    it is fetched once, without cookies, and stays on the phone whatever name the person chooses later."""
    response = page(request, "offline.html", title=_("No connection"), brand=NEUTRAL)
    response.context["viewer"] = None
    response.cookies = []  # the cookie that keeps the chosen name is for the pages that show it
    return response


routes = [manifest, service_worker, offline]
