"""A small software authenticator (WebAuthn level 2, "none" attestation, ES256) for fast tests: it builds
what a browser would send after `navigator.credentials.create()` and `.get()`, so registration and sign-in
can be tested over HTTP. The browser tests use Chromium's own virtual authenticator instead."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes as unb64url, bytes_to_base64url as b64url

UP, UV, AT = 0x01, 0x04, 0x40


@dataclass
class Authenticator:
    origin: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    sign_count: int = 0
    user_handle: bytes = b""
    verified: bool = True

    def _client_data(self, kind: str, challenge: str, origin: str | None = None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}).encode()

    def _flags(self, extra: int = 0) -> int:
        return UP | (UV if self.verified else 0) | extra

    def create(self, options: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        """The answer to `navigator.credentials.create({publicKey: options})`."""
        self.user_handle = unb64url(options["user"]["id"])
        rp_hash = hashlib.sha256(options["rp"]["id"].encode()).digest()
        numbers = self.key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        attested = bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + cose
        auth_data = rp_hash + bytes([self._flags(AT)]) + struct.pack(">I", self.sign_count) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": b64url(self._client_data("webauthn.create", options["challenge"], origin)),
                         "attestationObject": b64url(attestation), "transports": ["internal"]},
            "clientExtensionResults": {}, "authenticatorAttachment": "platform",
        }

    def get(self, options: dict[str, Any], *, origin: str | None = None, count: int | None = None,
            user_handle: bytes | None = None) -> dict[str, Any]:
        """The answer to `navigator.credentials.get({publicKey: options})`; the counter moves on by 1 unless
        `count` says otherwise."""
        self.sign_count = self.sign_count + 1 if count is None else count
        rp_hash = hashlib.sha256(options["rpId"].encode()).digest()
        auth_data = rp_hash + bytes([self._flags()]) + struct.pack(">I", self.sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                         "signature": b64url(signature),
                         "userHandle": b64url(self.user_handle if user_handle is None else user_handle)},
            "clientExtensionResults": {}, "authenticatorAttachment": "platform",
        }
