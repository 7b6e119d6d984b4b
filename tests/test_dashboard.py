"""The overview at `/`: today's figures of the node, from the ledger and the orders."""
from __future__ import annotations

from sqlalchemy import select

from app.core.templating import money
from app.orders.models import LedgerEntry
from app.reports import queries as q
from app.tenancy.scope import Scope
from tests.pos_api.conftest import street  # noqa: F401
from tests.test_reports import activity  # noqa: F401


def test_park_dashboard_shows_todays_figures(activity, client_as, db):
    tree = activity
    today = q.dashboard_today(Scope.of(tree.staff["parkp1"]), with_parks=False)
    f = q.Filters(today.day, today.day, today.tz)
    expected = sum(e.amount_fen for e in db.session.scalars(select(LedgerEntry))
                   if e.park_id == tree.p1.id and f.start <= e.occurred_at < f.end)
    assert today.income == expected == 2000
    assert today.spaces == 6 and today.parked == 1 and today.free_spaces == 5
    assert today.unpaid == 200 and today.cars_out == 5
    assert [r["amount"] for r in today.ranking] == sorted((r["amount"] for r in today.ranking), reverse=True)
    body = client_as("parkp1").get("/").get_data(as_text=True)
    assert 'id="kpi-income"' in body and money(expected) in body
    assert 'id="kpi-free"' in body and "income-chart" in body and "occupancy-chart" in body
    assert "<script>" not in body and "plotly.min.js" in body
    assert 'id="park-table"' not in body  # a park sees its collectors' ranking, not a park table


def test_city_dashboard_lists_its_parks_only(activity, client_as):
    body = client_as("citya").get("/").get_data(as_text=True)
    assert 'id="park-table"' in body and "Alpha Street One" in body and "Alpha Garage Three" in body
    assert "harbor" not in body.lower()
    body = client_as("groupa1").get("/").get_data(as_text=True)
    assert "Alpha Street Two" in body and "Alpha Garage Three" not in body
    assert "/org/parks" in body  # the organisation cards still link to their lists


def test_chart_library_is_served_locally(client_as, tree):
    response = client_as("parkp1").get("/reports/assets/plotly.min.js")
    assert response.status_code == 200 and "javascript" in response.content_type
    assert b"plotly" in response.data[:500]
