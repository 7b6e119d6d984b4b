"""the page language a person chose, and the language an export is written in

Revision ID: 0012_staff_locale
Revises: 0011_import_jobs
Create Date: 2026-12-05 18:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012_staff_locale'
down_revision = '0011_import_jobs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=True))
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_column('locale')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('locale')
