"""time partitions for orders, the ledger, occupancy sessions (yearly), lane uploads and the outbox (monthly)
on PostgreSQL (converted in place); SQLite keeps plain tables

Their unique rules without a time (one open order per berth and per plate, the receipt number, a provider's
trade once per kind, one open session per sensor, a site's item once) and the foreign keys pointing at
orders and sessions move to key tables kept by triggers (app/core/partition_keys.py). Converted in the
order that lets each table's foreign keys find their new target: orders first.

Revision ID: 0019_street_partitions
Revises: 0018_rollup_hourly
Create Date: 2026-12-06 21:10:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019_street_partitions'
down_revision = '0018_rollup_hourly'
branch_labels = None
depends_on = None

OPEN = "{row}.state = 'open'"
# (table, time, rules the key table holds, period): a year for the tables kept for ever and read by id on the
# kerb, whose every statement would otherwise start one partition per month of history
TABLES = (
    ("parking_orders", "entered_at", {"uq_orders_open_berth": OPEN, "uq_orders_open_plate": OPEN,
                                      "uq_parking_orders_receipt_no": "TRUE"}, "year"),
    ("ledger_entries", "occurred_at", {"uq_ledger_trade": "{row}.trade_no IS NOT NULL"}, "year"),
    ("occupancy_sessions", "arrived_at", {"uq_occupancy_open_sensor": "{row}.departed_at IS NULL"}, "year"),
    ("lane_uploads", "received_at", {"uq_lane_uploads_site_ref": "TRUE"}, "month"),
    ("outbox_messages", "created", {}, "month"),
)


def upgrade():
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    from app.core.partitions import partition_in_place

    for table, column, guards, period in TABLES:
        partition_in_place(conn, table, column, guards=guards, period=period)


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    from app.core.partitions import unpartition_in_place

    for table, column, _guards, _period in reversed(TABLES):
        unpartition_in_place(conn, table, column)
