"""Bodies at the door of the on-site link, for every operation of /sync/v1/openapi.json that takes one: a body
larger than the operation takes is 413 before the signature is checked (announced ones unread, streamed ones
read no further than the limit); JSON nested too deep, not JSON or sent as another type is 400
malformed_json, signed or not."""
import pytest

from app.sync.openapi import document
from app.sync.signing import signed_headers
from tests.body_support import MIB, Counted, json_padded, send
from tests.openapi_support import body_type, operations

BODIES = [(method, url) for method, url, op in operations(document(), "/sync/v1") if body_type(op)]
LIMITS = {"/sync/v1/uploads": 16 * MIB}  # a batch of up to 500 items; every other body 1 MB


def test_every_body_is_json():
    assert {body_type(op) for *_, op in operations(document(), "/sync/v1") if body_type(op)} == {"application/json"}
    assert ("POST", "/sync/v1/uploads") in BODIES and len(BODIES) >= 4


def _signed(site, method: str, url: str, body: bytes = b"") -> dict:
    return signed_headers(site.park.id, site.secret, method, url, body)


@pytest.mark.parametrize("method,url", BODIES)
def test_a_body_over_the_limit_is_413_before_the_signature_and_is_not_read(app, site, method, url):
    limit = LIMITS.get(url, MIB)
    for headers in ({}, _signed(site, method, url)):
        body = json_padded(limit + 1)
        answer = send(app.test_client(), method, url, body, content_length=limit + 1,
                      content_type="application/json", headers=headers)
        assert answer.status_code == 413 and answer.get_json()["error"]["code"] == "payload_too_large"
        assert body.read_bytes == 0
    data = json_padded(limit).read()  # at the limit: read, signed, and answered by the operation
    answer = send(app.test_client(), method, url, Counted(data, limit), content_length=limit,
                  content_type="application/json", headers=_signed(site, method, url, data))
    assert answer.status_code in (200, 422), answer.get_json()  # {} is a heartbeat, and too little elsewhere


@pytest.mark.parametrize("method,url", BODIES)
def test_a_streamed_body_is_cut_at_the_limit(app, site, method, url):
    limit = LIMITS.get(url, MIB)
    for headers in ({}, _signed(site, method, url)):
        body = json_padded(None)
        answer = send(app.test_client(), method, url, body, content_length=None, content_type="application/json",
                      headers=headers)
        assert answer.status_code == 413 and answer.get_json()["error"]["code"] == "payload_too_large"
        assert body.read_bytes == limit + 1


def test_a_streamed_body_under_the_limit_is_read_whole(app, site):
    data = b'{"version": "lane-1.2", "devices": {}}'
    answer = send(app.test_client(), "POST", "/sync/v1/heartbeat", Counted(data, len(data)), content_length=None,
                  content_type="application/json", headers=_signed(site, "POST", "/sync/v1/heartbeat", data))
    assert answer.status_code == 200 and answer.get_json()["ok"] is True


BAD = {"deep arrays": ("application/json", b"[" * 100_000), "deep objects": ("application/json", b'{"a":' * 100_000),
       "not json": ("application/json", b"items"), "an array": ("application/json", b"[]"),
       "text/plain": ("text/plain", b'{"items": []}'), "no type": (None, b'{"items": []}'),
       "a form": ("application/x-www-form-urlencoded", b"items=1")}


@pytest.mark.parametrize("method,url", BODIES)
def test_a_body_that_is_not_a_json_object_is_400_malformed_signed_or_not(app, site, method, url):
    client = app.test_client()
    for name, (content_type, data) in BAD.items():
        for headers in ({}, _signed(site, method, url, data)):
            answer = client.open(url, method=method, data=data, headers=headers, content_type=content_type)
            assert answer.status_code == 400, (name, answer.get_json())
            assert answer.get_json()["error"]["code"] == "malformed_json"
