"""The /pos/v1 contract as an integrator reads it: a valid OpenAPI document generated from the models, every
success typed, every operation named and exampled, and the conventions it states (local times, CNY, pages,
one shape per error code) kept by the server."""
import typing
from datetime import datetime

import jsonschema
import pytest
from openapi_spec_validator import validate

from app.orders.models import OrderState
from app.parks.services import VEHICLE_CLASSES
from pos_api import contract
from pos_api.contract import document
from tests.openapi_support import check_answer, resolve, untyped_objects
from tests.pos_api.conftest import ago, ref

DOC = document()


def test_the_document_is_valid_openapi_and_served_as_generated(client):
    validate(DOC)
    served = client.get("/pos/v1/openapi.json")
    assert served.status_code == 200 and served.get_json() == DOC


def test_no_success_answer_is_an_untyped_object():
    assert untyped_objects(DOC) == []


def test_every_operation_is_named_tagged_and_exampled_and_its_example_matches():
    ids = []
    for path, methods in DOC["paths"].items():
        for method, op in methods.items():
            ids.append(op["operationId"])
            assert op["summary"] and op["tags"], f"{method} {path}"
            success = min(s for s in op["responses"] if s.startswith("2"))
            media = op["responses"][success]["content"]["application/json"]
            check_answer(DOC, "/pos/v1", method.upper(), "/pos/v1" + path, int(success), media["example"])
    assert len(ids) == len(set(ids))


