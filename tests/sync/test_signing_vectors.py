"""docs/sync.md's worked signing examples are what app/sync/signing.py computes, and what the server accepts:
a third party can sign from the document alone."""
import re
from pathlib import Path

from app.sync.signing import signature, string_to_sign

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "sync.md"
VECTOR = re.compile(r"```vector\n(.*?)```\s*```canonical\n(.*?)\n```\s*```signature\n(.*?)\n```", re.DOTALL)


def vectors() -> list[tuple[dict, str, str]]:
    found = []
    for given, canonical, signed in VECTOR.findall(GUIDE.read_text(encoding="utf-8")):
        fields = dict(line.split(": ", 1) if ": " in line else (line.rstrip(":"), "")
                      for line in given.splitlines())
        found.append((fields, canonical, signed))
    return found


def test_the_guide_has_examples_with_a_query_without_one_and_with_a_body():
    paths = [fields["path"] for fields, *_ in vectors()]
    assert len(paths) == 3 and any("?" in p for p in paths) and any("?" not in p for p in paths)
    assert any(fields["body"] for fields, *_ in vectors())


def test_the_guides_canonical_strings_and_signatures_are_the_codes():
    for fields, canonical, signed in vectors():
        parts = (fields["method"], fields["path"], fields["timestamp"], fields["request id"], fields["body"].encode())
        assert string_to_sign(*parts) == canonical.encode()
        assert not canonical.endswith("\n") and canonical.count("\n") == 4
        assert signature(fields["secret"], *parts) == signed


def test_a_request_signed_as_the_guide_says_is_accepted(app, site):
    """The recipe, followed by hand (hmac over the documented string), signs a request the server takes."""
    import hashlib
    import hmac
    import time
    import uuid

    body = b'{"version":"2.1.0"}'
    stamp, nonce = str(int(time.time())), uuid.uuid4().hex
    canonical = "\n".join(["POST", "/sync/v1/heartbeat", stamp, nonce, hashlib.sha256(body).hexdigest()])
    signed = hmac.new(site.secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()
    answer = app.test_client().post("/sync/v1/heartbeat", data=body, content_type="application/json", headers={
        "X-Park-Id": str(site.park.id), "X-Timestamp": stamp, "X-Request-Id": nonce, "X-Signature": signed})
    assert answer.status_code == 200 and answer.get_json()["ok"] is True
