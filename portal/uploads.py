"""Receiving one document upload as it streams in: multipart parsed piece by piece, the file's kind
judged from its first bytes, the size limit enforced as bytes arrive, and every chunk encrypted
before it touches the disk.

Sealed chunks wait in an anonymous temporary file (no name in any folder; the system reclaims it
if the process dies) until the form is complete and valid; only then are they written to storage,
with the document row, in one short transaction. The document's key lives only in memory until
then, so whatever an interrupted upload leaves behind cannot be read.
"""

from __future__ import annotations

import tempfile
import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from litestar import Request
from litestar.exceptions import InternalServerException
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from portal.crypto import CHUNK_SIZE, TAG_SIZE, MasterKey, seal_chunk
from portal.models import new_public_id
from portal.forms import whole_number

# Kinds judged by content. HEIC: an ISO box "ftyp" whose brand is one of HEIF's image brands.
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
SNIFF_BYTES = 12
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp",
              "image/heic": "heic"}
# Bytes kept of any text field of an upload form: at least 4 bytes for each character of its longest field (a
# journal entry's 8,000), so that a text cut here is still too long for its field's own check and is refused
# in words, never saved shorter than it was typed.
FIELD_LIMIT = 40 * 1024
FORM_OVERHEAD = 64 * 1024  # what the other fields and multipart headers may add to the file's size
# Bidirectional controls can make "cod.exe" look like "exe.doc"; they are dropped from file names.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def sniff(head: bytes) -> str | None:
    """The media type of an allowed kind of file, judged from its first bytes; None for anything else."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "image/heic"
    return None


def name_from_file(filename: str, limit: int) -> str:
    """A readable default name from what the phone called the file: no folders, no extension, no
    control or direction characters. It is only ever shown as text, never used as a path."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base.translate(BIDI_CONTROLS) if unicodedata.category(ch)[0] != "C")
    stem, dot, extension = base.rpartition(".")
    name = (stem if dot and stem and len(extension) <= 5 else base).strip(" .")
    return unicodedata.normalize("NFC", name)[:limit]


class Refused(Exception):
    """The upload is refused; `field` is where the message belongs, `status` the HTTP answer, and
    `fields` the text fields that had arrived, so the form can be shown again with them."""

    def __init__(self, field: str, status: int, reason: str) -> None:
        super().__init__(reason)
        self.field, self.status, self.reason = field, status, reason
        self.fields: dict[str, str] = {}


