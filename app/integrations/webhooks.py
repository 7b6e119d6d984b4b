"""Outbound webhooks: a city's or an operating group's subscriptions to events, each request signed with
HMAC-SHA256 over `timestamp + "." + body` with the subscription's secret (docs/alliance.md has the recipe
and a test vector). The secret is generated here, shown once and stored encrypted."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from app.audit.services import record, snapshot
from app.core.errors import Invalid
from app.extensions import db
from app.integrations.events import EVENT_TYPES, invalidate
from app.integrations.models import WebhookSubscription
from app.tenancy.models import Level

EVENT_HEADER, ID_HEADER, TIME_HEADER, SIGNATURE_HEADER = (
    "X-ParkingOS-Event", "X-ParkingOS-Event-Id", "X-ParkingOS-Timestamp", "X-ParkingOS-Signature")
_FIELDS = ("name", "url", "events", "active")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of `timestamp.body` under the secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    return hmac.compare_digest(signature(secret, timestamp, body), given or "")


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


def _check(name: str, url: str, events: list[str]) -> tuple[str, str, list[str]]:
    name, url = (name or "").strip(), (url or "").strip()
    if not name:
        raise Invalid("name_required", "Give the subscription a name.", {"name": "required"})
    if not url.startswith(("http://", "https://")) or len(url) > 300:
        raise Invalid("bad_url", "The address starts with http:// or https://.", {"url": "invalid"})
    chosen = [e for e in EVENT_TYPES if e in set(events or ())]
    if not chosen:
        raise Invalid("events_required", "Choose at least one event type.", {"events": "required"})
    return name, url, chosen


def create(actor, node, *, name: str, url: str, events: list[str], ip: str | None = None
           ) -> tuple[WebhookSubscription, str]:
    """A subscription at a city or an operating group, and its secret (shown to the caller once)."""
    if node is None or node.level not in (Level.CITY, Level.GROUP):
        raise Invalid("bad_node", "A subscription belongs to a city or an operating group.", {"node": "invalid"})
    name, url, chosen = _check(name, url, events)
    secret = new_secret()
    sub = WebhookSubscription(name=name[:80], url=url, events=chosen, secret=secret, secret_hint=secret[-4:],
                              active=True)
    sub.anchor_at(node)
    db.session.add(sub)
    db.session.flush()
    record(actor, "create", sub, after=snapshot(sub, _FIELDS), label=sub.name, ip=ip)
    invalidate()
    return sub, secret


def update(actor, sub: WebhookSubscription, *, name: str, url: str, events: list[str], active: bool,
           ip: str | None = None) -> None:
    before = snapshot(sub, _FIELDS)
    sub.name, sub.url, sub.events = _check(name, url, events)
    sub.active = active
    record(actor, "update", sub, before=before, after=snapshot(sub, _FIELDS), label=sub.name, ip=ip)
    invalidate()


def rotate_secret(actor, sub: WebhookSubscription, *, ip: str | None = None) -> str:
    secret = new_secret()
    sub.secret, sub.secret_hint = secret, secret[-4:]
    record(actor, "rotate_secret", sub, label=sub.name, ip=ip)
    return secret
