"""The portal's keys: the VAPID key that signs Web Push requests, and the document master key.

Both are made here and checked here, so the configuration (portal.config) and the code that uses them
(portal.push, portal.crypto) agree on one form.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def new_vapid_key() -> str:
    """A new VAPID private key: the raw 32 bytes of a P-256 key, base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def vapid_key_problem(value: str) -> str:
    """Why `value` is not a usable VAPID private key, or "" when it is."""
    try:
        raw = unb64url(value.strip())
        if len(raw) != 32:
            return "it must be 32 bytes, base64url"
        ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except (ValueError, TypeError):
        return "it is not a P-256 private key in base64url"
    return ""


@dataclass(frozen=True)
class Vapid:
    """The server's VAPID identity: signs each push so push services know it comes from this portal."""

    private_key: str
    contact: str

    @property
    def public_key(self) -> str:
        """The application server key a browser subscribes with (uncompressed point, base64url)."""
        key = ec.derive_private_key(int.from_bytes(unb64url(self.private_key), "big"), ec.SECP256R1())
        return b64url(key.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint))

    def signer(self) -> Vapid02:
        return Vapid02.from_raw(self.private_key.encode())


def new_document_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def document_key_bytes(value: str) -> bytes:
    """The master key's bytes, or b"" when the value is not base64 (standard or URL-safe alphabet)."""
    try:
        return base64.urlsafe_b64decode(value.strip().replace("+", "-").replace("/", "_").encode())
    except (ValueError, UnicodeError):
        return b""
