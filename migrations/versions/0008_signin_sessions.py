"""server-side sign-in sessions

Revision ID: 0008_signin_sessions
Revises: 0007_sync_speed
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.core.types


# revision identifiers, used by Alembic.
revision = '0008_signin_sessions'
down_revision = '0007_sync_speed'
branch_labels = None
depends_on = None


def upgrade():
    # one row per sign-in to the admin web; it replaces staff.session_token, which could only end all
    # of a person's sessions at once and not the one that signed out (issue 14, part 3)
    op.create_table('signin_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('ended_at', app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_signin_sessions_staff_id_staff'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_signin_sessions_token_hash'))
    )
    with op.batch_alter_table('signin_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_sessions_staff_id'), ['staff_id'], unique=False)
    # every cookie signed before this revision names a token that no longer exists: all sign in again
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('session_token')


def downgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=32), nullable=False, server_default='ended'))
    with op.batch_alter_table('signin_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signin_sessions_staff_id'))
    op.drop_table('signin_sessions')
