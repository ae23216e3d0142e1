"""Passkeys (WebAuthn, py_webauthn): add one in Settings, sign in with one (no username needed), rename or
remove them.

User verification is required at every step (py_webauthn's default is only "preferred"). Challenges are
random, kept as a hash for 5 minutes, and spent by one conditional DELETE, so a replayed response finds
nothing to match. The relying party is the host the person is on (the allowed-hosts check has vetted it),
and the origin must match it exactly. A signature counter that does not move forward is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from datetime import timedelta
from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from webauthn import (
    base64url_to_bytes, generate_authentication_options, generate_registration_options, options_to_json,
    verify_authentication_response, verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse, WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria, PublicKeyCredentialDescriptor, ResidentKeyRequirement, UserVerificationRequirement,
)

from portal.sign_in import device_cookie, session_cookie

from portal.web import client_address
from portal.disguise import brand_of
from portal.i18n import _
from portal.models import Passkey, PasskeyChallenge, User, utcnow
from portal.forms import form_value, text_problem
from portal.viewer import current_viewer, home_for, signed_in
from portal.web import services_of

log = logging.getLogger("portal")

CHALLENGE_LIFETIME = timedelta(minutes=5)
NAME_MAX = 60
MAX_PASSKEYS = 10


def relying_party(request: Request[Any, Any, Any]) -> tuple[str, str]:
    """(rp id, origin) for this request: the host the person is on."""
    scheme = "https" if services_of(request).config.production else request.url.scheme
    host = request.url.hostname or "localhost"
    port = request.url.port
    default = (scheme == "https" and port in (None, 443)) or (scheme == "http" and port in (None, 80))
    return host, f"{scheme}://{host}" if default else f"{scheme}://{host}:{port}"


def user_handle(secret: str, user_id: int) -> bytes:
    """The opaque id a passkey keeps for its account: says nothing about the person, and is not the row id."""
    return hmac.new(secret.encode(), f"passkey-user:{user_id}".encode(), hashlib.sha256).digest()[:16]


async def _new_challenge(db: AsyncSession, purpose: str, user_id: int | None) -> bytes:
    challenge = secrets.token_bytes(32)
    now = utcnow()
    await db.exec(delete(PasskeyChallenge).where(col(PasskeyChallenge.expires_at) < now))
    db.add(PasskeyChallenge(id=hashlib.sha256(challenge).hexdigest(), purpose=purpose, user_id=user_id,
                            expires_at=now + CHALLENGE_LIFETIME))
    return challenge


async def _spend_challenge(db: AsyncSession, credential: dict[str, Any], purpose: str,
                           user_id: int | None) -> bytes | None:
    """The challenge this response signed, if it was ours, for this purpose and person, unexpired and unused;
    it is used up now either way."""
    try:
        client_data = json.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
        challenge = base64url_to_bytes(client_data["challenge"])
    except (KeyError, TypeError, ValueError):
        return None
    query = delete(PasskeyChallenge).where(
        col(PasskeyChallenge.id) == hashlib.sha256(challenge).hexdigest(), col(PasskeyChallenge.purpose) == purpose,
        col(PasskeyChallenge.expires_at) > utcnow(),
        col(PasskeyChallenge.user_id).is_(None) if user_id is None else col(PasskeyChallenge.user_id) == user_id,
    )
    result = await db.exec(query)
    return challenge if result.rowcount == 1 else None


async def _json_body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _refused(message: str, status: int = 400, **more: str) -> Response[Any]:
    return Response({"error": message, **more}, status_code=status, headers={"Cache-Control": "no-store"})


# Where "Confirm it's you" is (portal.account), and where it leads back to: a fixed list, so nothing typed in
# an address is followed.
CONFIRM_URL = "/settings/confirm?next=passkey"
CONFIRM_NEXT = {"passkey": "/settings/security?done=confirmed#passkeys",
                "device": "/settings/reminders?done=confirmed-device"}


async def _not_confirmed(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """A refusal (403, with where to confirm) unless this browser confirmed it is the person in the last 5
    minutes: someone holding the phone must not add a way in with the session alone."""
    if await services_of(request).sessions.confirmed(current_viewer(request).session_id):
        return None
    return _refused(_("Confirm it's you first. So that only you can add a new way in."), 403, confirm=CONFIRM_URL)


# ----- signing in ----------------------------------------------------------------------------------


@post("/passkeys/sign-in/options", name="passkey_sign_in_options")
async def sign_in_options(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """A challenge for "Sign in with a passkey". Anyone may ask, so each ask counts per address (every one
    stores a row for 5 minutes, and expired ones are removed as new ones are made)."""
    throttle = services_of(request).throttle
    subjects = {"passkey_options_address": client_address(request)}
    if await throttle.seconds_to_wait(**subjects):
        return _refused(_("Too many tries. Please wait a minute, then try again."), 429)
    await throttle.failed(**subjects)
    rp_id, _origin = relying_party(request)
    challenge = await _new_challenge(db, "sign-in", None)
    options = generate_authentication_options(rp_id=rp_id, challenge=challenge,
                                              user_verification=UserVerificationRequirement.REQUIRED)
    return Response(json.loads(options_to_json(options)), status_code=200, headers={"Cache-Control": "no-store"})


async def _answered(request: Request[Any, Any, Any], db: AsyncSession, credential: dict[str, Any], purpose: str,
                    user_id: int | None) -> tuple[Passkey, User] | None:
    """The passkey that answered one of our challenges for `purpose` (and, given `user_id`, that person's own),
    with its active owner; None when anything about the answer is wrong. The challenge is spent either way, and
    a good answer moves the passkey's sign count on. The caller commits."""
    challenge = await _spend_challenge(db, credential, purpose, user_id)
    mine = [col(Passkey.user_id) == user_id] if user_id is not None else []
    passkey = (await db.exec(select(Passkey).where(
        col(Passkey.credential_id) == str(credential.get("rawId", ""))[:1400], *mine))).first()
    user = await db.get(User, passkey.user_id) if passkey else None
    rp_id, origin = relying_party(request)
    try:
        if challenge is None or passkey is None or user is None or not user.active:
            raise InvalidAuthenticationResponse("unknown challenge or passkey")
        handle = credential.get("response", {}).get("userHandle")
        if handle and base64url_to_bytes(handle) != user_handle(services_of(request).config.secret_key, user.id or 0):
            raise InvalidAuthenticationResponse("passkey of another account")
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin,
            credential_public_key=passkey.public_key, credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError, AttributeError) as exc:  # any malformed part, too
        log.info("passkey answer refused (%s): %s", purpose, type(exc).__name__)
        return None
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    db.add(passkey)
    return passkey, user


