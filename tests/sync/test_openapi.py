"""Schemathesis drives every operation of /sync/v1/openapi.json with generated requests, each signed with
the site's secret: no answer may be a 5xx, and every answer must match the document."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)
from schemathesis.transport.wsgi import WSGI_TRANSPORT
from werkzeug.test import EnvironBuilder

from app.core.types import utcnow
from app.sync.openapi import document
from app.sync.signing import signed_headers
from tests.openapi_support import resolve, undocumented_routes, untyped_objects

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
schema = schemathesis.openapi.from_dict(document())


def _signed(case, site) -> dict:
    """Sign the request exactly as the WSGI transport will send it (path, encoded query and body bytes)."""
    request = EnvironBuilder(**WSGI_TRANSPORT.serialize_case(case)).get_request()
    path = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
    return signed_headers(site.park.id, site.secret, case.method, path, request.get_data())


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_site_api_never_fails_and_matches_its_document(case, app, site):
    case.call_and_validate(app=app, headers=_signed(case, site), checks=CHECKS)


def _call(app, site, path, method, **parts):
    case = schema[path][method].Case(**parts)
    return case.call_and_validate(app=app, headers=_signed(case, site), checks=CHECKS).json()


def test_accepted_items_the_feed_and_commands_match_the_document(app, db, site, tree):
    """The fuzzer rarely names a real lane or product: walk the answers it seldom reaches."""
    from app.lanes.models import Lane
    from app.members.models import MonthlyProduct
    from app.sync.services import queue_command

    product = MonthlyProduct(name="Garage month", price_fen=30000)
    product.anchor_at(tree.a2)
    db.session.add(product)
    assert site.client.heartbeat("1.0")[0] == 200  # a command goes to a site that is online
    command = queue_command(None, db.session.get(Lane, site.exit), "lift", "stuck")
    db.session.commit()
    at = utcnow().isoformat()
    items = [{"kind": "entry", "site_id": "e-1", "plate": "粤B12345", "lane_id": site.entry, "at": at},
             {"kind": "settlement", "site_id": "s-1", "order_site_id": "e-1", "at": at, "fee_fen": 0},
             {"kind": "exit", "site_id": "x-1", "order_site_id": "e-1", "lane_id": site.exit, "at": at},
             {"kind": "lift", "site_id": "l-1", "lane_id": site.exit, "at": at, "reason": "stuck"},
             {"kind": "pass_sale", "site_id": "p-1", "product_id": product.id, "holder_name": "Zhao",
              "plates": ["粤B55555"], "starts_on": utcnow().date().isoformat(), "months": 1, "at": at},
             {"kind": "exit", "site_id": "x-2", "order_site_id": "nobody", "lane_id": site.exit, "at": at}]
    answer = _call(app, site, "/uploads", "POST", body={"items": items})
    assert [r["status"] for r in answer["results"]] == ["ok"] * 5 + ["refused"]
    assert _call(app, site, "/changes", "GET", query={"after": 0})["snapshot"] is True
    later = _call(app, site, "/changes", "GET", query={"after": 1, "limit": 5})
    assert not later["snapshot"] and later["changes"] and later["commands"][0]["id"] == command.id
    assert _call(app, site, "/changes/ack", "POST", body={"seq": later["seq"]})["acked_seq"] == later["seq"]
    _call(app, site, "/commands/{command_id}/result", "POST", path_parameters={"command_id": command.id},
          body={"ok": True, "message": "opened"})
    assert _call(app, site, "/heartbeat", "POST", body={"devices": {"lane": [site.entry, 99999]}})[
        "unknown_devices"] == {"lane": [99999]}


def test_the_document_is_public_and_names_every_route(app, client):
    answer = client.get("/sync/v1/openapi.json")
    assert answer.status_code == 200
    doc = answer.get_json()
    assert doc["openapi"].startswith("3.") and "signature" in doc["components"]["securitySchemes"]
    assert undocumented_routes(app, doc, "/sync/v1") == []


def test_the_document_lists_every_upload_kind():
    from app.sync.uploads import KINDS

    doc = document()
    items = resolve(doc, doc["paths"]["/uploads"]["post"]["requestBody"]["content"]["application/json"]["schema"])
    schemas = doc["components"]["schemas"]
    kinds = {schemas[ref["$ref"].rsplit("/", 1)[1]]["properties"]["kind"]["const"]
             for ref in items["properties"]["items"]["items"]["oneOf"]}
    assert kinds == set(KINDS)


def test_edge_inputs_are_refused_not_crashed(app, site):
    """Found by hand beside the fuzzer (it does not generate them); each was a 500: int() of "²" or of 5,000
    digits, an id past the driver's range, NUL or a lone surrogate in a text, JSON nested past the parser's stack."""
    for query in ({"after": "²"}, {"limit": "1" * 5000}):
        status, answer = site.client.call("GET", "/changes", query=query)
        assert status == 422 and answer["error"]["code"] == "validation_failed"
    status, answer = site.client.call("POST", f"/commands/{2**64}/result", {"ok": True})
    assert status == 404 and answer["error"]["code"] == "command_not_found"
    for text in ("a\x00b", "a\ud800b"):
        assert site.client.call("POST", "/commands/1/result", {"ok": True, "message": text})[0] == 422
        assert site.client.heartbeat(text)[0] == 422
    body = b"[" * 100_000
    headers = {"Content-Type": "application/json",
               **signed_headers(site.park.id, site.secret, "POST", "/sync/v1/heartbeat", body)}
    nested = app.test_client().post("/sync/v1/heartbeat", data=body, headers=headers)
    assert nested.status_code == 400 and nested.get_json()["error"]["code"] == "malformed_json"


def test_a_lone_surrogate_in_an_upload_refuses_the_item_only(site):
    at = utcnow().isoformat()
    status, answer = site.client.upload([
        {"kind": "lift", "site_id": "l-1", "lane_id": site.entry, "at": at, "reason": "a\ud800b"},
        {"kind": "lift", "site_id": "l-\ud800", "lane_id": site.entry, "at": at, "reason": "stuck"},
        {"kind": "lift", "site_id": "l-2", "lane_id": site.entry, "at": at, "reason": "stuck"}])
    assert status == 200
    assert [r["status"] for r in answer["results"]] == ["refused", "refused", "ok"]
    assert "reason" in answer["results"][0]["error"]["fields"]
    assert "site_id" in answer["results"][1]["error"]["fields"]


def test_the_document_is_valid_and_every_success_is_typed():
    from openapi_spec_validator import validate

    doc = document()
    validate(doc)
    assert untyped_objects(doc) == []
    alive = doc["components"]["schemas"]["Alive"]["properties"]["ok"]
    assert alive == {"const": True, "title": "Ok", "type": "boolean"}
    ids = [op["operationId"] for methods in doc["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids)) and all(op.get("tags") and op.get("summary") for methods in doc["paths"].values()
                                             for op in methods.values())


def test_times_are_sent_in_the_parks_offset(site):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    status, answer = site.client.call("GET", "/time")
    offset = datetime.now(ZoneInfo(answer["timezone"])).strftime("%z")
    assert status == 200 and answer["now"].endswith(offset[:3] + ":" + offset[3:])
    assert site.client.heartbeat("2.1.0")[1]["server_time"].endswith(offset[:3] + ":" + offset[3:])
