"""safety plan life areas journal

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 09:00:00

Three parts a survivor keeps: a safety plan (one each), ratings of the areas of life over time, and a journal
whose entries keep their earlier versions and may hold encrypted photos or PDFs. A monthly reminder to rate the
areas of life again, off until the survivor turns it on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (autogenerate renders sqlmodel column types)
from alembic import op


revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('journal_entry',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('private', sa.Boolean(), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('happened_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=False),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['app_user.id'], name=op.f('fk_journal_entry_owner_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entry'))
    )
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.create_index('ix_journal_entry_owner_happened', ['owner_id', 'happened_on'], unique=False)

    op.create_table('life_areas',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('private', sa.Boolean(), nullable=False),
    sa.Column('safety', sa.Integer(), nullable=True),
    sa.Column('housing', sa.Integer(), nullable=True),
    sa.Column('health', sa.Integer(), nullable=True),
    sa.Column('mind', sa.Integer(), nullable=True),
    sa.Column('money', sa.Integer(), nullable=True),
    sa.Column('work', sa.Integer(), nullable=True),
    sa.Column('legal', sa.Integer(), nullable=True),
    sa.Column('people', sa.Integer(), nullable=True),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['app_user.id'], name=op.f('fk_life_areas_owner_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_life_areas'))
    )
    with op.batch_alter_table('life_areas', schema=None) as batch_op:
        batch_op.create_index('ix_life_areas_owner_created', ['owner_id', 'created_at'], unique=False)

    op.create_table('safety_plan',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('private', sa.Boolean(), nullable=False),
    sa.Column('people', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('places', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('signs', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('take', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('take_documents', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('take_other', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('code_word', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('code_with', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('plan', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['app_user.id'], name=op.f('fk_safety_plan_owner_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_plan'))
    )
    with op.batch_alter_table('safety_plan', schema=None) as batch_op:
        batch_op.create_index('ix_safety_plan_owner_id', ['owner_id'], unique=True)

    op.create_table('journal_file',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('entry_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('chunk_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_journal_file_entry_id_journal_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_file')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_journal_file_storage_key'))
    )
    with op.batch_alter_table('journal_file', schema=None) as batch_op:
        batch_op.create_index('ix_journal_file_entry', ['entry_id'], unique=False)

    op.create_table('journal_version',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('entry_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('happened_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=False),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('written_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('replaced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_journal_version_entry_id_journal_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_version'))
    )
    with op.batch_alter_table('journal_version', schema=None) as batch_op:
        batch_op.create_index('ix_journal_version_entry', ['entry_id', 'replaced_at'], unique=False)

    with op.batch_alter_table('push_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('life_areas', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('life_areas_next_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_push_settings_life_areas_next_at'), ['life_areas_next_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('push_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_settings_life_areas_next_at'))
        batch_op.drop_column('life_areas_next_at')
        batch_op.drop_column('life_areas')

    with op.batch_alter_table('journal_version', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_version_entry')

    op.drop_table('journal_version')
    with op.batch_alter_table('journal_file', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_file_entry')

    op.drop_table('journal_file')
    with op.batch_alter_table('safety_plan', schema=None) as batch_op:
        batch_op.drop_index('ix_safety_plan_owner_id')

    op.drop_table('safety_plan')
    with op.batch_alter_table('life_areas', schema=None) as batch_op:
        batch_op.drop_index('ix_life_areas_owner_created')

    op.drop_table('life_areas')
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entry_owner_happened')

    op.drop_table('journal_entry')
