"""One typed settings object, read once from the environment.

Every field has a help line; `CONFIG_HELP` is what the README table and the `--help` of the
command line are checked against, so a new setting cannot go undocumented.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from portal.keys import document_key_bytes, new_document_key, new_vapid_key, vapid_key_problem

DEFAULT_EXIT_URL = "https://www.bbc.co.uk/weather"
PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development", "placeholder"}


class ConfigError(ValueError):
    """A setting has a value the portal refuses to start with."""


def _setting(env: str, help: str, default: object = None) -> object:
    return field(default=default, metadata={"env": env, "help": help})


@dataclass(frozen=True)
class Config:
    """Everything the portal can be told from outside. Built by `Config.from_env()`."""

    env: str = _setting(  # type: ignore[assignment]
        "PORTAL_ENV",
        "`development` or `production`. Production refuses unsafe values (placeholder secret, debug, API docs).",
        "development",
    )
    data_dir: Path = field(  # _setting spelt out: a Path default would read as a shared call result
        default=Path("var"),
        metadata={"env": "PORTAL_DATA_DIR",
                  "help": "Folder for the SQLite database, the generated secret key and other local files."},
    )
    database_url: str = _setting(  # type: ignore[assignment]
        "DATABASE_URL",
        "Database. Default: SQLite file `waypoint.db` in the data folder. "
        "PostgreSQL: `postgresql://user@host:5432/name`.",
        "",
    )
    redis_url: str = _setting(  # type: ignore[assignment]
        "REDIS_URL",
        "Optional. When set, sessions and sign-in throttling live in Redis (needed for several machines).",
        "",
    )
    host: str = _setting("PORTAL_HOST", "Address the server listens on.", "127.0.0.1")  # type: ignore[assignment]
    port: int = _setting("PORT", "Port the server listens on.", 8000)  # type: ignore[assignment]
    workers: int = _setting("PORTAL_WORKERS", "Number of server worker processes.", 1)  # type: ignore[assignment]
    secret_key: str = _setting(  # type: ignore[assignment]
        "PORTAL_SECRET_KEY",
        "Signs CSRF tokens and exit links. Development: generated once into the data folder. Production: required.",
        "",
    )
    debug: bool = _setting("PORTAL_DEBUG", "Show error details in pages. Never in production.", False)  # type: ignore[assignment]
    api_docs: bool = _setting(  # type: ignore[assignment]
        "PORTAL_API_DOCS",
        "Serve the OpenAPI schema at /schema/openapi.json (no doc UIs are ever served). Off in production.",
        False,
    )
    allowed_hosts: tuple[str, ...] = _setting(  # type: ignore[assignment]
        "PORTAL_ALLOWED_HOSTS",
        "Comma-separated host names the portal answers to. Default: localhost and 127.0.0.1.",
        ("localhost", "127.0.0.1"),
    )
    trusted_proxies: tuple[str, ...] = _setting(  # type: ignore[assignment]
        "PORTAL_TRUSTED_PROXIES",
        "Comma-separated addresses of reverse proxies whose X-Forwarded-For is believed (so sign-in limits apply "
        "per person, not per proxy).",
        ("127.0.0.1",),
    )
    session_idle_minutes: int = _setting(  # type: ignore[assignment]
        "PORTAL_SESSION_IDLE_MINUTES", "Sign a person out after this many minutes without a request.", 15
    )
    session_absolute_hours: int = _setting(  # type: ignore[assignment]
        "PORTAL_SESSION_ABSOLUTE_HOURS", "Sign a person out this many hours after sign-in, whatever they do.", 8
    )
    exit_url: str = _setting(  # type: ignore[assignment]
        "PORTAL_EXIT_URL", "Where Exit now leads when a person has not chosen their own place.", DEFAULT_EXIT_URL
    )
    password_hash_memory_kib: int = _setting(  # type: ignore[assignment]
        "PORTAL_ARGON2_MEMORY_KIB", "argon2id memory per password hash, in KiB (minimum 19456).", 19456
    )
    password_hash_passes: int = _setting(  # type: ignore[assignment]
        "PORTAL_ARGON2_PASSES", "argon2id passes per password hash (minimum 2).", 2
    )
    upload_max_mb: int = _setting(  # type: ignore[assignment]
        "PORTAL_UPLOAD_MAX_MB",
        "Largest document a survivor can upload, in MB (1 to 100). Enforced while it arrives.",
        20,
    )
    document_key: str = _setting(  # type: ignore[assignment]
        "PORTAL_DOCUMENT_KEY",
        "Master key that encrypts every document's own key: 32 random bytes, base64 "
        "(`python -c \"import os,base64;print(base64.urlsafe_b64encode(os.urandom(32)).decode())\"`). "
        "Development default: generated once into `document_key` in the data folder. Production: required, kept "
        "apart from the data (a copy of the data must not carry its key). Several machines must share one value. "
        "Back it up: documents cannot be opened without it.",
        "",
    )
    vapid_private_key: str = _setting(  # type: ignore[assignment]
        "PORTAL_VAPID_PRIVATE_KEY",
        "Signs reminders sent to phones (Web Push, VAPID): a P-256 private key, raw 32 bytes in base64url. Default: "
        "generated once into `vapid_private_key` in the data folder. Several machines must share one value: a phone "
        "subscribed through one only accepts reminders signed with the same key.",
        "",
    )
    push_contact: str = _setting(  # type: ignore[assignment]
        "PORTAL_PUSH_CONTACT",
        "How push services can reach the organisation about its reminders: `mailto:` or `https:` address, sent with "
        "each push. Set a real one in production: some push services refuse others.",
        "mailto:admin@localhost",
    )
    push_hosts: tuple[str, ...] = _setting(  # type: ignore[assignment]
        "PORTAL_PUSH_HOSTS",
        "Comma-separated push services a phone may subscribe through (a name and every name under it). Reminders "
        "are only ever sent there, over https.",
        ("fcm.googleapis.com", "push.services.mozilla.com", "notify.windows.com", "push.apple.com"),
    )
    push_loopback: bool = _setting(  # type: ignore[assignment]
        "PORTAL_PUSH_LOOPBACK",
        "Development and tests only: also accept push services on this machine (127.0.0.1 or localhost with a port, "
        "http or https). Refused in production.",
        False,
    )
    push_worker: bool = _setting(  # type: ignore[assignment]
        "PORTAL_PUSH_WORKER",
        "Run the reminder sender in this process (every worker may; they never send one twice). Off: nothing is "
        "sent by this process.",
        True,
    )

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Config:
        """Read every field from `environ` (default: the process environment), then apply `overrides`."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, f.default, raw)
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        return settings.completed()

    def completed(self) -> Config:
        """Fill in derived defaults (database file, development secret) and check the values."""
        data_dir = Path(self.data_dir)
        database_url = self.database_url or f"sqlite:///{(data_dir / 'waypoint.db').as_posix()}"
        secret_key = self.secret_key
        if not secret_key and not self.production:
            secret_key = _key_file(data_dir / "secret_key", lambda: secrets.token_urlsafe(48))
        document_key = self.document_key
        if not document_key and not self.production:
            document_key = _key_file(data_dir / "document_key", new_document_key)
        vapid_private_key = self.vapid_private_key or _key_file(data_dir / "vapid_private_key", new_vapid_key)
        done = _replace(self, data_dir=data_dir, database_url=database_url, secret_key=secret_key,
                        document_key=document_key,
                        vapid_private_key=vapid_private_key)
        done.check()
        return done

    def check(self) -> None:
        """Refuse values that are unsafe or meaningless."""
        if self.env not in ("development", "production"):
            raise ConfigError("PORTAL_ENV must be 'development' or 'production'.")
        scheme = urlsplit(self.database_url).scheme
        if not (scheme.startswith("sqlite") or scheme.startswith("postgres")):
            raise ConfigError("DATABASE_URL must be a sqlite:// or postgresql:// URL.")
        if not 5 <= self.session_idle_minutes <= 24 * 60:
            raise ConfigError("PORTAL_SESSION_IDLE_MINUTES must be between 5 and 1440.")
        if not 1 <= self.session_absolute_hours <= 72:
            raise ConfigError("PORTAL_SESSION_ABSOLUTE_HOURS must be between 1 and 72.")
        if self.password_hash_memory_kib < 19456 or self.password_hash_passes < 2:
            raise ConfigError("argon2id below the ASVS minimum (19456 KiB, 2 passes) is refused.")
        if not 1 <= self.upload_max_mb <= 100:
            raise ConfigError("PORTAL_UPLOAD_MAX_MB must be between 1 and 100.")
        if not is_web_address(self.exit_url):
            raise ConfigError("PORTAL_EXIT_URL must be an http(s) address.")
        if self.production:
            if self.secret_key.lower() in PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
                raise ConfigError("Production needs PORTAL_SECRET_KEY: at least 32 random characters.")
            if self.debug:
                raise ConfigError("Production refuses PORTAL_DEBUG.")
            if self.api_docs:
                raise ConfigError("Production refuses PORTAL_API_DOCS.")
            if self.push_loopback:
                raise ConfigError("Production refuses PORTAL_PUSH_LOOPBACK.")
            if len(set(self.secret_key)) < 16:
                raise ConfigError("PORTAL_SECRET_KEY looks made by hand (too few different characters): "
                                  "use random ones.")
            if len(set(document_key_bytes(self.document_key))) < 16:
                # 32 random bytes have about 30 different values; fewer than 16 happens by chance about never.
                raise ConfigError("PORTAL_DOCUMENT_KEY is not random (too few different bytes): make a new one.")
        if not re.match(r"^(mailto:\S+@\S+|https://\S+)$", self.push_contact):
            raise ConfigError("PORTAL_PUSH_CONTACT must be a mailto: or https:// address.")
        if problem := vapid_key_problem(self.vapid_private_key):
            raise ConfigError(f"PORTAL_VAPID_PRIVATE_KEY: {problem}.")
        if len(document_key_bytes(self.document_key)) != 32:
            # In production the key must come from outside the data folder: a key file beside the
            # database would travel with every copy of it, and each machine would make its own.
            raise ConfigError("PORTAL_DOCUMENT_KEY must be set to 32 random bytes, base64-encoded.")


