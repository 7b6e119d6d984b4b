"""Request signatures of the on-site link: HMAC-SHA256 over method, path with query, timestamp,
request id and the SHA-256 of the body. Shared by the server, the simulator, tests and the benchmark."""
from __future__ import annotations

import hashlib
import hmac
import time
import uuid

PARK_HEADER, TIME_HEADER, NONCE_HEADER, SIGNATURE_HEADER = "X-Park-Id", "X-Timestamp", "X-Request-Id", "X-Signature"


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()]).encode()


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(secret.encode(), string_to_sign(method, path, timestamp, nonce, body), hashlib.sha256).hexdigest()


def signed_headers(park_id: int, secret: str, method: str, path: str, body: bytes = b"",
                   now: float | None = None, nonce: str | None = None) -> dict:
    """The headers a site sends with one request (`path` includes the query string)."""
    timestamp = str(int(now if now is not None else time.time()))
    nonce = nonce or uuid.uuid4().hex
    return {PARK_HEADER: str(park_id), TIME_HEADER: timestamp, NONCE_HEADER: nonce,
            SIGNATURE_HEADER: signature(secret, method, path, timestamp, nonce, body)}
