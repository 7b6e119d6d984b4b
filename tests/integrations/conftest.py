"""Fixtures of the integrations: a webhook receiver and the alliance simulator on loopback, and the
tree's first city with the alliance switched on."""
from __future__ import annotations

import json
import threading

import pytest
from werkzeug.wrappers import Request, Response

from app.integrations import events
from app.integrations.sim import AllianceSim, Served
from tests.pos_api.conftest import street  # noqa: F401  (the street fixture, for every test here)

UNION_ID, UKEY = "V-TEST", "test-alliance-key-0123"


class Receiver:
    """A webhook receiver: keeps each event id once, can be told to fail the next n requests."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.seen: list[str] = []
        self.fail_next = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        with self._lock:
            if self.fail_next:
                self.fail_next -= 1
                return Response("no", 503)(environ, start_response)
            self.requests.append((dict(request.headers), body))
            event_id = request.headers.get("X-ParkingOS-Event-Id")
            if event_id not in self.seen:
                self.seen.append(event_id)
        return Response("ok", 200)(environ, start_response)

    def events(self) -> list[dict]:
        return [json.loads(body) for _headers, body in self.requests]


@pytest.fixture(autouse=True)
def _fresh_cache():
    events.invalidate()
    yield
    events.invalidate()


@pytest.fixture
def receiver():
    receiver = Receiver()
    served = Served(receiver)
    receiver.url = served.url
    yield receiver
    served.stop()


@pytest.fixture
def sim():
    simulator = AllianceSim(UNION_ID, UKEY)
    served = Served(simulator)
    simulator.url = served.url
    yield simulator
    served.stop()
