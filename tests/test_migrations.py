"""`flask db upgrade` from an empty database must give exactly the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.core.partitions import include_object
from app.extensions import db as _db


def test_migrated_schema_equals_the_models(db):
    with _db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        diff = compare_metadata(context, _db.metadata)
    assert diff == [], f"models and migrations differ; run `flask db migrate`: {diff}"
