"""organisation

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 11:00:00

The organisation this deployment serves, and the country it is in: it sets the help lines a survivor sees
before an admin adds the organisation's own, and where Exit now leads for anyone who chose no place of their
own. A deployment already in use showed the United States' lines
until now: it keeps them (country US, which its admin can change); a new one starts with none chosen.
"""

from datetime import UTC, datetime

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (autogenerate renders sqlmodel column types)
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'organisation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column('exit_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    )
    if op.get_bind().execute(sa.text("SELECT count(*) FROM app_user")).scalar():
        organisation = sa.table('organisation', sa.column('country', sa.String()), sa.column('exit_url', sa.String()),
                                sa.column('created_at', sqlmodel.sql.sqltypes.UTCDateTime()))
        # The exit stays where PORTAL_EXIT_URL has been sending it: only the help lines are the country's.
        op.bulk_insert(organisation, [{'country': 'US', 'exit_url': '', 'created_at': datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table('organisation')
