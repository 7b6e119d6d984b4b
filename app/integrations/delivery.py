"""The outbox's HTTP deliveries: webhooks (signed with the subscription's secret) and alliance calls
(signed with the city's vendor key). Secrets, settings and the parameters read from the database are
prepared in the worker's transaction; the requests go out from threads, one lane per thread, with
keep-alive connections (http.client: a third of the cost of a requests call per event)."""
from __future__ import annotations

import http.client
import json
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from app.extensions import db
from app.integrations import alliance, webhooks
from app.integrations.events import ALLIANCE_AVAILABILITY
from app.integrations.models import DISABLED, LIVE, AlliancePark, AllianceSettings, OutboxMessage, WebhookSubscription
from app.integrations.outbox import Outcome

TIMEOUT = 10.0


class _Request:
    __slots__ = ("url", "body", "headers", "secret", "alliance")

    def __init__(self, url: str, body: bytes, headers: dict, secret: str | None = None, alliance: bool = False):
        self.url, self.body, self.headers, self.secret, self.alliance = url, body, headers, secret, alliance


class HttpDispatcher:
    """The outbox's dispatcher (app.integrations.outbox.Dispatcher) over HTTP."""

    def __init__(self, timeout: float = TIMEOUT):
        self.timeout = timeout
        self._local = threading.local()
        self._prepared: dict[int, _Request | Outcome] = {}

    def _connection(self, url: str) -> tuple[http.client.HTTPConnection, str, tuple]:
        """This thread's keep-alive connection to the URL's host, and the path to ask for."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname, parts.port)
        connections = self._local.__dict__.setdefault("connections", {})
        conn = connections.get(key)
        if conn is None:
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conn = connections[key] = cls(parts.hostname or "", parts.port, timeout=self.timeout)
        return conn, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), key

    def _exchange(self, url: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        """POST over the kept connection; a connection the peer closed meanwhile is opened again once."""
        for attempt in (1, 2):
            conn, path, key = self._connection(url)
            reused = conn.sock is not None
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                data = response.read()
                if response.will_close:
                    conn.close()
                return response.status, data
            except (http.client.HTTPException, OSError):
                conn.close()
                if not reused or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # -- in the transaction --------------------------------------------------------------------------
    def prepare(self, lanes: list[list[OutboxMessage]], at: datetime) -> None:
        self._prepared = {}
        messages = [m for lane in lanes for m in lane]
        sub_ids = {m.subscription_id for m in messages if m.subscription_id is not None}
        subs = {s.id: s for s in db.session.scalars(select(WebhookSubscription).where(
            WebhookSubscription.id.in_(sub_ids)))} if sub_ids else {}
        city_ids = {m.city_id for m in messages if m.subscription_id is None}
        settings = {s.city_id: s for s in db.session.scalars(select(AllianceSettings).where(
            AllianceSettings.city_id.in_(city_ids)))} if city_ids else {}
        park_ids = {m.park_id for m in messages if m.subscription_id is None and m.park_id is not None}
        parks = {p.park_id: p for p in db.session.scalars(select(AlliancePark).where(
            AlliancePark.park_id.in_(park_ids)))} if park_ids else {}
        for lane in lanes:
            if lane[0].subscription_id is not None:
                for m in lane:
                    self._prepared[m.id] = self._webhook(m, subs.get(m.subscription_id))
            else:
                self._alliance_lane(lane, settings.get(lane[0].city_id), parks.get(lane[0].park_id), at)

    def _webhook(self, m: OutboxMessage, sub: WebhookSubscription | None) -> _Request | Outcome:
        if sub is None or not sub.active or sub.city_id != m.city_id:
            return Outcome(False, error="subscription removed or inactive", final=True)
        body = json.dumps(m.payload, ensure_ascii=False, separators=(",", ":")).encode()
        return _Request(sub.url, body, {"Content-Type": "application/json", webhooks.EVENT_HEADER: m.topic,
                                        webhooks.ID_HEADER: m.event_id}, secret=sub.secret)

    def _alliance_lane(self, lane: list[OutboxMessage], settings: AllianceSettings | None,
                       park: AlliancePark | None, at: datetime) -> None:
        if settings is None or not settings.enabled or (park is not None and park.state == DISABLED):
            for m in lane:
                self._prepared[m.id] = Outcome(False, error="alliance is off for this park", final=True)
            return
        if lane[0].topic == ALLIANCE_AVAILABILITY:
            last = park.availability_sent_at if park is not None else None
            wait = timedelta(seconds=settings.availability_seconds)
            if last is not None and last + wait > at:
                for m in lane:  # at most one push per park per interval
                    self._prepared[m.id] = Outcome(False, postpone_until=last + wait)
                return
            for m in lane[:-1]:  # coalesced: the last one sends the count as it is now
                self._prepared[m.id] = Outcome(True)
            lane = lane[-1:]
        for m in lane:
            if m.topic == "alliance.addpark":
                params = alliance.park_params(m.park_id)
            elif m.topic == ALLIANCE_AVAILABILITY:
                params = alliance.availability_params(m.park_id)
            else:
                params = m.payload
            body = json.dumps(alliance.request_params(settings, params, m.event_id), ensure_ascii=False).encode()
            self._prepared[m.id] = _Request(settings.base_url + alliance.CALLS[m.topic], body,
                                            {"Content-Type": "application/json"}, alliance=True)

    # -- in a thread, without the database --------------------------------------------------------------
    def send(self, lane: list[OutboxMessage]) -> list[Outcome]:
        outcomes = []
        for m in lane:
            prepared = self._prepared[m.id]
            outcome = prepared if isinstance(prepared, Outcome) else self._post(prepared)
            outcomes.append(outcome)
            if not outcome.ok:
                break
        return outcomes

    def _post(self, req: _Request) -> Outcome:
        headers = req.headers
        if req.secret is not None:
            stamp = str(int(time.time()))
            headers = {**headers, webhooks.TIME_HEADER: stamp,
                       webhooks.SIGNATURE_HEADER: webhooks.signature(req.secret, stamp, req.body)}
        started = time.perf_counter()
        try:
            status, data = self._exchange(req.url, req.body, headers)
        except (http.client.HTTPException, OSError, ValueError) as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}"[:300],
                           latency_ms=round((time.perf_counter() - started) * 1000))
        latency = round((time.perf_counter() - started) * 1000)
        if not req.alliance:
            ok = 200 <= status < 300
            return Outcome(ok, status, None if ok else f"HTTP {status}", latency)
        try:
            answer = json.loads(data)
        except ValueError:
            answer = None
        if status != 200 or not isinstance(answer, dict):
            return Outcome(False, status, f"HTTP {status}", latency)
        ok = str(answer.get("state")) in ("1", "2")
        return Outcome(ok, status, None if ok else str(answer.get("errmsg") or "refused")[:300], latency, answer)

    # -- in the transaction again ------------------------------------------------------------------------
    def finish(self, lanes: list[list[OutboxMessage]], results: list[list[Outcome]], at: datetime) -> None:
        for lane, outcomes in zip(lanes, results):
            first = lane[0]
            if first.subscription_id is not None or first.park_id is None:
                continue
            tried = [(m, o) for m, o in zip(lane, outcomes) if o.status is not None or o.error]
            if not tried:
                continue
            park = alliance.alliance_park(first.park_id)
            for m, outcome in tried:
                if outcome.ok and m.topic == "alliance.addpark":
                    answer = outcome.answer or {}
                    park.state = LIVE if str(answer.get("state")) == "1" else 2
                    park.alliance_park_id = str(answer.get("bolink_id") or park.alliance_park_id or "") or None
                    park.last_upload_at, park.last_error = at, None
                elif outcome.ok and m.topic == ALLIANCE_AVAILABILITY:
                    park.availability_sent_at = at
                elif not outcome.ok and outcome.postpone_until is None:
                    park.last_error = (outcome.error or "")[:300]
