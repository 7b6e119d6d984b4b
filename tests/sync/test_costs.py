"""What the site receives as park parameters, and the link's cost per batch staying flat with its size."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, func, select

from app.core.types import utcnow
from app.orders.models import LedgerEntry, ParkingOrder, PlateListEntry
from app.parks import services as parks
from app.sync.models import SyncChange


@contextmanager
def statements(db, *tables):
    """Statements sent while inside (only those naming one of `tables`, if given)."""
    seen = []

    def count(_conn, _cursor, statement, *_args):
        if not tables or any(t in statement for t in tables):
            seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_park_parameters_reach_the_site_whole_and_defaults_before_any_save(db, site):
    _status, snap = site.client.pull(0)
    [params] = [c for c in snap["changes"] if c["entity"] == "park_parameters"]  # never saved: the defaults
    defaults = parks.parameters_payload(site.park.id)
    assert params["entity_id"] is None and params["payload"]["park_id"] == site.park.id
    assert {k: params["payload"][k] for k in ("hide_amounts", "photo_retention_days", "auto_escape_unattended",
                                              "reentry_min_minutes", "entry_when_full")} == \
        {k: defaults[k] for k in ("hide_amounts", "photo_retention_days", "auto_escape_unattended",
                                  "reentry_min_minutes", "entry_when_full")}

    values = parks.parameters_form_data(site.park)
    parks.save_parameters(None, site.park, {**values, "hide_amounts": not values["hide_amounts"],
                                            "photo_retention_days": 45})
    db.session.commit()
    _status, pulled = site.client.pull(snap["seq"])
    [change] = [c for c in pulled["changes"] if c["entity"] == "park_parameters"]
    assert change["payload"]["hide_amounts"] is (not values["hide_amounts"])
    assert change["payload"]["photo_retention_days"] == 45 and change["entity_id"] is not None


def test_a_bulk_list_import_costs_the_same_statements_whatever_its_size(db, site):
    def import_rows(n, tag):
        db.session.add_all(PlateListEntry(park_id=site.park.id, plate=f"粤{tag}{i:05d}", kind="white", reason="r")
                           for i in range(n))
        with statements(db, "sync_changes", "site_servers", "parks") as seen:  # the feed's own work
            db.session.flush()
        db.session.commit()
        return len(seen)

    assert import_rows(5, "A") == import_rows(120, "B")
    seqs = db.session.scalars(select(SyncChange.seq).where(SyncChange.park_id == site.park.id)
                              .order_by(SyncChange.seq)).all()
    assert seqs == list(range(1, 126))  # numbered without gaps, one per row


def _visits(site, n, start):
    items = []
    for i in range(n):
        ref, at = f"v{uuid.uuid4().hex[:10]}", start + timedelta(minutes=i)
        items += [{"kind": "entry", "site_id": ref, "plate": f"粤C{uuid.uuid4().int % 100000:05d}",
                   "lane_id": site.entry, "at": at.isoformat()},
                  {"kind": "settlement", "site_id": ref + "-p", "order_site_id": ref, "fee_fen": 500,
                   "at": (at + timedelta(minutes=3)).isoformat(), "payments": [{"method": "cash", "amount_fen": 500}]},
                  {"kind": "exit", "site_id": ref, "order_site_id": ref, "lane_id": site.exit,
                   "at": (at + timedelta(minutes=4)).isoformat()}]
    return items


def test_an_upload_batch_costs_the_same_statements_whatever_its_size(db, site):
    from app.integrations.events import targets

    targets(site.park.id)  # what the integrations need of the park is cached, as on a running server
    start = utcnow() - timedelta(days=2)
    counts = []
    for n in (3, 40):
        items = _visits(site, n, start)
        start += timedelta(hours=2)
        with statements(db) as seen:
            status, body = site.client.upload(items)
        assert status == 200 and body["accepted"] == 3 * n
        counts.append(len(seen))
    if db.engine.dialect.name == "postgresql":  # SQLite gets new ids back one row at a time (executemany)
        assert counts[0] == counts[1]
    assert db.session.scalar(select(func.count()).select_from(ParkingOrder).where(
        ParkingOrder.state == "settled", ParkingOrder.receipt_no.is_not(None))) == 43
    assert db.session.scalar(select(func.sum(LedgerEntry.amount_fen))) == 43 * 500
