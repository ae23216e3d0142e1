"""A push service on loopback, standing in for Google's or Mozilla's: it plays each browser (its own P-256
key pair and auth secret per subscription), decrypts every push it receives (RFC 8291, aes128gcm, with
`http_ece`), and checks the VAPID signature (RFC 8292) against the portal's public key. It can be told to
answer a path with an error, or to hang, so the sender's retries can be seen."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from webauthn.helpers import base64url_to_bytes as unb64url, bytes_to_base64url as b64url


@dataclass
class Delivery:
    """One push as the phone would see it, once decrypted."""

    path: str
    payload: dict[str, Any]
    headers: dict[str, str]
    claims: dict[str, Any]


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # several workers send at once; the default backlog of 5 would refuse some
    daemon_threads = True


@dataclass
class PushService:
    server_public_key: str  # the portal's VAPID application server key (base64url)
    contact: str
    deliveries: list[Delivery] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # path -> statuses to answer, one per request, before answering 201; "hang" waits 3 s first;
    # "redirect:/path" answers 307 to that path of this service.
    scripted: dict[str, list[int | str]] = field(default_factory=dict)
    posts: Counter[str] = field(default_factory=Counter)  # every POST received, answered or not
    _keys: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> PushService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = service._receive(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                location = ""
                if isinstance(status, str):
                    status, location = 307, service.origin + status.removeprefix("redirect:")
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                if status == 429:
                    self.send_header("Retry-After", "120")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                """Say nothing: a thousand pushes would bury the test output."""

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def subscription(self, name: str) -> dict[str, str]:
        """A new browser subscription at /push/<name>: what `PushSubscription.toJSON()` gives a page."""
        key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        path = f"/push/{name}"
        self._keys[path] = (key, auth)
        public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.origin + path, "p256dh": b64url(public), "auth": b64url(auth)}

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(delivery.path for delivery in self.deliveries)

    def _receive(self, path: str, headers: dict[str, str], body: bytes) -> int | str:
        with self._lock:
            self.posts[path] += 1
            script = self.scripted.get(path)
            step = script.pop(0) if script else None
        if step == "hang":
            time.sleep(3)
            return 201
        if isinstance(step, int) or (isinstance(step, str) and step.startswith("redirect:")):
            return step
        if path not in self._keys:
            self.problems.append(f"push to unknown path {path}")
            return 404
        key, auth = self._keys[path]
        try:
            plaintext = http_ece.decrypt(body, private_key=key, auth_secret=auth, version="aes128gcm")
            claims = self._verify_vapid(headers.get("authorization", ""))
        except Exception as exc:  # noqa: BLE001 - any failure to read the push is a test failure
            self.problems.append(f"{path}: {type(exc).__name__}: {exc}")
            return 400
        if headers.get("content-encoding") != "aes128gcm":
            self.problems.append(f"{path}: content-encoding {headers.get('content-encoding')}")
        with self._lock:
            self.deliveries.append(Delivery(path, json.loads(plaintext), headers, claims))
        return 201

    def _verify_vapid(self, header: str) -> dict[str, Any]:
        """`vapid t=<JWT>, k=<key>`: the key must be the portal's, the ES256 signature valid, the audience
        this service's origin, the subject the portal's contact, and it must not have expired."""
        assert header.startswith("vapid "), header
        parts = dict(part.strip().split("=", 1) for part in header[6:].split(","))
        assert parts["k"] == self.server_public_key, "signed with another key"
        head, payload, signature = parts["t"].split(".")
        assert json.loads(unb64url(head)) == {"typ": "JWT", "alg": "ES256"}
        raw = unb64url(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
        try:
            public.verify(der, f"{head}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise AssertionError("VAPID signature does not verify") from exc
        claims = json.loads(unb64url(payload))
        assert claims["aud"] == self.origin, claims
        assert claims["sub"] == self.contact, claims
        assert claims["exp"] > time.time(), claims
        return claims
