"""The receivers of the domains' signals (app/core/signals.py): each turns a fact into outbox messages for
the destinations that want it, in the sender's transaction. What a park's city has switched on (the
alliance, webhook subscriptions and their event types) is cached per park for a few seconds, so a park
with nothing on costs a dictionary look-up per signal."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app.core import signals
from app.core.types import utcnow
from app.extensions import db
from app.integrations import outbox
from app.integrations.models import DISABLED, AlliancePark, AllianceSettings, WebhookSubscription
from app.tenancy.models import Level, Park

EVENT_TYPES = ("order.opened", "order.settled", "order.escaped", "arrear.recovered", "pass.sold",
               "berth.occupancy", "device.offline")
# what the pages show for a topic (the code itself travels in the requests)
TOPIC_LABELS = {
    "order.opened": _l("Order opened"), "order.settled": _l("Order settled"),
    "order.escaped": _l("Order left unpaid"), "arrear.recovered": _l("Arrear recovered"),
    "pass.sold": _l("Monthly pass sold"), "berth.occupancy": _l("Berth occupied or freed"),
    "device.offline": _l("Device offline"), "alliance.addpark": _l("Park upload"),
    "alliance.addorder": _l("Entry upload"), "alliance.updateorder": _l("Payment upload"),
    "alliance.availability": _l("Free spaces push"),
}
CACHE_SECONDS = 10.0
ALLIANCE_AVAILABILITY = "alliance.availability"


@dataclass(frozen=True, slots=True)
class Targets:
    """Where a park's events go: the alliance (if its city has it on and the park is not disabled there)
    and the subscriptions of its city and group, by event type."""
    park_id: int
    city_id: int
    alliance: bool
    availability_seconds: int
    subscriptions: MappingProxyType  # event type -> tuple of subscription ids

    @property
    def anything(self) -> bool:
        return self.alliance or bool(self.subscriptions)


_cache: dict[int, tuple[float, Targets | None]] = {}
_availability_written: dict[int, float] = {}  # park -> monotonic time until which a pending push covers it


def invalidate() -> None:
    """Forget what is cached (after a change of settings or subscriptions; other processes see it within
    CACHE_SECONDS)."""
    _cache.clear()
    _availability_written.clear()


def _ttl() -> float:
    return float(current_app.config.get("INTEGRATIONS_CACHE_SECONDS", CACHE_SECONDS))


def targets(park_id: int | None) -> Targets | None:
    if park_id is None:
        return None
    now = time.monotonic()
    hit = _cache.get(park_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    found = load_targets(park_id)
    _cache[park_id] = (now + _ttl(), found)
    return found


def load_targets(park_id: int) -> Targets | None:
    row = db.session.execute(select(Park.city_id, Park.group_id).where(Park.id == park_id)).first()
    if row is None:
        return None
    city_id, group_id = row
    settings = db.session.execute(select(AllianceSettings.enabled, AllianceSettings.availability_seconds)
                                  .where(AllianceSettings.city_id == city_id)).first()
    alliance = bool(settings and settings.enabled)
    if alliance:
        state = db.session.scalar(select(AlliancePark.state).where(AlliancePark.park_id == park_id))
        alliance = state != DISABLED
    subscriptions: dict[str, list[int]] = {}
    for sub_id, events in db.session.execute(select(WebhookSubscription.id, WebhookSubscription.events).where(
            WebhookSubscription.active.is_(True), WebhookSubscription.city_id == city_id,
            or_(WebhookSubscription.level == Level.CITY.value,
                (WebhookSubscription.level == Level.GROUP.value) & (WebhookSubscription.group_id == group_id)))
            .order_by(WebhookSubscription.id)):
        for kind in events or ():
            subscriptions.setdefault(kind, []).append(sub_id)
    return Targets(park_id, city_id, alliance, settings.availability_seconds if settings else 30,
                   MappingProxyType({k: tuple(v) for k, v in subscriptions.items()}))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _get(obj, name: str):
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def _webhook(t: Targets, kind: str, data: dict, event_id: str, at: datetime) -> list[outbox.Message]:
    subs = t.subscriptions.get(kind)
    if not subs:
        return []
    body = {"id": event_id, "type": kind, "created": _iso(at), "city_id": t.city_id, "park_id": t.park_id,
            "data": data}
    return [outbox.Message(t.city_id, t.park_id, kind, event_id, body, subscription_id=s) for s in subs]


def _availability(t: Targets) -> list[outbox.Message]:
    """A push of the park's free spaces, coalesced: none while one written by this process is pending (its
    count is read when it is delivered, so it covers the changes since)."""
    now = time.monotonic()
    if _availability_written.get(t.park_id, 0.0) > now:
        return []
    _availability_written[t.park_id] = now + max(t.availability_seconds - 1, 0)
    return [outbox.Message(t.city_id, t.park_id, ALLIANCE_AVAILABILITY, outbox.new_event_id(), {},
                           delay_seconds=t.availability_seconds)]


def _order_data(order) -> dict:
    return {"order_id": _get(order, "id"), "plate": _get(order, "plate"), "berth_id": _get(order, "berth_id"),
            "entered_at": _iso(_get(order, "entered_at"))}


def on_order_opened(park_id, *, order, at: datetime) -> None:
    t = targets(park_id)
    if t is None or not t.anything:
        return
    event_id = outbox.new_event_id()
    messages = _webhook(t, "order.opened", _order_data(order), event_id, at)
    if t.alliance:
        messages.append(outbox.Message(t.city_id, park_id, "alliance.addorder", event_id, {
            "order_id": str(_get(order, "id")), "park_id": str(park_id), "plate_number": _get(order, "plate"),
            "in_time": int(_get(order, "entered_at").timestamp())}))
        messages += _availability(t)
    outbox.write(messages, at)


def on_order_settled(park_id, *, order, method: str, paid_fen: int, at: datetime, online: str | None) -> None:
    t = targets(park_id)
    if t is None or not t.anything:
        return
    event_id = outbox.new_event_id()
    left_at = _get(order, "left_at")
    data = {**_order_data(order), "left_at": _iso(left_at), "method": method, "paid_fen": paid_fen,
            "total_paid_fen": _get(order, "paid_fen"), "fee_fen": _get(order, "fee_fen"), "online": online}
    messages = _webhook(t, "order.settled", data, event_id, at)
    if t.alliance:
        messages.append(outbox.Message(t.city_id, park_id, "alliance.updateorder", event_id, {
            "order_id": str(_get(order, "id")), "park_id": str(park_id), "plate_number": _get(order, "plate"),
            "in_time": int(_get(order, "entered_at").timestamp()),
            "out_time": int((left_at or at).timestamp()), "total": f"{_get(order, 'paid_fen') / 100:.2f}",
            "pay_type": 1 if method == "electronic" else 0}))
        messages += _availability(t)
    outbox.write(messages, at)


def on_order_escaped(park_id, *, order, due_fen: int, at: datetime) -> None:
    t = targets(park_id)
    if t is None or not t.anything:
        return
    messages = _webhook(t, "order.escaped", {**_order_data(order), "left_at": _iso(_get(order, "left_at")),
                                              "due_fen": due_fen}, outbox.new_event_id(), at)
    if t.alliance:
        messages += _availability(t)
    outbox.write(messages, at)


def on_arrear_recovered(park_id, *, arrear, method: str, at: datetime) -> None:
    t = targets(park_id)
    if t is None or not t.subscriptions:
        return
    outbox.write(_webhook(t, "arrear.recovered", {
        "arrear_id": arrear.id, "order_id": arrear.order_id, "plate": arrear.plate,
        "amount_fen": arrear.amount_fen, "method": method}, outbox.new_event_id(), at), at)


def on_pass_sold(park_id, *, pass_, plates, paid_fen: int, at: datetime) -> None:
    t = targets(park_id)
    if t is None or not t.subscriptions:
        return
    outbox.write(_webhook(t, "pass.sold", {
        "pass_id": pass_.id, "plates": list(plates), "starts_on": pass_.starts_on.isoformat(),
        "ends_on": pass_.ends_on.isoformat(), "paid_fen": paid_fen}, outbox.new_event_id(), at), at)


def on_berth_occupancy(park_id, *, berth_id: int, state: str, at: datetime) -> None:
    t = targets(park_id)
    if t is None or not t.anything:
        return
    messages = _webhook(t, "berth.occupancy", {"berth_id": berth_id, "state": state, "at": _iso(at)},
                        outbox.new_event_id(), at)
    if t.alliance:
        messages += _availability(t)
    outbox.write(messages)


def on_device_offline(park_id, *, kind: str, device_id: int, since: datetime | None) -> None:
    t = targets(park_id)
    if t is None or not t.subscriptions:
        return
    now = utcnow()
    outbox.write(_webhook(t, "device.offline", {"kind": kind, "device_id": device_id, "last_seen_at": _iso(since)},
                          outbox.new_event_id(), now), now)


def on_park_changed(park_id, *, created: bool) -> None:
    _cache.pop(park_id, None)
    t = targets(park_id)
    if t is not None and t.alliance:
        from app.integrations.alliance import park_upload

        outbox.write([park_upload(park_id, t.city_id)])


def connect() -> None:
    """Connect the receivers (weakly held by blinker: these are module functions, kept alive)."""
    for signal, receiver in ((signals.order_opened, on_order_opened), (signals.order_settled, on_order_settled),
                             (signals.order_escaped, on_order_escaped),
                             (signals.arrear_recovered, on_arrear_recovered), (signals.pass_sold, on_pass_sold),
                             (signals.berth_occupancy, on_berth_occupancy),
                             (signals.device_offline, on_device_offline), (signals.park_changed, on_park_changed)):
        signal.connect(receiver)
