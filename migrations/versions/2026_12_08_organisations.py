"""organisations

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 09:00:00

Several organisations in one deployment: staff and admins belong to one, and carry the name survivors see;
help lines belong to an organisation; survivors may say yes to being counted in anonymous totals; feedback
to an organisation. What was one organisation becomes the first (the host); its staff have no display name until
they or their admin give one, and survivors never see a username (nor in Who has looked, whose names are cleared).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=120), nullable=False, server_default=''))
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('display_name', sa.String(length=80), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('helps_with', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('count_me_in', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('count_asked', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index('ix_app_user_organisation_id', ['organisation_id'])
        batch_op.create_foreign_key('fk_app_user_organisation_id_organisation', 'organisation', ['organisation_id'],
                                    ['id'], ondelete='RESTRICT')
    with op.batch_alter_table('help_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_help_line_organisation_id', ['organisation_id'])
        batch_op.create_foreign_key('fk_help_line_organisation_id_organisation', 'organisation', ['organisation_id'],
                                    ['id'], ondelete='CASCADE')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.alter_column('viewer_name', existing_type=sa.String(length=64), type_=sa.String(length=80),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('viewer_organisation', sa.String(length=120), nullable=False, server_default=''))
    op.create_table(
        'feedback',
        sa.Column('id', sa.String(length=16), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('survivor_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.Column('words', sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name='fk_feedback_organisation_id_organisation', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['survivor_id'], ['app_user.id'], name='fk_feedback_survivor_id_app_user',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_feedback'),
        sa.UniqueConstraint('organisation_id', 'survivor_id', name='uq_feedback_organisation_survivor'),
    )
    # What was one organisation becomes the first; staff, admins and help lines join it.
    bind = op.get_bind()
    staff = bind.execute(sa.text("SELECT count(*) FROM app_user WHERE role <> 'survivor'")).scalar()
    lines = bind.execute(sa.text("SELECT count(*) FROM help_line")).scalar()
    first = bind.execute(sa.text("SELECT min(id) FROM organisation")).scalar()
    if first is None and (staff or lines):
        bind.execute(sa.text("INSERT INTO organisation (country, exit_url, name, created_at) "
                             "VALUES ('', '', '', CURRENT_TIMESTAMP)"))
        first = bind.execute(sa.text("SELECT min(id) FROM organisation")).scalar()
    if first is not None:
        bind.execute(sa.text("UPDATE app_user SET organisation_id = :o WHERE role <> 'survivor'"), {"o": first})
        bind.execute(sa.text("UPDATE help_line SET organisation_id = :o"), {"o": first})
    # Staff have no display name until they or their admin give one (survivors then see "Caseworker · Safe
    # Harbor", never a username); the access log named them by username: those names go too.
    bind.execute(sa.text("UPDATE access_log SET viewer_name = '' WHERE viewer_role <> 'survivor'"))


def downgrade() -> None:
    op.drop_table('feedback')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_column('viewer_organisation')
        batch_op.alter_column('viewer_name', existing_type=sa.String(length=80), type_=sa.String(length=64),
                              existing_nullable=False)
    with op.batch_alter_table('help_line', schema=None) as batch_op:
        batch_op.drop_constraint('fk_help_line_organisation_id_organisation', type_='foreignkey')
        batch_op.drop_index('ix_help_line_organisation_id')
        batch_op.drop_column('organisation_id')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint('fk_app_user_organisation_id_organisation', type_='foreignkey')
        batch_op.drop_index('ix_app_user_organisation_id')
        for column in ('count_asked', 'count_me_in', 'helps_with', 'display_name', 'organisation_id'):
            batch_op.drop_column(column)
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('name')
