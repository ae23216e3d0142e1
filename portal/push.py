"""Web Push to a person's phones: which push services the portal talks to, the devices a person added,
and sending one encrypted notification.

Nothing a person wrote ever leaves in a notification. The payload holds the neutral words the person
chose ("You have a new update" unless they chose others) and a plain address to open (`/messages`, never
an item's id). What is sent when is portal.reminder_times; the durable queue and its worker are
portal.outbox.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url
from cryptography.hazmat.primitives.asymmetric import ec
from pywebpush import WebPushException, webpush
from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import i18n
from portal.i18n import _
from portal.keys import Vapid, unb64url
from portal.models import (
    PushSubscription,
)
from portal.config import Config

log = logging.getLogger("portal.push")

SEND_TIMEOUT = 10  # seconds; a push service that hangs longer is tried again later
CONNECT_TIMEOUT = 3.05  # seconds to reach the push service at all
TOPIC = "update"  # the same neutral Topic for every kind: the push service learns nothing of what it is about
TTL = 24 * 3600


def default_text(language: str | None = None) -> str:
    """The neutral words of a notification, in `language` (default: this request's)."""
    if language:
        return i18n.translations(language).gettext("You have a new update")
    return _("You have a new update")


# ----- subscriptions --------------------------------------------------------------------------------


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


_HOST_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$")
_LOOPBACK = re.compile(r"^(127\.0\.0\.1|localhost):[0-9]{1,5}$")


@dataclass(frozen=True)
class PushHosts:
    """Where reminders may be sent: `https://` + a listed push service (the name, or a name under it) on
    its default port, and nothing else in the address's authority: no user info, no port (not even an
    empty one), no backslash, no percent-encoding, no IP address. The address is read by the parser that
    `requests` sends with too, and both readings must agree, so the host checked is the host connected to.
    `loopback` (development and tests only) also lets `http(s)://127.0.0.1:PORT` and `localhost:PORT` through."""

    names: tuple[str, ...]
    loopback: bool = False

    @classmethod
    def of(cls, settings: Config) -> PushHosts:
        return cls(tuple(name.lower() for name in settings.push_hosts),
                   settings.push_loopback and not settings.production)

    def refuse(self, endpoint: str) -> bool:
        """True when reminders must never be sent to `endpoint`."""
        if not endpoint or len(endpoint) > 1000 or not endpoint.isascii() or "\\" in endpoint:
            return True
        if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in endpoint):
            return True
        try:
            ours, theirs = urlsplit(endpoint), parse_url(endpoint)
        except (ValueError, LocationParseError):
            return True
        if self.loopback and ours.scheme in ("http", "https") and _LOOPBACK.match(ours.netloc):
            return theirs.scheme != ours.scheme or f"{theirs.host}:{theirs.port}" != ours.netloc
        host = ours.netloc.lower()
        if not endpoint.startswith("https://") or not _HOST_NAME.match(host) or _is_address(host):
            return True
        if not any(host == name or host.endswith("." + name) for name in self.names):
            return True
        return (theirs.scheme != "https" or (theirs.host or "").lower() != host or theirs.port is not None
                or theirs.auth is not None)


def _is_address(host: str) -> bool:
    """An IP address written as a name ("127.0.0.1", or all-digit labels a resolver may read as one)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.rsplit(".", 1)[-1].isdigit()
    return True


def subscription_problem(endpoint: str, p256dh: str, auth: str, hosts: PushHosts) -> str:
    """Why a subscription a browser sent cannot be used, or "" when it can. The endpoint must be a listed
    push service over https (so the server never posts to an address of the sender's choosing)."""
    if hosts.refuse(endpoint):
        return "endpoint"
    try:
        point = unb64url(p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        if len(point) != 65:
            return "p256dh"
    except (ValueError, TypeError):
        return "p256dh"
    try:
        if len(unb64url(auth)) != 16:
            return "auth"
    except (ValueError, TypeError):
        return "auth"
    return ""


async def subscribe(db: AsyncSession, user_id: int, endpoint: str, p256dh: str, auth: str, device: str) -> None:
    """Keep this browser's subscription for `user_id`; the same browser again replaces its old row (even
    one another account on this phone had)."""
    key = endpoint_hash(endpoint)
    await db.exec(delete(PushSubscription).where(col(PushSubscription.endpoint_hash) == key))
    db.add(PushSubscription(user_id=user_id, endpoint=endpoint, endpoint_hash=key, p256dh=p256dh, auth=auth,
                            device=device[:40]))


async def devices(db: AsyncSession, user_id: int) -> list[PushSubscription]:
    return list((await db.exec(
        select(PushSubscription).where(col(PushSubscription.user_id) == user_id)
        .order_by(col(PushSubscription.created_at))
    )).all())


async def remove_device(db: AsyncSession, user_id: int, device_id: str) -> bool:
    result = await db.exec(delete(PushSubscription).where(
        col(PushSubscription.id) == device_id, col(PushSubscription.user_id) == user_id))
    return bool(result.rowcount)


# ----- sending --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the push service said about one notification."""

    sent: bool = False
    gone: bool = False  # 404/410: the device unsubscribed; remove it
    retry_after: float | None = None  # 429/5xx/network: try again (seconds, when the service said)
    status: int = 0  # the push service's answer; 0: no answer (network), -1: failed before anything was sent


def payload(text: str, kind: str, language: str = "") -> bytes:
    """What is encrypted to the phone: the person's chosen words (or the neutral default) and a section to
    open. Never a name, a title, a message, a date or an id. The default words are in the person's language."""
    body = {"text": text or default_text(language or i18n.DEFAULT_LOCALE), "open": OPEN.get(kind, "/")}
    return json.dumps(body, separators=(",", ":")).encode()


class _NoRedirects(requests.Session):
    """A session that never follows a redirect: a 3xx from a push service is its answer, and a 307 cannot
    make the sender post again to a host, port or path of someone else's choosing."""

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


def send(subscription: PushSubscription, data: bytes, vapid: Vapid, hosts: PushHosts,
         timeout: float = SEND_TIMEOUT) -> Outcome:
    """Encrypt (RFC 8291, aes128gcm) and post one notification, once; never raises. The address is checked
    again first (a row stored before a rule was tightened must not get through)."""
    if hosts.refuse(subscription.endpoint):
        return Outcome(gone=True)  # it can never be sent to: the device is removed like one the service forgot
    info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
    try:
        with _NoRedirects() as session:
            webpush(info, data=data.decode(), vapid_private_key=vapid.signer(), vapid_claims={"sub": vapid.contact},
                    ttl=TTL, timeout=(CONNECT_TIMEOUT, timeout), headers={"Topic": TOPIC, "Urgency": "normal"},
                    requests_session=session)
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status in (404, 410):
            return Outcome(gone=True, status=status)
        if status == 429 or status >= 500 or status == 0:
            retry = exc.response.headers.get("retry-after", "") if exc.response is not None else ""
            return Outcome(retry_after=float(retry) if retry.isdigit() else None, status=status)
        return Outcome(status=status)
    except requests.RequestException:
        return Outcome(retry_after=None, status=0)
    except Exception as exc:  # one broken row (a key or address a library chokes on) must not stop the round
        log.warning("push: subscription %s could not be sent to: %s", subscription.id, type(exc).__name__)
        return Outcome(status=-1)
    return Outcome(sent=True, status=201)


# Where tapping a notification leads: a section, never an item (the address may show in the browser).
OPEN = {"appointments": "/appointments", "checkins": "/check-ins/new", "life_areas": "/life-areas/new",
        "documents": "/documents",
        "messages": "/messages", "requests": "/sharing#requests"}
