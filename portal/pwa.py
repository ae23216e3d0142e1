"""Installable app: the web app manifest, the service worker and its neutral offline page.

The service worker caches static files and the offline page only: never a signed-in response.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.response import Template

from portal.i18n import _
from portal.web import page

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


# The names and icons an installed app can have. A person who chose "Notes" in Settings gets a manifest
# that names and draws it as a notes app; the choice is made before installing, since an installed app
# keeps its name and icon.
APPS = {
    "waypoint": {"name": "Waypoint", "icons": ("icon-192.png", "icon-512.png", "icon-maskable-512.png", "icon.svg")},
    "notes": {"name": "Notes", "icons": ("notes-192.png", "notes-512.png", "notes-maskable-512.png", "notes.svg")},
}


@get("/manifest.webmanifest", include_in_schema=False)
async def manifest(request: Request[Any, Any, Any]) -> Response[Any]:
    app = APPS.get(request.query_params.get("app", ""), APPS["waypoint"])
    small, large, maskable, vector = app["icons"]
    body = {
        "name": app["name"],
        "short_name": app["name"],
        "description": "" if app is APPS["notes"] else _("Your goals, appointments and papers, in one place you control."),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5563",
        "icons": [
            {"src": f"/static/icons/{small}", "sizes": "192x192", "type": "image/png"},
            {"src": f"/static/icons/{large}", "sizes": "512x512", "type": "image/png"},
            {"src": f"/static/icons/{maskable}", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
            {"src": f"/static/icons/{vector}", "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return Response(body, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"})


@get("/sw.js", include_in_schema=False)
async def service_worker() -> Response[bytes]:
    # Served from the root so it may control the whole site; never cached, so updates arrive.
    return Response(
        (STATIC_DIR / "sw.js").read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


@get("/offline", include_in_schema=False)
async def offline(request: Request[Any, Any, Any]) -> Template:
    """The one page the service worker keeps. It must never show who is signed in."""
    response = page(request, "offline.html", title="")
    response.context["viewer"] = None
    return response


routes = [manifest, service_worker, offline]