_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def is_web_address(url: str, max_length: int = 500) -> bool:
    """An http(s) address of a named web site (a dot in its name, no spaces or user part)."""
    if len(url) > max_length or any(char.isspace() for char in url):
        return False
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").encode("idna").decode("ascii")
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except (ValueError, UnicodeError):
        return False
    return parts.scheme in ("http", "https") and not parts.username and bool(_HOST_NAME.match(host))


CONFIG_HELP: dict[str, str] = {f.metadata["env"]: f.metadata["help"] for f in fields(Config)}


def _parse(name: str, default: object, raw: str) -> object:
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}: expected true or false, got {raw!r}.")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}: expected a whole number, got {raw!r}.") from exc
    if isinstance(default, tuple):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if isinstance(default, Path):
        return Path(raw)
    return raw


def _replace(settings: Config, **changes: object) -> Config:
    values = {f.name: getattr(settings, f.name) for f in fields(settings)}
    values.update(changes)
    return Config(**values)


def private_folder(path: Path) -> None:
    """A folder only the portal's own user may open (0700), made if missing."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)


def _key_file(path: Path, make: Callable[[], str]) -> str:
    """A random key kept in the data folder (mode 600), so what it protects survives a restart."""
    if path.exists():
        return path.read_text().strip()
    private_folder(path.parent)
    # Written whole to a private temporary file, then linked into place: two workers starting at
    # once agree on one key, and neither can read a half-written file.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(make())
        with suppress(FileExistsError):  # another worker linked its key first: that one is read below
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path.read_text().strip()
