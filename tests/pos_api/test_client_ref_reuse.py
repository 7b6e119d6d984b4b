"""A client_ref names one request: its method, path and body in canonical form. Sent again as it was (keys in
another order, other blanks) it gets the stored first answer with Idempotent-Replay: true; with another body,
or to another address (settling order B with order A's ref), it is 409 client_ref_reused and nothing is
written. Every operation of /pos/v1/openapi.json whose body has a client_ref is covered, and must have a case
here."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from app.berths.models import BerthSegment
from app.core.idempotency import IdempotentRequest
from app.core.types import utcnow
from app.inspections.models import InspectorGroup
from app.inspections.services import raise_task
from app.staff.models import Staff
from pos_api.contract import document
from tests.body_support import snapshot
from tests.openapi_support import takes_client_ref
from tests.pos_api.conftest import ago, ref

JPEG, OTHER_JPEG = b"\xff\xd8\xff\xe0" + b"0" * 100, b"\xff\xd8\xff\xe0" + b"1" * 100
PNG, OTHER_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, b"\x89PNG\r\n\x1a\n" + b"\x01" * 64
IDEMPOTENT = sorted(f"{method.upper()} {path}" for path, operations in document()["paths"].items()
                    for method, operation in operations.items() if takes_client_ref(operation, document()))


@dataclass
class Write:
    """A write that succeeds, the same client_ref with another body, and another address for the same body."""
    token: str
    url: str
    body: dict            # the JSON object, or a form's fields
    changed: dict
    elsewhere: str
    photo: bytes | None = None  # a photo upload: the file (field 'photo')
    changed_photo: bytes | None = None


def _orders(street, token):
    return [street.car_in(token, berth, plate, entered_at=ago(hours=1, minutes=5)).get_json()["order"]["id"]
            for berth, plate in (("A001", "沪A10001"), ("A002", "沪A10002"))]


def _tasks(street, db, tree):
    north = db.session.get(BerthSegment, street.segments[0])
    inspector = db.session.scalar(select(Staff).where(Staff.username == "inspectorp1"))
    db.session.add(InspectorGroup(park_id=tree.p1.id, name="Patrol", segments=[north], inspectors=[inspector]))
    tasks = [raise_task(park_id=tree.p1.id, segment_id=north.id, berth_id=None, kind="other", note=None, at=utcnow())
             for _ in range(2)]
    db.session.commit()
    return [task.id for task in tasks]


def _reports(street, token):
    return [street.call("POST", "/inspector/reports", token, json={
        "client_ref": ref(), "kind": "violation", "note": f"report {n}"}).get_json()["report"]["id"] for n in range(2)]


def shifts(street, db, tree):
    body = {"client_ref": ref(), "segment_id": street.segments[0]}
    return Write(street.login("collectorp1"), "/shifts", body, {**body, "segment_id": street.segments[1]}, "/tracks")


def close_shift(street, db, tree):
    body = {"client_ref": ref()}
    return Write(street.signed_in(), "/shifts/current/close", body, {**body, "password": "anything"}, "/shifts")


def car_in(street, db, tree):
    body = {"client_ref": ref(), "berth_id": street.berths["A001"], "plate": "沪A20001"}
    return Write(street.signed_in(), "/orders", body, {**body, "plate": "沪A20002"}, "/arrears/recover")


def settle(street, db, tree):
    token = street.signed_in()
    a, b = _orders(street, token)
    due = street.call("GET", f"/orders/{a}/quote", token).get_json()["quote"]["due_fen"]
    body = {"client_ref": ref(), "left_at": ago(seconds=1), "method": "cash", "amount_fen": due}
    return Write(token, f"/orders/{a}/settle", body, {**body, "method": "card"}, f"/orders/{b}/settle")


def escape(street, db, tree):
    token = street.signed_in()
    a, b = _orders(street, token)
    body = {"client_ref": ref(), "left_at": ago(seconds=1)}
    return Write(token, f"/orders/{a}/escape", body, {**body, "left_at": ago(seconds=2)}, f"/orders/{b}/escape")


def order_photo(street, db, tree):
    token = street.signed_in()
    a, b = _orders(street, token)
    body = {"client_ref": ref(), "kind": "entry"}
    return Write(token, f"/orders/{a}/photos", body, body, f"/orders/{b}/photos", JPEG, OTHER_JPEG)


def recover(street, db, tree):
    token = street.signed_in()
    a, _b = _orders(street, token)
    arrear = street.call("POST", f"/orders/{a}/escape", token, json={"client_ref": ref(), "left_at": ago(seconds=1)}
                         ).get_json()["arrear"]
    body = {"client_ref": ref(), "arrear_ids": [arrear["id"]], "method": "cash", "amount_fen": arrear["amount_fen"]}
    return Write(token, "/arrears/recover", body, {**body, "method": "card"}, "/orders")


def resolve(street, db, tree):
    one, two = _tasks(street, db, tree)
    body = {"client_ref": ref(), "note": "moved on", "outcome": "done"}
    return Write(street.login("inspectorp1"), f"/inspector/tasks/{one}/resolve", body, {**body, "note": "gone"},
                 f"/inspector/tasks/{two}/resolve")


def task_photo(street, db, tree):
    one, two = _tasks(street, db, tree)
    body = {"client_ref": ref()}
    return Write(street.login("inspectorp1"), f"/inspector/tasks/{one}/photos", body, body,
                 f"/inspector/tasks/{two}/photos", PNG, OTHER_PNG)


def report(street, db, tree):
    body = {"client_ref": ref(), "kind": "violation", "note": "double parked", "lat": 31.23, "lng": 121.47}
    return Write(street.login("inspectorp1"), "/inspector/reports", body, {**body, "lat": 31.24}, "/tracks")


def report_photo(street, db, tree):
    token = street.login("inspectorp1")
    one, two = _reports(street, token)
    body = {"client_ref": ref()}
    return Write(token, f"/inspector/reports/{one}/photos", body, body, f"/inspector/reports/{two}/photos", PNG,
                 OTHER_PNG)


def pay_by_phone(street, db, tree):
    from tests.payments.conftest import make_account

    make_account(db, tree.nodes["city_a"])
    token = street.signed_in()
    a, b = _orders(street, token)
    body = {"client_ref": ref(), "channel": "native"}
    return Write(token, f"/orders/{a}/payments", body, {"client_ref": body["client_ref"]}, f"/orders/{b}/payments")


def track(street, db, tree):
    point = {"lat": 31.23, "lng": 121.47, "recorded_at": ago(minutes=1)}
    body = {"client_ref": ref(), "points": [point]}
    return Write(street.signed_in(), "/tracks", body, {**body, "points": [{**point, "lat": 31.24}]}, "/orders")


CASES = {"POST /shifts": shifts, "POST /shifts/current/close": close_shift, "POST /orders": car_in,
         "POST /orders/{order_id}/settle": settle, "POST /orders/{order_id}/escape": escape,
         "POST /orders/{order_id}/photos": order_photo, "POST /arrears/recover": recover,
         "POST /inspector/tasks/{task_id}/resolve": resolve, "POST /inspector/tasks/{task_id}/photos": task_photo,
         "POST /inspector/reports": report, "POST /inspector/reports/{report_id}/photos": report_photo,
         "POST /orders/{order_id}/payments": pay_by_phone, "POST /tracks": track}


def test_every_operation_with_a_client_ref_has_a_case():
    assert IDEMPOTENT == sorted(CASES)


def _send(street, write: Write, url: str, body: dict, photo: bytes | None, *, reordered: bool = False):
    """The write's request; reordered: the keys (and form fields) in reverse order, JSON indented."""
    if reordered:
        body = dict(reversed(list(body.items())))
    if write.photo is not None:
        form = {**body, "photo": (io.BytesIO(photo), "p.jpg")}
        if reordered:
            form = dict(reversed(list(form.items())))
        return street.call("POST", url, write.token, data=form, content_type="multipart/form-data")
    if reordered:
        return street.call("POST", url, write.token, data=json.dumps(body, indent=4, ensure_ascii=False),
                           content_type="application/json")
    return street.call("POST", url, write.token, json=body)


