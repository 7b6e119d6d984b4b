"""Request bodies: how large a route takes, the one JSON reader of the device APIs (/pos/v1, /sync/v1)
and the fingerprint that names a request for idempotency.

Every route takes at most MAX_CONTENT_LENGTH bytes (config) unless it declares its own limit with
`body_limit` (photos, imports, lane uploads). The app's first before_request asks `body_fits()` and answers
413 before any work when the body is larger: from its Content-Length, without reading it; a streamed body
(chunked, without Content-Length) is read up to the limit and no further."""
from __future__ import annotations

import hashlib
import io
import json
import re

from flask import current_app, request

from app.core.errors import BadRequest

MAX_DEPTH = 32  # arrays and objects inside each other; the deepest a client sends has 5 (an upload's payments)
MULTIPART_ENVELOPE = 64 * 1024  # boundaries, part headers and the small fields beside an uploaded file
_OPENING = frozenset(b"[{")
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_PARSED = "parkingos.json_object"  # kept in the request's environ (`g` may outlive a request: tests, CLI)


def body_limit(max_bytes: int):
    """Declare that a route takes bodies of up to `max_bytes` (instead of MAX_CONTENT_LENGTH)."""

    def decorator(view):
        view.max_body_bytes = max_bytes
        return view

    return decorator


def route_limit() -> int | None:
    """The body limit of the route this request goes to."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "max_body_bytes", None) or current_app.config["MAX_CONTENT_LENGTH"]


def body_fits() -> bool:
    """Whether the body is within its route's limit (which it also sets as the request's limit)."""
    limit = request.max_content_length = route_limit()
    if limit is None:
        return True
    environ = request.environ
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        # without the server's promise to end the stream werkzeug reads nothing of it
        return "wsgi.input_terminated" not in environ or _take_streamed(environ, limit)
    length = request.content_length
    return length is None or length <= limit


def _take_streamed(environ, limit: int) -> bool:
    """Read a streamed body up to one byte past the limit; when it fits, hand it on as if its length had been
    announced (werkzeug would stop a larger one at the limit and give the part read as the whole body)."""
    stream, data = environ["wsgi.input"], bytearray()
    while len(data) <= limit:
        chunk = stream.read(min(64 * 1024, limit + 1 - len(data)))
        if not chunk:
            break
        data += chunk
    if len(data) > limit:
        return False
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(bytes(data)), str(len(data))
    del environ["HTTP_TRANSFER_ENCODING"]
    return True


def json_object() -> dict:
    """The body as a JSON object, parsed once per request. Anything else is 400 malformed_json: another
    content type, bytes that are not JSON (UTF-8/16/32), JSON nested deeper than MAX_DEPTH (Python's parser
    has no depth limit of its own and fails by recursion, deep inside), or a JSON value that is not an object."""
    parsed = request.environ.get(_PARSED)
    if parsed is not None:
        return parsed
    if not request.is_json:
        raise _malformed("Send a JSON object with Content-Type: application/json.")
    data = request.get_data(cache=True)
    # counting brackets runs at C speed; only a body with many of them is scanned for its depth
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH and _too_deep(data):
        raise _malformed(f"JSON nested deeper than {MAX_DEPTH} levels is refused.")
    try:
        parsed = json.loads(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise _malformed("The body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise _malformed("Send a JSON object ({...}) as the body.")
    request.environ[_PARSED] = parsed
    return parsed


def _too_deep(data: bytes) -> bool:
    """Whether arrays and objects nest deeper than MAX_DEPTH, brackets inside texts left out."""
    depth = 0
    for byte in _STRING.sub(b"", data).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in _OPENING else -1
        if depth > MAX_DEPTH:
            return True
    return False


def _malformed(message: str) -> BadRequest:
    return BadRequest("malformed_json", message)


def digest(value) -> str:
    """128 bits of SHA-256 (hex) over `value` as canonical JSON: sorted keys, no blanks, ASCII. Two bodies
    that differ only in key order or spacing have the same digest."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def request_fingerprint(*, form: bool = False) -> str:
    """What names this request for idempotency: its method, path and body (the JSON object; with form=True
    the form's fields and the SHA-256 of each uploaded file)."""
    if form:
        body = {"fields": sorted(request.form.items(multi=True), key=repr),
                "files": sorted(((name, _file_sha256(upload)) for name, upload in request.files.items(multi=True)),
                                key=repr)}
    else:
        body = json_object()
    return digest([request.method, request.path, body])


def _file_sha256(upload) -> str:
    upload.stream.seek(0)
    hashed = hashlib.sha256(upload.stream.read()).hexdigest()
    upload.stream.seek(0)  # the view reads the file next
    return hashed
