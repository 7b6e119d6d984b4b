"""lane uploads without foreign keys

Revision ID: 0007_sync_speed
Revises: 0006_offstreet
Create Date: 2026-11-27 03:50:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007_sync_speed'
down_revision = '0006_offstreet'
branch_labels = None
depends_on = None


def upgrade():
    # /sync/v1/uploads is the only writer of lane_uploads and copies the park of the authenticated site and
    # the ids of the orders it has just read or written in the same transaction; nothing deletes parks or
    # orders. The key checks (one per row and reference, each locking the park's one row or an order) cost
    # about 40% of the batch's lane_uploads insert, and the order_id index served only the foreign key:
    # no query looks lane uploads up by order (see docs/sync.md, Performance).
    with op.batch_alter_table('lane_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lane_uploads_order_id'))
        batch_op.drop_constraint(batch_op.f('fk_lane_uploads_order_id_parking_orders'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_lane_uploads_park_id_parks'), type_='foreignkey')


def downgrade():
    with op.batch_alter_table('lane_uploads', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_lane_uploads_park_id_parks'), 'parks', ['park_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_lane_uploads_order_id_parking_orders'), 'parking_orders',
                                    ['order_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_lane_uploads_order_id'), ['order_id'], unique=False)
