"""sign-in throttling: failures per username, unknown usernames counted; no account lock

Revision ID: 0009_signin_throttle
Revises: 0008_signin_sessions
Create Date: 2026-12-01 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

import app.core.types


# revision identifiers, used by Alembic.
revision = '0009_signin_throttle'
down_revision = '0008_signin_sessions'
branch_labels = None
depends_on = None


def upgrade():
    # the growing delay per username (known or not) replaces the 15-minute lock anyone could renew
    op.create_table('sign_in_failures',
    sa.Column('name_hash', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delayed_until', app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name_hash', name=op.f('pk_sign_in_failures'))
    )
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_failures_last_failed_at'), ['last_failed_at'], unique=False)

    op.create_table('unknown_sign_ins',
    sa.Column('hour', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('hour', 'ip', name=op.f('pk_unknown_sign_ins'))
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', app.core.types.UTCDateTime(timezone=True), nullable=True))
    op.drop_table('unknown_sign_ins')
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_failures_last_failed_at'))
    op.drop_table('sign_in_failures')
