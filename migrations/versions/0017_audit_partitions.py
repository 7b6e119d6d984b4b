"""monthly partitions for the audit trail on PostgreSQL (converted in place); SQLite keeps a plain table

The audit trail only grows (every change of every manager); it has no unique index but its key, so the
database loses nothing by partitioning it on its time. It is kept for ever by default
(RETENTION_AUDIT_DAYS drops whole months past that age).

Revision ID: 0017_audit_partitions
Revises: 0016_park_payment_account
Create Date: 2026-12-06 18:30:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017_audit_partitions'
down_revision = '0016_park_payment_account'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    from app.core.partitions import partition_in_place

    partition_in_place(conn, "audit_entries", "at")


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    from app.core.partitions import unpartition_in_place

    unpartition_in_place(conn, "audit_entries", "at")
