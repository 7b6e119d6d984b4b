"""A signing client of /sync/v1, as an on-site server would be: over HTTP (`base_url`) or through a
Flask test client. Used by `flask simulate-lane`, the tests and the benchmark."""
from __future__ import annotations

import json
from urllib.parse import urlencode

from app.sync.signing import signed_headers


class SiteClient:
    def __init__(self, park_id: int, secret: str, *, base_url: str | None = None, test_client=None):
        self.park_id, self.secret = park_id, secret
        self.base = base_url.rstrip("/") if base_url else None
        self.test_client = test_client
        if self.base:
            import requests

            self.http = requests.Session()

    def call(self, method: str, path: str, body=None, *, query: dict | None = None, headers: dict | None = None):
        """Signed request; returns (status, JSON answer)."""
        full = "/sync/v1" + path + (f"?{urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else b""
        sent = {"Content-Type": "application/json",
                **signed_headers(self.park_id, self.secret, method, full, data), **(headers or {})}
        if self.base:
            r = self.http.request(method, self.base + full, data=data, headers=sent, timeout=60)
            try:
                return r.status_code, r.json()
            except ValueError:
                return r.status_code, None
        r = self.test_client.open(full, method=method, data=data, headers=sent)
        return r.status_code, r.get_json(silent=True)

    def upload(self, items: list[dict]):
        return self.call("POST", "/uploads", {"items": items})

    def pull(self, after: int, limit: int = 200):
        return self.call("GET", "/changes", query={"after": after, "limit": limit})

    def ack(self, seq: int):
        return self.call("POST", "/changes/ack", {"seq": seq})

    def heartbeat(self, version: str, devices: dict | None = None):
        return self.call("POST", "/heartbeat", {"version": version, "devices": devices or {}})
