"""Recovery codes: 10 single-use codes, shown once, the way back into an account without e-mail. Only a
keyed hash of each code is stored; making new ones voids the old."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from litestar import Request
from litestar.response import Template
from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.i18n import _
from portal.models import RecoveryCode, utcnow
from portal.web import page


CODE_COUNT = 10


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to mix up


CODE_LENGTH = 10  # 50 bits each


def normalise_code(code: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", code.upper())[: CODE_LENGTH * 2]


def code_digest(secret: str, code: str) -> str:
    return hmac.new(secret.encode(), normalise_code(code).encode(), hashlib.sha256).hexdigest()


async def new_codes(db: AsyncSession, user_id: int, secret: str) -> list[str]:
    """10 fresh codes for `user_id` (shown once, as "ABCDE-FGHJK"); every earlier code stops working."""
    await db.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    codes = ["".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)) for _ in range(CODE_COUNT)]
    for code in codes:
        db.add(RecoveryCode(user_id=user_id, digest=code_digest(secret, code)))
    return [f"{code[:5]}-{code[5:]}" for code in codes]


async def use_code(db: AsyncSession, user_id: int, code: str, secret: str) -> bool:
    """Spend one code of `user_id`: True once per code (one conditional UPDATE, so two tries cannot both win)."""
    result = await db.exec(update(RecoveryCode).where(
        col(RecoveryCode.user_id) == user_id, col(RecoveryCode.digest) == code_digest(secret, code),
        col(RecoveryCode.used_at).is_(None)).values(used_at=utcnow()))
    return bool(result.rowcount)


async def codes_left(db: AsyncSession, user_id: int) -> int:
    query = select(func.count()).select_from(RecoveryCode).where(
        col(RecoveryCode.user_id) == user_id, col(RecoveryCode.used_at).is_(None))
    return int((await db.exec(query)).one())


def codes_page(request: Request[Any, Any, Any], codes: list[str], *, first: bool,
               cookies: list[Any] | None = None) -> Template:
    """The one time the codes are shown."""
    response = page(request, "accounts/recovery_codes.html", title=_("Recovery codes"), codes=codes, first=first)
    if cookies:
        response.cookies.extend(cookies)
    return response
