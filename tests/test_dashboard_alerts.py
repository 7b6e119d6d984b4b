"""The overview's alerts panel: each count is the rows written here, links to a list showing them, follows
the viewer's scope, hides kinds the scope has none of, and costs at most one statement per kind."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from app.core.types import utcnow
from app.dashboard.alerts import ALERTS, alerts_for
from app.devices.models import Handheld
from app.extensions import db
from app.inspections.models import InspectionTask
from app.orders.models import Arrear, ParkingOrder
from app.sensors.models import BaseStation, Sensor
from app.sync.models import SiteServer
from app.tenancy.scope import Scope


def _handheld(park, serial, status):
    h = Handheld(serial=serial, status=status)
    h.anchor_at(park)
    return h


def _station(park, serial, online):
    return BaseStation(park_id=park.id, serial=serial, online=online, key_hash=serial.ljust(64, "0"), key_hint="bs")


def _order(park, plate, days, state="open"):
    return ParkingOrder(park_id=park.id, plate=plate, state=state, entered_at=utcnow() - timedelta(days=days))


@pytest.fixture
def trouble(tree):
    now = utcnow()
    p1, p2, p3, hp = tree.p1, tree.p2, tree.p3, tree.hp
    db.session.add_all([
        _handheld(p1, "POS-WAIT-1", "pending"), _handheld(p2, "POS-WAIT-2", "pending"),
        _handheld(p1, "POS-OK-1", "approved"), _handheld(hp, "POS-HARBOR-1", "pending"),
        Sensor(park_id=p1.id, serial="SN-OFF-1", online=False), Sensor(park_id=p1.id, serial="SN-OFF-2", online=False),
        Sensor(park_id=p1.id, serial="SN-ON-1", online=True), Sensor(park_id=hp.id, serial="SN-HARBOR", online=False),
        _station(p1, "BS-OFF-1", False), _station(p1, "BS-ON-1", True),
        SiteServer(park_id=p3.id, secret="s3cr3t", secret_hint="s3", last_heartbeat_at=now - timedelta(hours=2)),
        _order(p1, "LONG001", 3), _order(p2, "LONG002", 5), _order(p1, "SHORT01", 0.1), _order(hp, "LONGHB1", 4),
        InspectionTask(park_id=p1.id, kind="other", state="open", note="Look at berth 3"),
        InspectionTask(park_id=p1.id, kind="other", state="open", note="Look at berth 4"),
        InspectionTask(park_id=p2.id, kind="other", state="resolved", note="Done"),
    ])
    for park, plate in ((p1, "ESC0001"), (hp, "ESCHB01")):
        left = _order(park, plate, 0.05, state="unpaid")
        db.session.add(left)
        db.session.flush()
        db.session.add(Arrear(park_id=park.id, order_id=left.id, plate=plate, amount_fen=500))
    db.session.commit()
    return tree


def _panel(client):
    body = client.get("/").get_data(as_text=True)
    found = re.findall(r'id="alert-([a-z-]+)" href="([^"]+)"[^>]*>[^<]*<span class="alert-count">(\d+)</span>', body)
    return {key: (int(count), href.replace("&amp;", "&")) for key, href, count in found}


def test_park_manager_counts_its_park_and_each_link_shows_those_rows(trouble, client_as):
    client = client_as("parkp1")
    panel = _panel(client)
    assert {k: c for k, (c, _h) in panel.items()} == {
        "handhelds-pending": 1, "sensors-offline": 2, "stations-offline": 1, "long-stays": 1, "unpaid-today": 1,
        "tasks-open": 2}  # no on-site link line: park p1 has none
    shown = {key: client.get(href).get_data(as_text=True) for key, (_c, href) in panel.items()}
    assert "POS-WAIT-1" in shown["handhelds-pending"] and "POS-OK-1" not in shown["handhelds-pending"]
    assert "SN-OFF-1" in shown["sensors-offline"] and "SN-OFF-2" in shown["sensors-offline"]
    assert "SN-ON-1" not in shown["sensors-offline"]
    assert "BS-OFF-1" in shown["stations-offline"] and "BS-ON-1" not in shown["stations-offline"]
    assert "LONG001" in shown["long-stays"] and "SHORT01" not in shown["long-stays"]
    assert "ESC0001" in shown["unpaid-today"]
    tasks = shown["tasks-open"]
    assert len(re.findall(r'href="/inspections/tasks/\d+"', tasks)) == 2


def test_city_manager_counts_the_whole_city_and_never_the_other_tenant(trouble, client_as):
    client = client_as("citya")
    panel = _panel(client)
    counts = {k: c for k, (c, _h) in panel.items()}
    assert counts == {"handhelds-pending": 2, "sensors-offline": 2, "stations-offline": 1, "long-stays": 2,
                      "unpaid-today": 1, "tasks-open": 2, "links-down": 1}
    links = client.get(panel["links-down"][1]).get_data(as_text=True)
    assert "Alpha Garage Three" in links and "Alpha Street One" not in links
    long_stays = client.get(panel["long-stays"][1]).get_data(as_text=True)
    assert "LONG001" in long_stays and "LONG002" in long_stays and "LONGHB1" not in long_stays
    assert "POS-HARBOR-1" not in client.get(panel["handhelds-pending"][1]).get_data(as_text=True)


def test_kinds_the_scope_has_none_of_are_hidden(trouble, client_as):
    counts = {k: c for k, (c, _h) in _panel(client_as("parkp2")).items()}
    assert counts == {"handhelds-pending": 1, "long-stays": 1, "unpaid-today": 0, "tasks-open": 0}
    # p2 has no sensors, base stations or on-site link; its one task is resolved, so the line says 0


def test_the_panel_costs_at_most_one_statement_per_kind(trouble, app):
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    from flask import g

    with app.test_request_context():
        g.scope = Scope.of(trouble.staff["citya"])
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            shown = alerts_for(g.scope, lambda code: True, utcnow())
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert len(shown) == len(ALERTS) == 7
    # one per kind, and the city's time zone for "today" (on the page the header has usually loaded it)
    assert len(statements) <= len(ALERTS) + 1, statements
