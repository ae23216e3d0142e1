"""share notes

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 21:30:00

A part's free-text notes (a goal's "why it matters", an appointment's notes, a check-in's note) stay
with the survivor even when the part or item is shared, unless that share card says Include my notes.
Cards made before this say no: notes shown until now are held back from now on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('share_grant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('include_notes', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('share_grant', schema=None) as batch_op:
        batch_op.drop_column('include_notes')
