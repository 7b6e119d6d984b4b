"""import jobs: member imports too large for the request, run by the worker

Revision ID: 0011_import_jobs
Revises: 0010_request_fingerprints
Create Date: 2026-12-05 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.core.types


# revision identifiers, used by Alembic.
revision = '0011_import_jobs'
down_revision = '0010_request_fingerprints'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('park_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_import_jobs_area_id_areas')),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_import_jobs_city_id_cities')),
    sa.ForeignKeyConstraint(['group_id'], ['operating_groups.id'], name=op.f('fk_import_jobs_group_id_operating_groups')),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_import_jobs_park_id_parks')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['staff.id'], name=op.f('fk_import_jobs_requested_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs'))
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_jobs_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_jobs_city_id'), ['city_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_jobs_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_jobs_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_jobs_park_id'), ['park_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_jobs_requested_by_id'), ['requested_by_id'], unique=False)


def downgrade():
    op.drop_table('import_jobs')
