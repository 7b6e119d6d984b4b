"""The car cycle stays cheap (a handheld does it hundreds of times a day) and what makes it cheap
never serves stale settings."""
from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db as _db
from tests.pos_api.conftest import ago, ref


@contextmanager
def counted(app):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_car_cycle_stays_within_its_query_budget(street, app):
    token = street.signed_in()
    with counted(app) as car_in:
        order = street.car_in(token, "A001", "沪A20001", entered_at=ago(hours=1, minutes=5)).get_json()["order"]
    with counted(app) as quote:
        due = street.call("GET", f"/orders/{order['id']}/quote", token).get_json()["quote"]["due_fen"]
    with counted(app) as settle:
        response = street.call("POST", f"/orders/{order['id']}/settle", token, json={
            "client_ref": ref(), "left_at": ago(seconds=1), "method": "cash", "amount_fen": due})
    assert response.status_code == 200 and due == 400
    # were 12, 6 and 11 (the ledger row included), then 7, 3 and 7, then 7, 2 and 6 (sensor read apart)
    assert (len(car_in), len(quote), len(settle)) == (6, 2, 6), (car_in, quote, settle)


def test_a_managers_settings_edit_applies_to_the_next_request(street, tree, client_as):
    token = street.signed_in()

    def settle_receipt(berth, plate):
        order = street.car_in(token, berth, plate).get_json()["order"]
        response = street.call("POST", f"/orders/{order['id']}/settle", token, json={
            "client_ref": ref(), "left_at": ago(seconds=0), "method": "cash", "amount_fen": 0})
        return response.get_json()["receipt"]

    assert settle_receipt("A001", "沪A30001")["header"] == "Welcome"
    manager = client_as("parkp1")
    saved = manager.post(f"/park-settings/collector/park/{tree.p1.id}", data={
        "prepay_presets": "5", "receipt_header": "Alpha says hello", "receipt_footer": "Bye",
        "refuse_blacklisted": "y", "use_sensor_time": "y", "photo_retention_days": "30"})
    assert saved.status_code == 302
    refused = street.car_in(token, "A002", "沪A30002", prepay={"amount_fen": 500, "method": "cash"})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "prepay_not_allowed"
    assert settle_receipt("A002", "沪A30003")["header"] == "Alpha says hello"