@post("/passkeys/sign-in", name="passkey_sign_in")
async def sign_in(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """Check a passkey's answer; sign its owner in on this browser."""
    services = services_of(request)
    subjects = {"address": client_address(request)}
    if await services.throttle.seconds_to_wait(**subjects):
        return _refused(_("Too many tries. Please wait a minute, then try again."), 429)
    answered = await _answered(request, db, await _json_body(request), "sign-in", None)
    await db.commit()  # the challenge stays spent, whatever the answer
    if answered is None:
        await services.throttle.failed(**subjects)
        return _refused(_("That passkey did not work here. Try again, or sign in with your username and password."))
    _passkey, user = answered
    # Signed in here: this browser gets the account's device cookie too, as after a password (portal/limits.py).
    cookies = [await session_cookie(request, user), device_cookie(request, user.username)]
    return Response({"redirect": home_for(user.role)}, status_code=200, cookies=cookies,
                    headers={"Cache-Control": "no-store"})


# ----- in Settings ---------------------------------------------------------------------------------


async def passkeys_of(db: AsyncSession, user_id: int) -> list[Passkey]:
    return list((await db.exec(
        select(Passkey).where(col(Passkey.user_id) == user_id).order_by(col(Passkey.created_at))
    )).all())


@post("/settings/passkeys/options", guards=[signed_in], name="passkey_options")
async def add_options(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    if refused := await _not_confirmed(request):
        return refused
    viewer = current_viewer(request)
    rp_id, _origin = relying_party(request)
    existing = await passkeys_of(db, viewer.user_id)
    challenge = await _new_challenge(db, "register", viewer.user_id)
    options = generate_registration_options(
        # The name a phone's passkey list shows for this site: the one the person chose ("Notes").
        rp_id=rp_id, rp_name=brand_of(request).title, user_name=viewer.username, user_display_name=viewer.username,
        user_id=user_handle(services_of(request).config.secret_key, viewer.user_id), challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(resident_key=ResidentKeyRequirement.REQUIRED,
                                                               user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(key.credential_id))
                             for key in existing],
    )
    return Response(json.loads(options_to_json(options)), status_code=200, headers={"Cache-Control": "no-store"})


@post("/settings/passkeys", guards=[signed_in], name="add_passkey")
async def add(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    if refused := await _not_confirmed(request):
        return refused
    viewer = current_viewer(request)
    body = await _json_body(request)
    given = body.get("credential")
    credential: dict[str, Any] = given if isinstance(given, dict) else {}
    name = str(body.get("name") or "").strip()[: NAME_MAX * 4] or _("My passkey")
    if problem := text_problem(name, NAME_MAX):
        return _refused(problem)
    if len(await passkeys_of(db, viewer.user_id)) >= MAX_PASSKEYS:
        return _refused(_("You have 10 passkeys. Remove one before adding another."))
    challenge = await _spend_challenge(db, credential, "register", viewer.user_id)
    rp_id, origin = relying_party(request)
    try:
        if challenge is None:
            raise InvalidRegistrationResponse("unknown challenge")
        verified = verify_registration_response(credential=credential, expected_challenge=challenge,
                                                expected_rp_id=rp_id,
                                                expected_origin=origin, require_user_verification=True)
    except (WebAuthnException, KeyError, TypeError, ValueError) as exc:  # any malformed part, too
        log.info("passkey registration refused for user %s: %s", viewer.user_id, type(exc).__name__)
        await db.commit()
        return _refused(_("The passkey was not added. Try again."))
    credential_id = bytes_to_base64url(verified.credential_id)
    if (await db.exec(select(Passkey.id).where(col(Passkey.credential_id) == credential_id))).first():
        return _refused(_("This passkey is added already."))
    db.add(Passkey(user_id=viewer.user_id, credential_id=credential_id, public_key=verified.credential_public_key,
                   sign_count=verified.sign_count, name=name))
    return Response({"redirect": "/settings/security?done=passkey-added#passkeys"}, status_code=200)


# ----- "Confirm it's you" with a passkey the person has already -----------------------------------------


@post("/settings/confirm/passkey/options", guards=[signed_in], name="confirm_passkey_options")
async def confirm_options(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    viewer = current_viewer(request)
    rp_id, _origin = relying_party(request)
    existing = await passkeys_of(db, viewer.user_id)
    challenge = await _new_challenge(db, "confirm", viewer.user_id)
    options = generate_authentication_options(
        rp_id=rp_id, challenge=challenge, user_verification=UserVerificationRequirement.REQUIRED,
        allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(key.credential_id)) for key in existing],
    )
    return Response(json.loads(options_to_json(options)), status_code=200, headers={"Cache-Control": "no-store"})


@post("/settings/confirm/passkey", guards=[signed_in], name="confirm_passkey")
async def confirm_with_passkey(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """One of the person's own passkeys, answered now: like the password again, for 5 minutes. Failures count
    against this session, as a password typed again in Settings does (never against an address others share)."""
    services = services_of(request)
    viewer = current_viewer(request)
    subjects = {"session_password": viewer.session_id[:64]}
    if await services.throttle.seconds_to_wait(**subjects):
        return _refused(_("Too many tries. Please wait a minute, then try again."), 429)
    body = await _json_body(request)
    given = body.get("credential")
    credential: dict[str, Any] = given if isinstance(given, dict) else {}
    kind = body.get("next") if isinstance(body.get("next"), str) and body.get("next") in CONFIRM_NEXT else "passkey"
    answered = await _answered(request, db, credential, "confirm", viewer.user_id)
    await db.commit()  # the challenge stays spent, whatever the answer
    if answered is None:
        await services.throttle.failed(**subjects)
        return _refused(_("That passkey did not work here. Try again, or type your password."))
    await services.sessions.confirm(viewer.session_id)
    return Response({"redirect": CONFIRM_NEXT[str(kind)]}, status_code=200, headers={"Cache-Control": "no-store"})


async def _own(db: AsyncSession, user_id: int, passkey_id: str) -> Passkey:
    passkey = await db.get(Passkey, passkey_id[:32])
    if passkey is None or passkey.user_id != user_id:
        raise NotFoundException()
    return passkey


@post("/settings/passkeys/{passkey_id:str}/rename", guards=[signed_in], name="rename_passkey")
async def rename(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 passkey_id: FromPath[str]) -> Response[Any]:
    passkey = await _own(db, current_viewer(request).user_id, passkey_id)
    name = form_value(await request.form(), "name", NAME_MAX * 4).strip()
    if text_problem(name, NAME_MAX, "missing"):
        return Redirect("/settings/security?done=passkey-name#passkeys", status_code=303)
    passkey.name = name
    db.add(passkey)
    return Redirect("/settings/security?done=passkey-renamed#passkeys", status_code=303)


@post("/settings/passkeys/{passkey_id:str}/remove", guards=[signed_in], name="remove_passkey")
async def remove(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 passkey_id: FromPath[str]) -> Response[Any]:
    passkey = await _own(db, current_viewer(request).user_id, passkey_id)
    await db.delete(passkey)
    return Redirect("/settings/security?done=passkey-removed#passkeys", status_code=303)


routes = [sign_in_options, sign_in, add_options, add, confirm_options, confirm_with_passkey, rename, remove]
