"""Documents encrypted at rest: AES-256-GCM with a key per document, wrapped by a master key.

A document's plaintext is cut into chunks of `CHUNK_SIZE` bytes; each chunk is sealed on its own,
so memory stays bounded whatever the file's size. Chunk `n` uses nonce `n` (a key seals one
document only, so a nonce is never reused) and carries, as associated data, the storage key, its
position and whether it is the last: chunks cannot be swapped, reordered, moved to another
document, or cut off at the end without the download failing.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal.keys import document_key_bytes

CHUNK_SIZE = 256 * 1024
TAG_SIZE = 16
NONCE_SIZE = 12


class DocumentKeyError(Exception):
    """A document's key cannot be opened: it was wrapped by another master key, or altered."""


class ChunkError(Exception):
    """A stored chunk does not open: altered, missing, reordered or cut short."""


class MasterKey:
    """The organisation's master key (from settings). It only ever encrypts document keys."""

    def __init__(self, encoded: str) -> None:
        key = document_key_bytes(encoded)
        if len(key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._aead = AESGCM(key)
        # A fingerprint, safe to store: tells which master key wrapped a document key.
        self.key_id = hmac.new(key, b"waypoint document key id", hashlib.sha256).hexdigest()[:16]

    def new_document_key(self, storage_key: str) -> tuple[bytes, bytes]:
        """A fresh key for one document, and the same key wrapped for storing beside it."""
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_SIZE)
        wrapped = nonce + self._aead.encrypt(nonce, key, _wrap_context(storage_key))
        return key, wrapped

    def open_document_key(self, wrapped: bytes, storage_key: str, key_id: str) -> bytes:
        if not hmac.compare_digest(key_id, self.key_id):
            raise DocumentKeyError("the document was stored under another master key")
        try:
            return self._aead.decrypt(wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], _wrap_context(storage_key))
        except InvalidTag as exc:
            raise DocumentKeyError("the document key does not open") from exc


def _wrap_context(storage_key: str) -> bytes:
    return b"waypoint document key\x00" + storage_key.encode()


def _chunk_context(storage_key: str, position: int, last: bool) -> bytes:
    return b"waypoint chunk\x00%s\x00%d\x00%d" % (storage_key.encode(), position, int(last))


def seal_chunk(document_key: bytes, storage_key: str, position: int, last: bool, plaintext: bytes) -> bytes:
    nonce = position.to_bytes(NONCE_SIZE, "big")
    return AESGCM(document_key).encrypt(nonce, plaintext, _chunk_context(storage_key, position, last))


def open_chunk(document_key: bytes, storage_key: str, position: int, last: bool, sealed: bytes) -> bytes:
    nonce = position.to_bytes(NONCE_SIZE, "big")
    try:
        return AESGCM(document_key).decrypt(nonce, sealed, _chunk_context(storage_key, position, last))
    except InvalidTag as exc:
        raise ChunkError(f"chunk {position} does not open") from exc
