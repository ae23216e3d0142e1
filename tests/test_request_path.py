"""What every request passes through stays on the event loop: Litestar runs a guard, a dependency or a handler
that is a plain function in a worker thread (a hand-over there and back on every request) unless it is told not
to. Read from the app itself, so a new route is held to it too."""

from __future__ import annotations

import inspect

from litestar.handlers import HTTPRouteHandler

from app import create_app


def _plain(function: object) -> bool:
    inner = getattr(function, "func", function)  # Litestar's AsyncCallable keeps what it wraps as `func`
    return not (inspect.iscoroutinefunction(inner) or inspect.isasyncgenfunction(inner))


def test_no_guard_dependency_or_handler_is_run_in_a_thread(settings):
    app = create_app(settings)
    threaded: list[str] = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            where = f"{route.path} {sorted(handler.http_methods)}"
            threaded += [f"{where}: guard {guard.func!r}" for guard in handler.resolve_guards() if _plain(guard)]
            threaded += [f"{where}: dependency {name}" for name, provider in handler.resolve_dependencies().items()
                         if provider.sync_to_thread and _plain(provider.dependency)]
            if handler.has_sync_callable and handler.sync_to_thread:
                threaded.append(f"{where}: handler")
    threaded += [f"before_send hook {hook!r}" for hook in app.before_send if _plain(hook)]
    assert app.routes and not threaded, threaded


def test_a_started_process_sets_what_it_made_aside_from_the_garbage_collector(client):
    # Without it a full collection looks at every module, route and table object again: about 150 ms during which
    # every request in flight waits (docs/performance.md). The first app a process starts does it, once.
    import gc

    assert client.get("/healthz").status_code == 200
    assert gc.get_freeze_count() > 100_000
