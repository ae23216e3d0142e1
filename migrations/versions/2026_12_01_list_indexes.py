"""list indexes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 21:00:00

The goal list asks for active and paused goals, newest first: the (owner, status, created) index cannot
give two statuses in date order, so 10,000 goals were sorted for each page of 20 (10 ms). An index on
(owner, created) gives them in order. My people lists a caseworker's people newest first: with the index
on the staff id alone, a caseworker with 10,000 people had them all sorted for each page. The share check
asks for one survivor's connection to one staff member: the survivor index now holds the staff id too, so
the check is never drawn to a staff index (seen: 22 ms a page for a caseworker with 10,000 people).
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.create_index('ix_goal_owner_created', ['owner_id', 'created_at'], unique=False)
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.create_index('ix_connection_staff_created', ['staff_id', 'created_at'], unique=False)
        batch_op.drop_index('ix_connection_survivor_id')
        batch_op.create_index('ix_connection_survivor_staff', ['survivor_id', 'staff_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.drop_index('ix_connection_survivor_staff')
        batch_op.create_index('ix_connection_survivor_id', ['survivor_id'], unique=False)
        batch_op.drop_index('ix_connection_staff_created')
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_index('ix_goal_owner_created')
