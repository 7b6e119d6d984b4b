"""a park may choose which of its group's or city's merchant accounts it takes payments with

Revision ID: 0016_park_payment_account
Revises: 0015_outbox_alliance
Create Date: 2026-12-06 06:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016_park_payment_account'
down_revision = '0015_outbox_alliance'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'park_payment_accounts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('park_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['merchant_accounts.id'], ),
        sa.ForeignKeyConstraint(['park_id'], ['parks.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('park_id'),
    )
    with op.batch_alter_table('park_payment_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_park_payment_accounts_account_id'), ['account_id'], unique=False)


def downgrade():
    with op.batch_alter_table('park_payment_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_park_payment_accounts_account_id'))
    op.drop_table('park_payment_accounts')
