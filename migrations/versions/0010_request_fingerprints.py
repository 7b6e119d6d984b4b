"""request fingerprints beside the stored first answers

Revision ID: 0010_request_fingerprints
Revises: 0009_signin_throttle
Create Date: 2026-12-01 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_request_fingerprints'
down_revision = '0009_signin_throttle'
branch_labels = None
depends_on = None


def upgrade():
    # A retry with the same client_ref (or the same site id of a lane upload) replays the first answer only
    # when the request is the same one; rows kept before have no fingerprint (null) and replay as before.
    with op.batch_alter_table('idempotent_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sa.String(length=32), nullable=True))
    with op.batch_alter_table('lane_uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('lane_uploads', schema=None) as batch_op:
        batch_op.drop_column('fingerprint')
    with op.batch_alter_table('idempotent_requests', schema=None) as batch_op:
        batch_op.drop_column('fingerprint')
