"""Build the Waypoint web application from a settings object.

    uvicorn --factory app:create_app      # or: python -m portal run
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager, suppress
from functools import partial
from pathlib import Path
from types import BuiltinMethodType, FunctionType
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from jinja2.runtime import Context, Macro
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from redis.asyncio import Redis

from portal import (
    account, admin, counting, dates, documents, export, feedback, forms, fragments, help_lines, home, i18n, impact,
    keys, language, messages, outbox, parts, passkeys, people, profiles, push, pwa, reminders, safety, settings_page,
    sharing, sign_in,
)
from portal.crypto import MasterKey
from portal.db import make_engine, session_factory, session_provider
from portal.limits import MemoryCounters, RedisCounters, Throttle
from portal.organisation import ExitDefault
from portal.passwords import Hasher
from portal.reads import Reader
from portal.safety import exit_href
from portal.static_files import StaticAssets, handler as static_handler
from portal.timezones import zone_in_words
from portal.sessions import DatabaseSessionStore, RedisSessionStore, Sessions
from portal.storage import DatabaseStorage
from portal.config import Config, private_folder
from portal.middleware import (
    AllowedHostsMiddleware, CSRFMiddleware, headers_hook, HttpsRedirect, PortalRequest, ViewerMiddleware,
)
from portal.web import current_entry, exception_handlers, page_link, Services

ROOT = Path(__file__).resolve().parent
STATIC_DIR = ROOT / "static"
TEMPLATE_DIRS = [ROOT / "portal" / "templates", ROOT / "components"]


def keep_out_of_collections() -> None:
    """Once a process has started (the first app it runs), what it has made so far (modules, the app, the
    database's metadata: some 220,000 objects) is set aside from the garbage collector for good. A full
    collection then looks at what requests made since (about 16,500 objects) and pauses every request in flight
    for a few milliseconds, not for 150 ms (measured in docs/performance.md)."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def template_cache(data_dir: Path) -> Path:
    """The folder of compiled templates (private, like the rest of the data folder)."""
    folder = data_dir / "template-cache"
    private_folder(folder)
    return folder


class PortalContext(Context):
    """Jinja's context, with a quicker call for what most calls in a template are: a plain function (a translated
    string, a date) or a macro. Jinja asks every callable whether it wants the context, the environment or the
    evaluation context passed in, through four attribute lookups (about 0.8 µs a call, some 100 calls a page);
    a function without Jinja's mark (`jinja_pass_arg`, set by `pass_context` and its kind), a macro and a method
    written in C (`isoformat`, which cannot carry the mark) want none, and are called as they are. Anything else goes
    Jinja's own way."""

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        kind = type(__obj)
        if ((kind is FunctionType and "jinja_pass_arg" not in __obj.__dict__) or kind is Macro
                or kind is BuiltinMethodType):
            if kwargs:
                kwargs.pop("_block_vars", None)
                kwargs.pop("_loop_vars", None)
            return __obj(*args, **kwargs)
        return super().call(__obj, *args, **kwargs)


class PortalEnvironment(Environment):
    """Jinja's environment, with each template's globals a plain dict of the environment's (every global is set
    before the first template loads). Jinja's own is a ChainMap, and every `import` in a template compares the
    page's globals with the imported template's: through a ChainMap's keys that comparison ran in Python, about
    20 µs each, seven times a page; through a dict's, under a microsecond."""

    context_class = PortalContext

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


def template_environment(assets: StaticAssets, secret_key: str, cache_dir: Path | None = None) -> Environment:
    """The templates' environment; with `cache_dir`, each template compiled once and kept there as bytecode, so
    a worker that starts (or restarts) loads them rather than compiling every one again."""
    env = PortalEnvironment(
        bytecode_cache=FileSystemBytecodeCache(str(cache_dir)) if cache_dir is not None else None,
        loader=FileSystemLoader([str(d) for d in TEMPLATE_DIRS]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code: no look at each file's time on every page (7 a page).
        auto_reload=False,
    )
    # The language is the request's (portal.i18n.use): the callables look it up each time they are called.
    env.globals.update(
        **i18n.template_callables(),
        static_url=assets.url, integrity=assets.integrity, language=i18n.current, text_direction=i18n.direction,
        languages=i18n.LANGUAGES, day=dates.day, clock=dates.clock, moment=dates.moment, zone_in_words=zone_in_words,
        exit_href=partial(exit_href, secret_key),
        page_link=page_link, current_entry=current_entry, kept=fragments.kept, collect_errors=forms.collect_errors,
        note_error=forms.note_error, noted_errors=forms.noted_errors, noting_errors=forms.noting_errors,
    )
    return env


def create_app(settings: Config | None = None) -> Litestar:
    settings = settings or Config.from_env()
    engine = make_engine(settings.database_url)
    reader = Reader.of(engine)  # SQLite: reads that only show run straight on it (portal.reads)
    factory = session_factory(engine, reader)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    if redis is not None:
        prefix = "waypoint:"
        store: DatabaseSessionStore | RedisSessionStore = RedisSessionStore(redis, prefix)
        counters: MemoryCounters | RedisCounters = RedisCounters(redis, prefix)
    else:
        store = DatabaseSessionStore(factory)
        counters = MemoryCounters()
    sessions = Sessions(store, settings)
    services = Services(
        config=settings,
        sessions=sessions,
        hasher=Hasher(settings.password_hash_memory_kib, settings.password_hash_passes),
        throttle=Throttle(counters),
        master_key=MasterKey(settings.document_key),
        csrf=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="__Host-wp_csrf" if settings.production else "wp_csrf",
            cookie_secure=settings.production,
            cookie_httponly=True,
            cookie_samesite="strict",
            header_name="x-csrftoken",
            # The exit must work even from a page whose form token is stale, and from a beacon.
            exclude=["^/exit$"],  # a pattern searched anywhere in the path: anchor it
        ),
        storage=DatabaseStorage(factory),
        vapid=keys.Vapid(settings.vapid_private_key, settings.push_contact),
        push_hosts=push.PushHosts.of(settings),
        exit_default=ExitDefault(settings.exit_url),
        factory=factory,
    )
    assets = StaticAssets(STATIC_DIR)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await documents.start_up(services)
        await services.exit_default.load(factory)
        keep_out_of_collections()
        refresher = asyncio.create_task(services.exit_default.refresh_forever(factory))
        # Reminders go out from every process that runs the worker; rows are claimed, never sent twice.
        sender = (asyncio.create_task(outbox.Worker(factory, services.vapid, services.push_hosts).run_forever())
                  if settings.push_worker else None)
        try:
            yield
        finally:
            refresher.cancel()
            with suppress(asyncio.CancelledError):
                await refresher
            if sender is not None:
                sender.cancel()
                with suppress(asyncio.CancelledError):
                    await sender
            if redis is not None:
                await redis.aclose()
            await engine.dispose()
            if reader is not None:
                reader.close()

    # Every file of static/ in memory, hashed and compressed once (portal.static_files): about 180 KB.
    static = static_handler(assets)
    app = Litestar(
        route_handlers=[
            static, *sign_in.routes, *safety.routes, *home.routes, *settings_page.routes, *language.routes,
            *admin.routes, *help_lines.routes, *pwa.routes, *(part.router for part in parts.PARTS), sharing.router,
            people.router, messages.router, *messages.routes, *reminders.routes, *account.routes, *export.routes,
            *passkeys.routes, *counting.routes, *impact.routes, *profiles.routes, *feedback.routes,
        ],
        dependencies={"db": Provide(session_provider(factory))},
        # Outermost first: a request to a host name the portal does not answer to is refused (400) before
        # anything else; then the CSRF check (403), so a forged form never touches a session; then the viewer.
        middleware=[AllowedHostsMiddleware(settings.allowed_hosts),
                    DefineMiddleware(CSRFMiddleware, config=services.csrf),
                    ViewerMiddleware(sessions, engine, reader)],
        template_config=TemplateConfig(
            instance=JinjaTemplateEngine.from_environment(template_environment(
                assets, settings.secret_key, template_cache(settings.data_dir)))
        ),
        openapi_config=(
            OpenAPIConfig(title="Waypoint", version="1", path="/schema", render_plugins=[JsonRenderPlugin()])
            if settings.api_docs
            else None
        ),
        # No compression_config: a compressed page holding a secret (the CSRF token) next to text a visitor
        # typed could leak the secret through its size (BREACH). Static files come compressed from memory.
        exception_handlers=exception_handlers(),
        request_class=PortalRequest,
        before_send=[headers_hook(settings.production)],
        # Errors are logged once, by portal.web.server_error, with secrets masked from the path.
        logging_config=LoggingConfig(log_exceptions="never"),
        request_max_body_size=1_000_000,
        lifespan=[lifespan],
        state=State({"services": services, "static_assets": assets}),
        debug=settings.debug,
    )
    if settings.production:
        # Around the router, not among the route middleware above: unknown paths (404) are redirected too.
        app.asgi_handler = HttpsRedirect(app.asgi_handler, settings.allowed_hosts)
    return app
