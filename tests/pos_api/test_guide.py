"""docs/device-api.md's walkthrough, replayed against a seeded street: every ```http request block is sent,
and the ```json block after it is the answer (status, then body) the server must give, so the guide cannot
drift from the server. In the answers, "<int>", "<text>", "<time>" (ISO 8601 in the park's offset) stand for
any such value, "<int:name>" also keeps the value as {name} for later requests, and a key "..." allows keys
not shown (in a list's only item: every item is like it). In the requests, {name} is a kept value, {ref} a
new client_ref and {ago:M} a time M minutes ago."""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.factories import PASSWORD

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "device-api.md"
BLOCK = re.compile(r"```(http|json)\n(.*?)```", re.DOTALL)
PLACEHOLDER = re.compile(r"^<(int|text|time)(?::(\w+))?>$")
PARK_OFFSET = "+08:00"


def walkthrough() -> list[tuple[str, str]]:
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("## Walkthrough"):]
    section = section[:section.index("\n## ", 3)] if "\n## " in section[3:] else section
    return [(kind, body) for kind, body in BLOCK.findall(section)]


def _fill(text: str, kept: dict) -> str:
    def value(match):
        name = match.group(1)
        if name == "ref":
            return str(uuid.uuid4())
        if name.startswith("ago:"):
            return (datetime.now(timezone.utc) - timedelta(minutes=int(name[4:]))).isoformat()
        return str(kept[name])
    return re.sub(r"\{([a-z_]+(?::\d+)?)\}", value, text)


def _request(block: str, kept: dict):
    head, _, body = _fill(block, kept).partition("\n\n")
    method, path = head.splitlines()[0].split(" ", 1)
    headers = dict(line.split(": ", 1) for line in head.splitlines()[1:])
    return method, path, headers, json.loads(body) if body.strip() else None


def _match(expected, actual, where: str, kept: dict) -> None:
    if isinstance(expected, str) and PLACEHOLDER.match(expected):
        kind, name = PLACEHOLDER.match(expected).groups()
        if kind == "int":
            assert isinstance(actual, int) and not isinstance(actual, bool), f"{where}: {actual!r} is not a number"
        else:
            assert isinstance(actual, str), f"{where}: {actual!r} is not a text"
        if kind == "time":
            assert actual.endswith(PARK_OFFSET) and datetime.fromisoformat(actual), f"{where}: {actual} not local"
        if name:
            kept[name] = actual
    elif isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        shown = {k: v for k, v in expected.items() if k != "..."}
        if "..." not in expected:
            assert set(actual) == set(shown), f"{where}: keys {sorted(actual)} != guide's {sorted(shown)}"
        for key, value in shown.items():
            assert key in actual, f"{where}.{key} is missing"
            _match(value, actual[key], f"{where}.{key}", kept)
    elif isinstance(expected, list) and len(expected) == 1 and isinstance(expected[0], dict) and "..." in expected[0]:
        assert isinstance(actual, list) and actual, f"{where}: {actual!r} is not a list of such items"
        for i, item in enumerate(actual):  # one item with "...": every item is like it
            _match(expected[0], item, f"{where}[{i}]", kept)
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            _match(e, a, f"{where}[{i}]", kept)
    else:
        assert actual == expected, f"{where}: the server says {actual!r}, the guide {expected!r}"


def test_the_guide_has_a_walkthrough():
    blocks = walkthrough()
    assert len(blocks) >= 16 and [kind for kind, _ in blocks] == ["http", "json"] * (len(blocks) // 2)


def test_the_guides_walkthrough_is_what_the_server_does(street):
    kept = {"password": PASSWORD, "segment_id": street.segments[0], "berth_id": street.berths["A001"]}
    blocks = walkthrough()
    for (_, request), (_, answer) in zip(blocks[::2], blocks[1::2]):
        method, path, headers, body = _request(request, kept)
        token = headers.get("Authorization", "").removeprefix("Bearer ") or None
        response = street.call(method, path.removeprefix("/pos/v1"), token, json=body)
        status, _, expected = answer.partition("\n")
        assert response.status_code == int(status), (method, path, response.get_json())
        _match(json.loads(_fill(expected, kept)), response.get_json(), f"{method} {path}", kept)
