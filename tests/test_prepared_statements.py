"""Prepared statements on PostgreSQL (app/core/prepared.py): a repeated statement is prepared once per
connection and answers as before; one PostgreSQL cannot prepare still runs, in the same transaction."""
import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.tenancy.models import City


@pytest.fixture
def pg(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("prepared statements are a PostgreSQL feature")
        # fresh connections: a pooled one that ran the rest of the suite may hold its cap of prepared
        # statements (MAX_PER_CONNECTION) already, and then rightly prepares nothing more.
        # (Never on SQLite: there the one in-memory connection is the database.)
        db.engine.dispose()


def _prepared(conn) -> set[str]:
    return set(conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars())


def test_a_repeated_statement_is_prepared_once_and_answers_alike(app, pg):
    with app.app_context(), db.engine.connect() as conn:
        conn.execute(text("CREATE TEMP TABLE t_prepared (n int, label text)"))
        conn.execute(text("INSERT INTO t_prepared VALUES (1, '50% off'), (2, 'plain'), (3, NULL)"))
        query = text("SELECT n FROM t_prepared WHERE label LIKE '%' || :word || '%' AND n >= :least ORDER BY n")
        answers = [conn.execute(query, {"word": word, "least": least}).scalars().all()
                   for word, least in [("off", 0), ("off", 0), ("a", 0), ("a", 2), ("zzz", 0)]]
        assert answers == [[1], [1], [2], [2], []]
        [prepared] = [s for s in _prepared(conn) if "t_prepared" in s]
        assert "$1" in prepared and "$2" in prepared and "%(" not in prepared

        updated = text("UPDATE t_prepared SET label = :label WHERE n = :n")
        counts = [conn.execute(updated, {"label": f"x{n}", "n": n}).rowcount for n in (1, 2, 9)]
        assert counts == [1, 1, 0]  # the row count of an EXECUTEd UPDATE is the UPDATE's


def test_a_statement_postgresql_cannot_prepare_runs_as_before_and_the_transaction_goes_on(app, pg):
    with app.app_context():
        db.session.add(City(name="Before"))
        db.session.flush()
        odd = text("SELECT :value IS NULL")  # the parameter's type cannot be inferred: PREPARE fails
        assert [db.session.execute(odd, {"value": v}).scalar() for v in (None, "x", None)] == [True, False, True]
        db.session.add(City(name="After"))
        db.session.commit()
        assert {c.name for c in db.session.scalars(db.select(City))} >= {"Before", "After"}


def test_the_orm_reads_and_writes_through_prepared_statements(app, pg):
    with app.app_context():
        for i in range(3):  # one transaction: one connection
            db.session.add(City(name=f"City {i}"))
            db.session.flush()
            assert db.session.scalar(db.select(City.name).where(City.name == f"City {i}")) == f"City {i}"
        statements = set(db.session.execute(text("SELECT statement FROM pg_prepared_statements")).scalars())
        db.session.commit()
        assert any(s.startswith("PREPARE") and "INSERT INTO cities" in s for s in statements)
        assert any(s.startswith("PREPARE") and "FROM cities" in s for s in statements)


def test_streamed_results_bypass_preparation(app, pg):
    """Exports stream through a server-side cursor (DECLARE … CURSOR FOR), which cannot take EXECUTE."""
    with app.app_context():
        db.session.add_all(City(name=f"Streamed {i}") for i in range(5))
        db.session.commit()
        query = db.select(City.name).where(City.name.like("Streamed%")).order_by(City.name)
        for _ in range(3):
            plain = db.session.scalars(query).all()
            streamed = [n for n in db.session.execute(query, execution_options={"yield_per": 2}).scalars()]
            assert streamed == plain == [f"Streamed {i}" for i in range(5)]
        db.session.commit()


def test_the_figures_queries_are_planned_for_their_own_range_each_time(app, pg, tree):
    """A figure's aggregate sums today's rows and a year's with one text: it is never kept as a prepared
    statement, whose reused plan, chosen after long ranges, would scan today like a year."""
    from datetime import date, timedelta

    from app.reports import figures as fg

    with app.app_context():
        ids = [tree.p1.id, tree.p2.id]
        for days in (400, 400, 400, 0, 0, 0, 0):
            f = fg.Filters(date.today() - timedelta(days=days), date.today())
            fg._income_raw(ids, f, "park")
            fg._cars_in_raw(ids, f, ("day", "hour"))
            db.session.execute(select(City.id).where(City.id == tree.city_a.id)).all()  # any other: prepared
        statements = set(db.session.execute(text("SELECT statement FROM pg_prepared_statements")).scalars())
        assert [s for s in statements if "FROM cities" in s]
        assert not [s for s in statements if "ledger_entries" in s or "parking_orders" in s]
        db.session.rollback()
