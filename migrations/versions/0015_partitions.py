"""monthly partitions for track points and sensor events on PostgreSQL (converted in place); SQLite keeps
plain tables

Only these two: every unique index they have holds their time column (the partition key), so the database
still enforces it. Orders, the ledger, arrears and the idempotency records stay plain: their unique
indexes (one open order per berth and plate, one arrear per order, request keys) do not hold a time.

Revision ID: 0015_partitions
Revises: 0014_rollups
Create Date: 2026-12-06 05:10:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015_partitions'
down_revision = '0014_rollups'
branch_labels = None
depends_on = None

TABLES = (("track_points", "recorded_at"), ("sensor_events", "occurred_at"))


def upgrade():
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    from app.core.partitions import partition_in_place

    for table, column in TABLES:
        partition_in_place(conn, table, column)


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    from app.core.partitions import unpartition_in_place

    for table, column in TABLES:
        unpartition_in_place(conn, table, column)
