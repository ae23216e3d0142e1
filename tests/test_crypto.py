"""The sealing of documents: what is stored cannot be read, altered, reordered or cut short unnoticed."""

from __future__ import annotations

import pytest

from portal.crypto import ChunkError, DocumentKeyError, MasterKey, open_chunk, seal_chunk
from portal.config import new_document_key


def sealed_document(master: MasterKey) -> tuple[bytes, bytes, list[bytes]]:
    key, wrapped = master.new_document_key("store-a")
    chunks = [seal_chunk(key, "store-a", n, n == 2, f"part {n}".encode()) for n in range(3)]
    return key, wrapped, chunks


def test_a_document_opens_with_its_wrapped_key_and_master_key():
    master = MasterKey(new_document_key())
    key, wrapped, chunks = sealed_document(master)
    assert key not in wrapped
    opened = master.open_document_key(wrapped, "store-a", master.key_id)
    assert [open_chunk(opened, "store-a", n, n == 2, c) for n, c in enumerate(chunks)] == [b"part 0", b"part 1", b"part 2"]


def test_every_document_gets_its_own_key():
    master = MasterKey(new_document_key())
    first, _ = master.new_document_key("a")
    second, _ = master.new_document_key("b")
    assert first != second and len(first) == 32


@pytest.mark.parametrize(
    ("position", "last", "storage_key", "change"),
    [
        (0, False, "store-a", lambda c: c[1]),  # chunks swapped
        (1, True, "store-a", lambda c: c[1]),  # cut short after chunk 1: it was not the last
        (0, False, "store-b", lambda c: c[0]),  # moved to another document
        (0, False, "store-a", lambda c: bytes([c[0][0] ^ 1]) + c[0][1:]),  # one bit flipped
    ],
)
def test_altered_reordered_moved_or_truncated_chunks_do_not_open(position, last, storage_key, change):
    master = MasterKey(new_document_key())
    key, _wrapped, chunks = sealed_document(master)
    with pytest.raises(ChunkError):
        open_chunk(key, storage_key, position, last, change(chunks))


def test_another_master_key_or_another_document_cannot_unwrap_the_key():
    master = MasterKey(new_document_key())
    _key, wrapped, _chunks = sealed_document(master)
    other = MasterKey(new_document_key())
    assert other.key_id != master.key_id
    with pytest.raises(DocumentKeyError):
        other.open_document_key(wrapped, "store-a", master.key_id)  # the fingerprint claims the right key
    with pytest.raises(DocumentKeyError):
        other.open_document_key(wrapped, "store-a", other.key_id)
    with pytest.raises(DocumentKeyError):
        master.open_document_key(wrapped, "store-b", master.key_id)
