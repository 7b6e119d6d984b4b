"""A loopback simulator of the alliance (泊链) for tests and the demo (`flask alliance-sim`): it answers
park/addpark, park/updatepark, order/addorder and order/updateorder as the alliance does, verifies every
signature with the vendor's key, keeps each event id once, can be told to fail or to be slow, and sends
payment notices to the platform (`/alliance/v1/notify`), signed like the alliance's own.

Control (JSON): POST /_sim/behave {"fail": n, "slow": seconds}: the next n calls answer 500, each call
waits `slow` seconds; GET /_sim/state: what it holds; POST /_sim/pay {"park_id", "order_id", "money",
"trade_no"?, "type"?, "plate_number"?}: send a payment notice to the platform and answer its reply."""
from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.integrations.alliance import signed, verify


@dataclass
class SimState:
    parks: dict = field(default_factory=dict)         # park_id -> last addpark parameters
    availability: dict = field(default_factory=dict)  # park_id -> [(total, free), ...] in arrival order
    orders: dict = field(default_factory=dict)        # order_id -> {"added": params, "updated": params}
    calls: list = field(default_factory=list)         # (path, event_id) accepted, in order
    events: set = field(default_factory=set)          # event ids seen
    duplicates: int = 0
    refused: int = 0
    webhooks: list = field(default_factory=list)      # (event type, event id, signature valid) received


class AllianceSim:
    def __init__(self, union_id: str, key: str, platform_url: str | None = None, webhook_secret: str | None = None):
        self.union_id, self.key, self.platform_url = union_id, key, (platform_url or "").rstrip("/")
        self.webhook_secret = webhook_secret
        self.state = SimState()
        self.fail_next = 0
        self.slow = 0.0
        self._lock = threading.Lock()

    # -- the alliance's endpoints ---------------------------------------------------------------------
    def handle(self, path: str, params: dict) -> tuple[int, dict]:
        if self.slow:
            time.sleep(self.slow)
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500, {"state": 0, "errmsg": "simulated failure"}
            if params.get("union_id") != self.union_id or not verify(params, self.key):
                self.state.refused += 1
                return 200, {"state": 0, "errmsg": "sign error"}
            event_id = params.get("event_id")
            if event_id and event_id in self.state.events:
                self.state.duplicates += 1
                return 200, {"state": 1, "errmsg": "duplicate"}
            if event_id:
                self.state.events.add(event_id)
            self.state.calls.append((path, event_id))
            park_id = str(params.get("park_id"))
            if path == "park/addpark":
                self.state.parks[park_id] = params
                return 200, {"state": 1, "bolink_id": f"BL{park_id}"}
            if path == "park/updatepark":
                self.state.availability.setdefault(park_id, []).append(
                    (int(params.get("total_plot", 0)), int(params.get("empty_plot", 0))))
                return 200, {"state": 1}
            if path in ("order/addorder", "order/updateorder"):
                entry = self.state.orders.setdefault(str(params.get("order_id")), {})
                entry["added" if path == "order/addorder" else "updated"] = params
                return 200, {"state": 1}
            return 404, {"state": 0, "errmsg": "no such call"}

    def notice(self, park_id, order_id, money: str, trade_no: str | None = None, kind: int = 0, **more) -> dict:
        """A payment notice as the alliance sends it."""
        params = {"union_id": self.union_id, "park_id": str(park_id), "order_id": str(order_id), "money": money,
                  "trade_no": trade_no or f"BL{secrets.token_hex(6)}", "pay_time": str(int(time.time())),
                  "type": str(kind), "rand": str(secrets.randbelow(10**9)), **more}
        return signed(params, self.key)

    def pay(self, park_id, order_id, money: str, **more) -> tuple[int, dict]:
        response = requests.post(f"{self.platform_url}/alliance/v1/notify",
                                 json=self.notice(park_id, order_id, money, **more), timeout=10)
        return response.status_code, response.json()

    def webhook(self, request) -> tuple[int, dict]:
        """A webhook receiver too (the demo subscribes it): checks the signature, keeps each event id once."""
        from app.integrations import webhooks

        headers, body = request.headers, request.get_data()
        stamp, given = headers.get(webhooks.TIME_HEADER, ""), headers.get(webhooks.SIGNATURE_HEADER, "")
        valid = self.webhook_secret is not None and webhooks.verify(self.webhook_secret, stamp, body, given)
        event_id = headers.get(webhooks.ID_HEADER)
        with self._lock:
            if any(seen[1] == event_id for seen in self.state.webhooks):
                return 200, {"duplicate": True}
            self.state.webhooks.append((headers.get(webhooks.EVENT_HEADER), event_id, valid))
        return (200, {"ok": True}) if valid else (401, {"ok": False})

    # -- WSGI --------------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path.strip("/")
        body = request.get_json(silent=True) if request.method == "POST" else None
        if path == "_sim/webhook" and request.method == "POST":
            status, answer = self.webhook(request)
        elif path == "_sim/state":
            with self._lock:
                state = {"parks": self.state.parks, "availability": self.state.availability,
                         "orders": self.state.orders, "calls": self.state.calls,
                         "duplicates": self.state.duplicates, "refused": self.state.refused,
                         "webhooks": self.state.webhooks}
            status, answer = 200, state
        elif path == "_sim/behave":
            body = body or {}
            self.fail_next, self.slow = int(body.get("fail", 0)), float(body.get("slow", 0))
            status, answer = 200, {"fail": self.fail_next, "slow": self.slow}
        elif path == "_sim/pay":
            body = dict(body or {})
            status, answer = self.pay(body.pop("park_id"), body.pop("order_id"), str(body.pop("money")), **body)
        elif request.method == "POST" and isinstance(body, dict):
            status, answer = self.handle(path, body)
        else:
            status, answer = 400, {"state": 0, "errmsg": "bad request"}
        return Response(json.dumps(answer, ensure_ascii=False, default=str), status,
                        content_type="application/json")(environ, start_response)


class Served:
    """The simulator (or any WSGI app) served on loopback in a thread: `url`, `stop()`."""

    def __init__(self, app, port: int = 0):
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
