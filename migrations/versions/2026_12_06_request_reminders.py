"""request reminders

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 09:00:00

A reminder kind for a request to see something of the survivor's: off until they turn it on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('push_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requests', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('push_settings', schema=None) as batch_op:
        batch_op.drop_column('requests')
