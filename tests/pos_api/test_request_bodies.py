"""Bodies at the door of the device API, for every operation of /pos/v1/openapi.json that takes one (a new
endpoint is covered without anyone remembering): a body larger than the endpoint takes is 413 before the
token is checked, announced ones unread and streamed ones read no further than the limit; JSON nested too
deep, bytes that are not JSON, or a body of another type is 400 malformed_json, with a token or without."""
import pytest

from app.orders.photos import MAX_BYTES as PHOTO_BYTES
from pos_api.contract import document
from tests.body_support import MIB, MULTIPART, Counted, json_padded, multipart, send
from tests.factories import PASSWORD
from tests.openapi_support import body_type, operations
from tests.sensors.helpers import sensored  # noqa: F401  (station keys for /sensor-events and /stations)

BODIES = [(method, url, body_type(op)) for method, url, op in operations(document(), "/pos/v1") if body_type(op)]
JSON_BODIES = [(method, url) for method, url, kind in BODIES if kind == "application/json"]
LIMITS = {"application/json": MIB, "multipart/form-data": PHOTO_BYTES + 64 * 1024}  # a photo, and its form
DEEP = {"arrays": b"[" * 100_000, "objects": b'{"a":' * 100_000}


def test_every_body_is_json_or_a_photo_form():
    assert {kind for *_, kind in BODIES} == set(LIMITS)
    assert sorted(url for _m, url, kind in BODIES if kind == "multipart/form-data") == [
        "/pos/v1/inspector/reports/1/photos", "/pos/v1/inspector/tasks/1/photos", "/pos/v1/orders/1/photos"]


def _body(kind: str, size: int | None):
    return (json_padded(size), "application/json") if kind == "application/json" else (multipart(size), MULTIPART)


def _credentials(url: str, world) -> dict:
    """What this endpoint's caller signs in with: a station key, or a token of the role the path names."""
    if url.startswith(("/pos/v1/sensor-events", "/pos/v1/stations")):
        return {"X-Station-Key": world.keys["p1"]}
    token = world.street.login("inspectorp1") if "/inspector/" in url else world.street.signed_in()
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("method,url,kind", BODIES)
def test_a_body_over_the_limit_is_413_before_the_token_and_is_not_read(sensored, method, url, kind):
    limit = LIMITS[kind]
    for headers in ({}, _credentials(url, sensored)):
        body, content_type = _body(kind, limit + 1)
        answer = send(sensored.street.client, method, url, body, content_length=limit + 1,
                      content_type=content_type, headers=headers)
        assert answer.status_code == 413 and answer.get_json()["error"]["code"] == "payload_too_large", url
        assert body.read_bytes == 0
    body, content_type = _body(kind, limit)  # at the limit: read, and answered by the endpoint
    answer = send(sensored.street.client, method, url, body, content_length=limit, content_type=content_type)
    assert answer.status_code != 413 and body.read_bytes == limit


@pytest.mark.parametrize("method,url,kind", BODIES)
def test_a_streamed_body_is_cut_at_the_limit(sensored, method, url, kind):
    limit = LIMITS[kind]
    for headers in ({}, _credentials(url, sensored)):
        body, content_type = _body(kind, None)  # endless, without Content-Length
        answer = send(sensored.street.client, method, url, body, content_length=None, content_type=content_type,
                      headers=headers)
        assert answer.status_code == 413 and answer.get_json()["error"]["code"] == "payload_too_large", url
        assert body.read_bytes == limit + 1


def test_a_streamed_body_under_the_limit_is_read_whole(street):
    body = b'{"username": "collectorp1", "password": "%s", "device_serial": "POS-P1-A"}' % PASSWORD.encode()
    answer = send(street.client, "POST", "/pos/v1/session", Counted(body, len(body)), content_length=None,
                  content_type="application/json")
    assert answer.status_code == 201 and answer.get_json()["token"]


@pytest.mark.parametrize("method,url", JSON_BODIES)
def test_deep_json_is_400_malformed_with_a_token_or_without(sensored, method, url):
    for headers in ({}, _credentials(url, sensored)):
        for name, data in DEEP.items():
            answer = sensored.street.client.open(url, method=method, data=data, headers=headers,
                                                 content_type="application/json")
            assert answer.status_code == 400, (url, name, answer.get_json())
            assert answer.get_json()["error"]["code"] == "malformed_json"


NOT_A_JSON_OBJECT = [("text/plain", b'{"client_ref": "0123456789abcdef"}'),
                     (None, b'{"client_ref": "0123456789abcdef"}'),
                     ("application/x-www-form-urlencoded", b"client_ref=0123456789abcdef"),
                     ("application/json", b"not json"), ("application/json", b""),
                     ("application/json", b'["client_ref"]'), ("application/json", b'{"client_ref": "abc\xff"}')]


@pytest.mark.parametrize("method,url", JSON_BODIES)
def test_a_body_that_is_not_a_json_object_is_400_malformed(sensored, method, url):
    headers = _credentials(url, sensored)
    for content_type, data in NOT_A_JSON_OBJECT:
        answer = sensored.street.client.open(url, method=method, data=data, headers=headers,
                                             content_type=content_type)
        assert answer.status_code == 400, (url, content_type, data, answer.get_json())
        assert answer.get_json()["error"]["code"] == "malformed_json"


def test_the_depth_limit_is_32_and_brackets_in_texts_do_not_count(street):
    token = street.signed_in()

    def track(data: str):
        return street.call("POST", "/tracks", token, data=data, content_type="application/json")

    def nested(depth: int) -> str:  # the object is the first level
        return '{"client_ref": "0123456789abcdef", "datum": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"

    assert track(nested(32)).get_json()["error"]["code"] == "validation_failed"  # read, then refused as points
    assert track(nested(33)).get_json()["error"]["code"] == "malformed_json"
    texts = '{"client_ref": "0123456789abcdef", "datum": "' + "[{" * 5000 + '", "points": []}'
    assert track(texts).get_json()["error"]["code"] == "validation_failed"


def test_the_largest_batches_the_document_allows_fit_in_a_json_body():
    """A full GPS batch (5,000 points) and a full sensor batch (1,000 events), as a phone or a station writes
    them, stay under the 1 MB of a JSON body."""
    import json

    point = {"lat": -31.2345678, "lng": -121.4567890, "recorded_at": "2026-05-01T08:00:00.123456+08:00",
             "accuracy_m": 12.5, "speed_mps": 1.25}
    event = {"client_ref": "8c3c1f9e-6a1b-4c1e-9d6e-3f1b2a4c5d6e", "sensor_serial": "GEO-0123456789-ABCDEF",
             "kind": "heartbeat", "occurred_at": "2026-05-01T08:00:00.123456+08:00", "battery_mv": 3600,
             "magnet": False}
    tracks = json.dumps({"client_ref": event["client_ref"], "datum": "wgs84", "points": [point] * 5000})
    events = json.dumps({"events": [event] * 1000})
    assert len(tracks.encode()) < MIB and len(events.encode()) < MIB
