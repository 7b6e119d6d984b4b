"""hourly rollups of cars in and out per park and local day and hour (the hourly traffic and the occupancy
by hour read closed days from them); the days built before are queued for the worker to rebuild with their
hours (read from the raw rows meanwhile)

Revision ID: 0018_rollup_hourly
Revises: 0017_audit_partitions
Create Date: 2026-12-06 19:00:00.000000

"""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018_rollup_hourly'
down_revision = '0017_audit_partitions'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table('rollup_hourly',
                    sa.Column('id', BigId, nullable=False),
                    sa.Column('park_id', sa.Integer(), nullable=False),
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('hour', sa.Integer(), nullable=False),
                    sa.Column('cars_in', sa.Integer(), nullable=False),
                    sa.Column('cars_out', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_hourly')))
    op.create_index('ix_rollup_hourly_park_day', 'rollup_hourly', ['park_id', 'day'], unique=False)
    _queue_built_days()


def _queue_built_days():
    """A mark at local noon of every built (park, day): the worker rebuilds those days, hours included."""
    conn = op.get_bind()
    built = conn.execute(sa.text("SELECT d.park_id, d.day, p.timezone FROM rollup_days d "
                                 "JOIN parks p ON p.id = d.park_id")).all()
    dirty = sa.table("rollup_dirty", sa.column("park_id", sa.Integer()), sa.column("at", sa.DateTime(timezone=True)))
    rows = []
    for park_id, day, tz in built:
        day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
        at = datetime.combine(day, time(12), tzinfo=ZoneInfo(tz or "Asia/Shanghai")).astimezone(timezone.utc)
        rows.append({"park_id": park_id, "at": at if conn.dialect.name == "postgresql" else at.replace(tzinfo=None)})
    for start in range(0, len(rows), 5000):
        conn.execute(sa.insert(dirty), rows[start:start + 5000])


def downgrade():
    op.drop_index('ix_rollup_hourly_park_day', table_name='rollup_hourly')
    op.drop_table('rollup_hourly')
