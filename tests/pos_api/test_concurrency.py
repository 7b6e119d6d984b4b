"""Races on PostgreSQL with real connections: two collectors, one berth; double settle;
settle against escape. Exactly one wins, the other gets 409, nothing is half-written."""
import os
import threading

import pytest
from sqlalchemy import func, select

from app.orders.models import Arrear, LedgerEntry, ParkingOrder
from tests.pos_api.conftest import ago, ref

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                reason="row locks and real concurrency need PostgreSQL")


def _race(app, calls):
    """Start every call at the same moment, each on its own client (own connection)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        client = app.test_client()
        barrier.wait()
        results[i] = call(client)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def _post(token, url, body):
    return lambda client: client.post(f"/pos/v1{url}", json=body, headers={"Authorization": f"Bearer {token}"})


def _count(db, model, *where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.parametrize("round_", range(3))
def test_two_collectors_one_berth(app, street, db, round_):
    one = street.signed_in("collectorp1")
    two = street.signed_in("collector2p1")
    berth = street.berths["A001"]
    results = _race(app, [_post(one, "/orders", {"client_ref": ref(), "berth_id": berth, "plate": "W11111",
                                                 "prepay": {"amount_fen": 500, "method": "cash"}}),
                          _post(two, "/orders", {"client_ref": ref(), "berth_id": berth, "plate": "W22222",
                                                 "prepay": {"amount_fen": 500, "method": "cash"}})])
    assert sorted(r.status_code for r in results) == [201, 409]
    assert _count(db, ParkingOrder) == 1 and _count(db, LedgerEntry) == 1


def test_same_plate_at_two_berths(app, street, db):
    one = street.signed_in("collectorp1")
    results = _race(app, [_post(one, "/orders", {"client_ref": ref(), "berth_id": street.berths["A001"],
                                                 "plate": "X11111"}),
                          _post(one, "/orders", {"client_ref": ref(), "berth_id": street.berths["A002"],
                                                 "plate": "X11111"})])
    assert sorted(r.status_code for r in results) == [201, 409]
    assert _count(db, ParkingOrder) == 1


def test_concurrent_retries_of_one_request_give_one_order(app, street, db):
    one = street.signed_in("collectorp1")
    body = {"client_ref": ref(), "berth_id": street.berths["A001"], "plate": "Y11111"}
    results = _race(app, [_post(one, "/orders", body), _post(one, "/orders", body)])
    assert [r.status_code for r in results] == [201, 201]
    assert results[0].get_json() == results[1].get_json()
    assert _count(db, ParkingOrder) == 1


def test_double_settle(app, street, db):
    one = street.signed_in("collectorp1")
    order = street.car_in(one, "A001", "Z11111", entered_at=ago(minutes=50)).get_json()["order"]
    body = {"left_at": ago(seconds=1), "method": "cash", "amount_fen": 200}
    results = _race(app, [_post(one, f"/orders/{order['id']}/settle", {**body, "client_ref": ref()}),
                          _post(one, f"/orders/{order['id']}/settle", {**body, "client_ref": ref()})])
    assert sorted(r.status_code for r in results) == [200, 409]
    assert _count(db, LedgerEntry) == 1


def test_settle_against_escape(app, street, db):
    one = street.signed_in("collectorp1")
    order = street.car_in(one, "A001", "Z22222", entered_at=ago(minutes=50)).get_json()["order"]
    left = ago(seconds=1)
    results = _race(app, [
        _post(one, f"/orders/{order['id']}/settle", {"client_ref": ref(), "left_at": left, "method": "cash",
                                                     "amount_fen": 200}),
        _post(one, f"/orders/{order['id']}/escape", {"client_ref": ref(), "left_at": left})])
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409]
    db.session.expire_all()
    state = db.session.get(ParkingOrder, order["id"]).state
    assert (state, _count(db, LedgerEntry), _count(db, Arrear)) in (("settled", 1, 0), ("unpaid", 0, 1))


def test_one_client_ref_for_two_car_ins_at_once(app, street, db):
    """The same client_ref raced with two different bodies: one is done, the other is 409 client_ref_reused
    (whether it found the first answer with its token or lost the insert of its own)."""
    one = street.signed_in("collectorp1")
    shared = ref()
    results = _race(app, [_post(one, "/orders", {"client_ref": shared, "berth_id": street.berths["A001"],
                                                 "plate": "Y11111"}),
                          _post(one, "/orders", {"client_ref": shared, "berth_id": street.berths["A002"],
                                                 "plate": "Y22222"})])
    assert sorted(r.status_code for r in results) == [201, 409]
    assert next(r for r in results if r.status_code == 409).get_json()["error"]["code"] == "client_ref_reused"
    assert _count(db, ParkingOrder) == 1
