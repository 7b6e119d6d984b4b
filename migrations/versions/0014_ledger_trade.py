"""a ledger row of an online payment names its provider and trade number, booked once per kind

Revision ID: 0014_ledger_trade
Revises: 0013d_lane_heartbeat
Create Date: 2026-12-06 05:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014_ledger_trade'
down_revision = '0013d_lane_heartbeat'
branch_labels = None
depends_on = None

_WHERE = sa.text("trade_no IS NOT NULL")


def upgrade():
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('trade_no', sa.String(length=64), nullable=True))
    op.create_index('uq_ledger_trade', 'ledger_entries', ['provider', 'trade_no', 'kind'], unique=True,
                    sqlite_where=_WHERE, postgresql_where=_WHERE)


def downgrade():
    op.drop_index('uq_ledger_trade', table_name='ledger_entries')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_column('trade_no')
        batch_op.drop_column('provider')
