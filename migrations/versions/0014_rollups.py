"""daily rollups of the figures per park and local day, the built days, and the queue of past days written
to (filled by triggers on the ledger, the orders and the arrears); the unpaid orders indexed by park and exit

Revision ID: 0014_rollups
Revises: 0014_ledger_trade
Create Date: 2026-12-06 05:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

import app.core.types

# revision identifiers, used by Alembic.
revision = '0014_rollups'
down_revision = '0014_ledger_trade'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Money = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Seconds = sa.Numeric(20, 6).with_variant(sa.Float(), "sqlite")


def _keys():
    return [sa.Column('id', BigId, nullable=False), sa.Column('park_id', sa.Integer(), nullable=False),
            sa.Column('day', sa.Date(), nullable=False), sa.Column('segment_id', sa.Integer(), nullable=True),
            sa.Column('collector_id', sa.Integer(), nullable=True)]


def upgrade():
    op.create_table('rollup_days',
                    sa.Column('park_id', sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('built_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('park_id', 'day', name=op.f('pk_rollup_days')))
    op.create_table('rollup_dirty',
                    sa.Column('id', BigId, nullable=False),
                    sa.Column('park_id', sa.Integer(), nullable=False),
                    sa.Column('at', app.core.types.UTCDateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_dirty')))
    op.create_index('ix_rollup_dirty_park_at', 'rollup_dirty', ['park_id', 'at'], unique=False)
    op.create_table('rollup_income', *_keys(),
                    sa.Column('kind', sa.String(length=16), nullable=False),
                    sa.Column('method', sa.String(length=16), nullable=False),
                    sa.Column('amount_fen', Money, nullable=False),
                    sa.Column('entries', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_income')))
    op.create_table('rollup_income_park',
                    sa.Column('id', BigId, nullable=False), sa.Column('park_id', sa.Integer(), nullable=False),
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('kind', sa.String(length=16), nullable=False),
                    sa.Column('method', sa.String(length=16), nullable=False),
                    sa.Column('amount_fen', Money, nullable=False),
                    sa.Column('entries', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_income_park')))
    op.create_table('rollup_cars_in', *_keys(),
                    sa.Column('cars', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_cars_in')))
    op.create_table('rollup_cars_out', *_keys(),
                    sa.Column('orders', sa.Integer(), nullable=False),
                    sa.Column('receivable_fen', Money, nullable=False),
                    sa.Column('reduction_fen', Money, nullable=False),
                    sa.Column('dwell_seconds', Seconds, nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_cars_out')))
    op.create_table('rollup_arrears', *_keys(),
                    sa.Column('arrears', sa.Integer(), nullable=False),
                    sa.Column('amount_fen', Money, nullable=False),
                    sa.Column('recovered_fen', Money, nullable=False),
                    sa.Column('waived_fen', Money, nullable=False),
                    sa.Column('open_fen', Money, nullable=False),
                    sa.Column('open_arrears', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_arrears')))
    for table in ('income', 'income_park', 'cars_in', 'cars_out', 'arrears'):
        op.create_index(f'ix_rollup_{table}_park_day', f'rollup_{table}', ['park_id', 'day'], unique=False)
    op.create_index('ix_orders_unpaid_park_left', 'parking_orders', ['park_id', 'left_at'], unique=False,
                    sqlite_where=sa.text("state = 'unpaid'"), postgresql_where=sa.text("state = 'unpaid'"))
    from app.reports.rollups import trigger_ddl

    for statement in trigger_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    from app.reports.rollups import drop_trigger_ddl

    for statement in drop_trigger_ddl(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index('ix_orders_unpaid_park_left', table_name='parking_orders')
    for table in ('income', 'income_park', 'cars_in', 'cars_out', 'arrears'):
        op.drop_index(f'ix_rollup_{table}_park_day', table_name=f'rollup_{table}')
        op.drop_table(f'rollup_{table}')
    op.drop_index('ix_rollup_dirty_park_at', table_name='rollup_dirty')
    op.drop_table('rollup_dirty')
    op.drop_table('rollup_days')