def test_writes_declare_the_replay_header_and_station_keys_have_their_own_schemes():
    for path, methods in DOC["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {})
            if any("client_ref" in resolve(DOC, m["schema"]).get("required", []) for m in body.values()):
                assert all("Idempotent-Replay" in a.get("headers", {})
                           for s, a in op["responses"].items() if s.startswith("2")), f"{method} {path}"
    assert DOC["paths"]["/sensor-events"]["post"]["security"] == [{"stationKey": []}, {"stationBearer": []}]
    assert DOC["components"]["securitySchemes"]["stationKey"]["in"] == "header"


def test_the_documented_enums_are_the_servers():
    assert set(typing.get_args(contract.VehicleClass)) == set(VEHICLE_CLASSES)
    assert set(typing.get_args(contract.State)) == {s.value for s in OrderState}


def test_each_error_code_has_one_shape():
    schemas = DOC["components"]["schemas"]
    fee_changed = schemas["FeeChangedError"]["properties"]["error"]
    assert "quote" in fee_changed["required"] and fee_changed["properties"]["quote"] == {
        "$ref": "#/components/schemas/Quote", "description": fee_changed["properties"]["quote"]["description"]}
    settle = DOC["paths"]["/orders/{order_id}/settle"]["post"]["responses"]
    recover = DOC["paths"]["/arrears/recover"]["post"]["responses"]
    assert "FeeChangedError" in str(settle["409"]) and "FeeChangedError" not in str(recover["409"])
    assert "ArrearsChangedError" in str(recover["409"])


def test_a_body_that_is_not_json_is_400_malformed_json(street):
    token = street.signed_in()
    for data, kind in ((b"client_ref=abcdefgh", "application/x-www-form-urlencoded"), (b"{nope", "application/json"),
                       (b"[1]", "application/json")):
        answer = street.call("POST", "/orders", token, data=data, content_type=kind)
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "malformed_json"


def test_wrong_fields_are_named_by_their_path(street):
    token = street.signed_in()
    answer = street.call("POST", "/orders", token, json={
        "client_ref": ref(), "berth_id": "1", "plate": 7, "prepay": {"amount_fen": 0, "method": "gold"}})
    assert answer.status_code == 422
    assert set(answer.get_json()["error"]["fields"]) == {"berth_id", "plate", "prepay.amount_fen", "prepay.method"}


def test_times_are_sent_in_the_parks_offset_and_money_in_cny(street):
    token = street.signed_in()
    order = street.car_in(token, "A001", "沪A12345", entered_at=ago(hours=1)).get_json()["order"]
    assert order["entered_at"].endswith("+08:00") and order["currency"] == "CNY"
    quote = street.call("GET", f"/orders/{order['id']}/quote", token).get_json()["quote"]
    assert quote["left_at"].endswith("+08:00") and quote["currency"] == "CNY"
    assert all(line["start"].endswith("+08:00") for line in quote["lines"])
    stale = street.call("POST", f"/orders/{order['id']}/settle", token, json={
        "client_ref": ref(), "left_at": ago(seconds=1), "method": "cash", "amount_fen": 1})
    error = stale.get_json()["error"]
    assert error["code"] == "fee_changed" and error["quote"]["currency"] == "CNY"
    assert error["quote"]["left_at"].endswith("+08:00")
    done = street.call("POST", f"/orders/{order['id']}/settle", token, json={
        "client_ref": ref(), "left_at": ago(seconds=1), "method": "cash", "amount_fen": error["quote"]["due_fen"]})
    receipt = done.get_json()["receipt"]
    assert receipt["left_at"].endswith("+08:00") and receipt["currency"] == "CNY"
    assert datetime.fromisoformat(receipt["left_at"]) == datetime.fromisoformat(done.get_json()["order"]["left_at"])


def test_open_orders_come_a_page_at_a_time(street):
    token = street.signed_in()
    for berth, plate, hours in (("A001", "沪A00001", 3), ("A002", "沪A00002", 2), ("A003", "沪A00003", 1)):
        assert street.car_in(token, berth, plate, entered_at=ago(hours=hours)).status_code == 201
    first = street.call("GET", "/orders?limit=2", token).get_json()
    assert [o["plate"] for o in first["orders"]] == ["沪A00001", "沪A00002"] and first["next"]
    second = street.call("GET", f"/orders?limit=2&after={first['next']}", token).get_json()
    assert [o["plate"] for o in second["orders"]] == ["沪A00003"] and second["next"] is None
    everything = street.call("GET", "/orders", token).get_json()
    assert len(everything["orders"]) == 3 and everything["next"] is None
    for bad in ("nonsense", "MjAyNg", "x" * 300):
        refused = street.call("GET", f"/orders?after={bad}", token)
        assert refused.status_code == 422 and "after" in refused.get_json()["error"]["fields"]


@pytest.mark.parametrize("limit", ["0", "201", "two"])
def test_page_sizes_are_bounded(street, limit):
    token = street.signed_in()
    refused = street.call("GET", f"/orders?limit={limit}", token)
    assert refused.status_code == 422 and "limit" in refused.get_json()["error"]["fields"]


def test_a_recovery_with_the_wrong_total_answers_arrears_changed(street):
    token = street.signed_in()
    order = street.car_in(token, "A001", "沪A12345", entered_at=ago(hours=1)).get_json()["order"]
    arrear = street.call("POST", f"/orders/{order['id']}/escape", token, json={
        "client_ref": ref(), "left_at": ago(seconds=1)}).get_json()["arrear"]
    refused = street.call("POST", "/arrears/recover", token, json={
        "client_ref": ref(), "arrear_ids": [arrear["id"]], "method": "cash", "amount_fen": arrear["amount_fen"] + 1})
    error = refused.get_json()["error"]
    assert refused.status_code == 409 and error["code"] == "arrears_changed"
    assert error["due_fen"] == arrear["amount_fen"] and error["arrears"] == [
        {"id": arrear["id"], "amount_fen": arrear["amount_fen"]}]


def test_an_answer_outside_the_document_is_caught():
    """The checker the flow tests use does fail: a missing field, an unlisted status, a foreign error code."""
    good = {"signed_out": True}
    check_answer(DOC, "/pos/v1", "DELETE", "/pos/v1/session", 200, good)
    for status, body in ((200, {}), (201, good), (401, {"error": {"code": "made_up", "message": "", "fields": {}}})):
        with pytest.raises(AssertionError):
            check_answer(DOC, "/pos/v1", "DELETE", "/pos/v1/session", status, body)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"orders": [], "next": 3}, {**resolve(DOC, {"$ref": "#/components/schemas/OrderPage"}),
                                                        "components": DOC["components"]})