@dataclass
class SealedFile:
    """An encrypted file waiting for its form to be accepted."""

    storage_key: str
    key_id: str
    wrapped_key: bytes
    filename: str
    media_type: str = ""
    size: int = 0
    lengths: list[int] = field(default_factory=list)
    spool: IO[bytes] | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        if self.spool is None:
            raise RuntimeError("the sealed file was already discarded")
        self.spool.seek(0)
        for length in self.lengths:
            yield self.spool.read(length)

    def discard(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None


class _Sealer:
    """Seals a file chunk by chunk as it arrives. Keeps at most one chunk of plaintext in memory."""

    def __init__(self, master: MasterKey, filename: str, limit: int, spool_dir: Path) -> None:
        storage_key = new_public_id()
        self._key, wrapped = master.new_document_key(storage_key)
        self.file = SealedFile(storage_key=storage_key, key_id=master.key_id, wrapped_key=wrapped, filename=filename,
                               spool=tempfile.TemporaryFile(dir=spool_dir))  # noqa: SIM115 - closed by discard()
        self._limit = limit
        self._buffer = bytearray()

    def write(self, data: bytes) -> None:
        self.file.size += len(data)
        if self.file.size > self._limit:
            raise Refused("file", 413, "too_big")
        self._buffer += data
        if not self.file.media_type and len(self._buffer) >= SNIFF_BYTES:
            self._judge()
        # Strictly more than a chunk: the last chunk is never empty, so "last" is always known.
        while len(self._buffer) > CHUNK_SIZE:
            self._seal(bytes(self._buffer[:CHUNK_SIZE]), last=False)
            del self._buffer[:CHUNK_SIZE]

    def finish(self) -> SealedFile:
        if self.file.size == 0:
            raise Refused("file", 400, "empty")
        if not self.file.media_type:
            self._judge()
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()
        self._key = b""
        return self.file

    def _judge(self) -> None:
        media_type = sniff(bytes(self._buffer[:SNIFF_BYTES]))
        if media_type is None:
            raise Refused("file", 400, "kind")
        self.file.media_type = media_type

    def _seal(self, plaintext: bytes, last: bool) -> None:
        position = len(self.file.lengths)
        sealed = seal_chunk(self._key, self.file.storage_key, position, last, plaintext)
        if self.file.spool is None or len(sealed) != len(plaintext) + TAG_SIZE:
            raise RuntimeError("a sealed chunk has no spool to go to, or the wrong length")
        self.file.spool.write(sealed)
        self.file.lengths.append(len(sealed))


async def receive(request: Request[Any, Any, Any], master: MasterKey, limit: int, spool_dir: Path,
                  token_valid: Callable[[str], bool]) -> tuple[dict[str, str], SealedFile | None]:
    """Read a form with at most one file (field `file`), as `receive_files` does: the file sealed, or None when
    no file was chosen."""
    fields, files = await receive_files(request, master, limit, spool_dir, token_valid)
    return fields, files[0] if files else None


async def receive_files(request: Request[Any, Any, Any], master: MasterKey, limit: int, spool_dir: Path,
                        token_valid: Callable[[str], bool],
                        max_files: int = 1) -> tuple[dict[str, str], list[SealedFile]]:
    """Read the form as it streams in. Text fields come back as a dict; the files (up to `max_files`, each
    sent as the field `file` and each up to `limit` bytes) sealed, in order, an empty list when none was
    chosen. The CSRF token (header or the field `_csrf_token`, which the form sends first) must be valid
    before a single byte of a file is accepted.

    A file that is refused (too big, wrong kind) is dropped at once, but the rest of the form is
    still read, up to the size limit, so that what the person typed can be shown again."""
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get("boundary", "")
    header_token_ok = token_valid(request.headers.get("x-csrftoken", ""))
    if kind != "multipart/form-data" or not boundary:
        raise Refused("file", 400, "form") if header_token_ok else Refused("csrf", 403, "csrf")
    declared = whole_number(request.headers.get("content-length", ""), 15)
    budget, read = limit * max_files + FORM_OVERHEAD, 0
    if declared is not None and declared > budget:
        raise Refused("file", 413, "too_big")  # said before a byte is read; nothing typed could be kept
    form = _Form(master, limit, spool_dir, token_valid, header_token_ok, max_files)
    parser = PushMultipartParser(boundary, max_segment_count=10 + max_files)
    try:
        async for data in request.stream():
            read += len(data)
            for event in parser.parse(data):
                form.take(event)
            if parser.closed:
                break
            if read > budget:
                # Whatever the parts hold (a file, bytes under an empty file name, long text), the
                # body as a whole never passes the limit: refused, and no more is read.
                form.refuse(Refused("file", 413, "too_big"))
                break
        return form.result(complete=parser.closed)
    except MultipartError as exc:
        raise form.refused_with(Refused("file", 400, "form")) from exc
    except InternalServerException as exc:  # Litestar's word for a client that went away mid-upload
        raise form.refused_with(Refused("file", 400, "disconnected")) from exc
    except BaseException:
        form.discard()
        raise


class _Form:
    """Takes the parser's events in order: text fields into a dict, the file into a sealer. After a
    refusal of the file, file bytes are dropped and text fields still kept."""

    def __init__(self, master: MasterKey, limit: int, spool_dir: Path, token_valid: Callable[[str], bool],
                 token_ok: bool, max_files: int = 1) -> None:
        self._master, self._limit, self._spool_dir, self._max_files = master, limit, spool_dir, max_files
        self._token_valid, self._token_ok = token_valid, token_ok
        self.fields: dict[str, str] = {}
        self.refused: Refused | None = None
        self._segment: MultipartSegment | None = None
        self._text = bytearray()
        self._files = 0
        self._sealer: _Sealer | None = None
        self._sealed: list[SealedFile] = []

    def take(self, event: MultipartSegment | bytes | None) -> None:
        try:
            if isinstance(event, MultipartSegment):
                self._start(event)
            elif event:
                self._data(event)
            elif self._segment is not None:
                self._end(self._segment)
                self._segment = None
        except Refused as refused:
            if refused.status == 403:
                raise
            self.refuse(refused)

    def refuse(self, refused: Refused) -> None:
        """Keep the first reason; from now on no byte of any file is kept."""
        self.refused = self.refused or refused
        self.discard()
        self._sealer = None

    def _start(self, segment: MultipartSegment) -> None:
        self._segment, self._text = segment, bytearray()
        if segment.filename is None:
            return
        if not self._token_ok:
            raise Refused("csrf", 403, "csrf")
        self._files += 1
        if segment.name != "file" or self._files > self._max_files:
            raise Refused("file", 400, "too_many" if self._max_files > 1 and segment.name == "file" else "form")
        if segment.filename and self.refused is None:  # a file input left empty sends an empty file name
            self._sealer = _Sealer(self._master, segment.filename, self._limit, self._spool_dir)

    def _data(self, data: bytes) -> None:
        if self._segment is None:  # the parser only gives bytes inside a part
            raise RuntimeError("multipart data arrived outside a part")
        if self._segment.filename is None:
            # Longer text is cut here (memory stays bounded) and refused by the field's own check (FIELD_LIMIT).
            self._text += data[: max(0, FIELD_LIMIT - len(self._text))]
        elif self._sealer is not None:
            self._sealer.write(data)

    def _end(self, segment: MultipartSegment) -> None:
        if segment.filename is None:
            value = self._text.decode("utf-8", errors="replace")
            self.fields.setdefault(segment.name or "", value)
            if segment.name == "_csrf_token" and not self._token_ok:
                self._token_ok = self._token_valid(value)
        elif self._sealer is not None:
            self._sealed.append(self._sealer.finish())
            self._sealer = None

    def result(self, complete: bool) -> tuple[dict[str, str], list[SealedFile]]:
        if not self._token_ok:
            raise Refused("csrf", 403, "csrf")
        if self.refused is not None or not complete or self._sealer is not None:
            raise self.refused_with(Refused("file", 400, "form"))
        return self.fields, self._sealed

    def refused_with(self, fallback: Refused) -> Refused:
        """The refusal to answer with (the first one, else `fallback`), carrying the text fields."""
        self.discard()
        if not self._token_ok:
            return Refused("csrf", 403, "csrf")
        refused = self.refused or fallback
        refused.fields = {name: value for name, value in self.fields.items() if name != "_csrf_token"}
        return refused

    def discard(self) -> None:
        if self._sealer is not None:
            self._sealer.file.discard()
        for sealed in self._sealed:
            sealed.discard()