@pytest.mark.parametrize("operation", sorted(CASES))
def test_a_client_ref_replays_its_request_and_refuses_another(operation, street, tree, db, app, tmp_path,
                                                              monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path))
    write = CASES[operation](street, db, tree)
    first = _send(street, write, write.url, write.body, write.photo)
    assert first.status_code in (200, 201), first.get_json()
    before = snapshot(db)
    again = _send(street, write, write.url, write.body, write.photo, reordered=True)
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    assert again.headers.get("Idempotent-Replay") == "true"
    changed_photo = write.changed_photo if write.photo is not None else None
    for url, body, photo in ((write.url, write.changed, changed_photo), (write.elsewhere, write.body, write.photo)):
        refused = _send(street, write, url, body, photo)
        assert refused.status_code == 409, (url, refused.get_json())
        assert refused.get_json()["error"]["code"] == "client_ref_reused" and "Idempotent-Replay" not in refused.headers
    assert snapshot(db) == before


def test_settling_order_b_with_the_ref_of_order_as_settlement_leaves_b_open(street, db, tree):
    write = settle(street, db, tree)
    assert _send(street, write, write.url, write.body, None).status_code == 200
    refused = _send(street, write, write.elsewhere, write.body, None)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "client_ref_reused"
    other = write.elsewhere.split("/")[2]
    assert street.call("GET", f"/orders/{other}/quote", write.token).status_code == 200  # still open: quotable


def test_a_first_answer_kept_before_fingerprints_replays_on_its_endpoint(street, db, tree):
    """Rows stored before migration 0008 have no fingerprint: compared by endpoint, as they were."""
    write = car_in(street, db, tree)
    first = _send(street, write, write.url, write.body, None)
    db.session.execute(update(IdempotentRequest).values(fingerprint=None))
    db.session.commit()
    again = _send(street, write, write.url, write.changed, None)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replay") == "true"
    refused = _send(street, write, write.elsewhere, write.body, None)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "client_ref_reused"
