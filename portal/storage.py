"""Where encrypted document chunks are kept, behind one small interface.

`DatabaseStorage` (the default) keeps them in the `document_chunk` table, so several machines that
share only the database all see every document, and a document's chunks are written in the same
transaction as its row: a cut-off upload leaves nothing. Another store (an object store, say)
implements the same four methods; its `remove_orphans` clears what a failed commit left behind.
Storage only ever sees ciphertext.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Protocol

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.models import Document, DocumentChunk, JournalFile


class MissingChunk(Exception):
    """A chunk the document row promises is not in storage."""


class DocumentStorage(Protocol):
    async def write(self, db: AsyncSession, storage_key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the sealed chunks in order, inside `db`'s transaction where storage allows; return the count."""

    def read(self, storage_key: str, count: int) -> AsyncIterator[bytes]:
        """The sealed chunks in order, fetched one at a time (a download may outlive any request transaction)."""

    async def delete(self, db: AsyncSession, storage_key: str) -> None:
        """Remove every chunk of one document, inside `db`'s transaction where storage allows."""

    async def remove_orphans(self) -> int:
        """Remove chunks no document row (nor journal file row) refers to; return how many were removed."""


class DatabaseStorage:
    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory

    async def write(self, db: AsyncSession, storage_key: str, chunks: AsyncIterable[bytes]) -> int:
        count = 0
        async for data in chunks:
            # A core insert: ORM objects would keep every chunk in the session until commit.
            await db.exec(insert(DocumentChunk).values(storage_key=storage_key, position=count, data=data))
            count += 1
        return count

    async def read(self, storage_key: str, count: int) -> AsyncIterator[bytes]:
        for position in range(count):
            # A short session per chunk: a slow download must not hold a connection or a snapshot.
            async with self._factory() as db:
                data = (
                    await db.exec(
                        select(DocumentChunk.data).where(
                            col(DocumentChunk.storage_key) == storage_key, col(DocumentChunk.position) == position
                        )
                    )
                ).first()
            if data is None:
                raise MissingChunk(f"chunk {position} is missing")
            yield data

    async def delete(self, db: AsyncSession, storage_key: str) -> None:
        await db.exec(delete(DocumentChunk).where(col(DocumentChunk.storage_key) == storage_key))

    async def remove_orphans(self) -> int:
        async with self._factory() as db:
            result = await db.exec(
                delete(DocumentChunk).where(col(DocumentChunk.storage_key).not_in(select(Document.storage_key)),
                                            col(DocumentChunk.storage_key).not_in(select(JournalFile.storage_key)))
            )
            await db.commit()
        return int(result.rowcount or 0)
