"""a lane remembers its park's last heartbeat, so its state is that of its devices in that heartbeat

Revision ID: 0013d_lane_heartbeat
Revises: 0012_staff_locale
Create Date: 2026-12-06 02:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

import app.core.types

# revision identifiers, used by Alembic.
revision = '0013d_lane_heartbeat'
down_revision = '0012_staff_locale'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lanes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', app.core.types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('lanes', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
