"""泊链 (the parking alliance): a city's vendor account, park uploads, order uploads, availability, and the
alliance's payment notices. The request format and signature are those of the original platform
(docs/alliance.md): a JSON object of the parameters plus `sign`, the upper-case MD5 of the sorted
`name=value` pairs joined with `&`, followed directly by `key=` and the vendor key."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.audit.services import record, snapshot
from app.core.bulk import insert_ignore
from app.core.errors import Conflict, Invalid, NotFound
from app.core.types import utcnow
from app.extensions import db
from app.integrations import outbox
from app.integrations.models import (
    DISABLED,
    EXPENSE,
    INCOME,
    NOT_UPLOADED,
    AllianceNotice,
    AlliancePark,
    AllianceRecord,
    AllianceSettings,
)
from app.orders.models import ParkingOrder
from app.orders.services import OnlinePayment
from app.tenancy.models import City, Park

PROVIDER = "alliance"
CALLS = {"alliance.addpark": "park/addpark", "alliance.addorder": "order/addorder",
         "alliance.updateorder": "order/updateorder", "alliance.availability": "park/updatepark"}
STATE_LABELS = {0: "not uploaded", 1: "live", 2: "pending review", 3: "disabled"}


# --- the signature ---------------------------------------------------------------------------------

def _text(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def string_to_sign(params: dict, key: str) -> str:
    """The sorted `name=value` pairs (leaving out `sign` and null, empty or "null" values) joined with `&`,
    then `key=` and the key, with no `&` before it."""
    pairs = [f"{name}={_text(params[name])}" for name in sorted(params)
             if name != "sign" and params[name] is not None and _text(params[name]) not in ("", "null")]
    return "&".join(pairs) + "key=" + key


def sign(params: dict, key: str) -> str:
    return hashlib.md5(string_to_sign(params, key).encode("utf-8")).hexdigest().upper()


def signed(params: dict, key: str) -> dict:
    return {**params, "sign": sign(params, key)}


def verify(params: dict, key: str) -> bool:
    given = params.get("sign")
    return isinstance(given, str) and secrets.compare_digest(given.upper(), sign(params, key))


def request_params(settings: AllianceSettings, params: dict, event_id: str | None = None) -> dict:
    """What one call sends: the parameters, the vendor id, the server id, a random number, the event id
    (the alliance keeps the ids it has seen) and the signature."""
    full = {**params, "union_id": settings.union_id, "rand": str(secrets.randbelow(10**9))}
    if settings.server_id:
        full["server_id"] = settings.server_id
    if event_id:
        full["event_id"] = event_id
    return signed(full, settings.ukey)


# --- settings ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SettingsValues:
    union_id: str
    base_url: str
    enabled: bool
    server_id: str | None = None
    ukey: str | None = None  # None: keep the stored key
    availability_seconds: int = 30


_FIELDS = ("union_id", "server_id", "base_url", "enabled", "availability_seconds", "ukey_hint")


def settings_of(city_id: int) -> AllianceSettings | None:
    return db.session.scalar(select(AllianceSettings).where(AllianceSettings.city_id == city_id))


def save_settings(actor, city: City, values: SettingsValues, *, ip: str | None = None) -> AllianceSettings:
    """The city's vendor account. The key is write-only: stored encrypted, never shown again (its last
    characters are the hint). Switching on uploads every active park of the city."""
    union_id = (values.union_id or "").strip()
    base_url = (values.base_url or "").strip().rstrip("/")
    if not union_id:
        raise Invalid("union_id_required", "Enter the vendor id.", {"union_id": "required"})
    if not base_url.startswith(("http://", "https://")):
        raise Invalid("bad_base_url", "The alliance address starts with http:// or https://.", {"base_url": "invalid"})
    if not 5 <= values.availability_seconds <= 3600:
        raise Invalid("bad_interval", "Push availability every 5 to 3600 seconds.", {"availability_seconds": "range"})
    settings = settings_of(city.id)
    if db.session.scalar(select(AllianceSettings.id).where(AllianceSettings.union_id == union_id,
                                                          AllianceSettings.city_id != city.id)) is not None:
        raise Invalid("union_id_taken", "Another city uses this vendor id.", {"union_id": "taken"})
    key = (values.ukey or "").strip()
    if settings is None and not key:
        raise Invalid("ukey_required", "Enter the vendor key.", {"ukey": "required"})
    before = snapshot(settings, _FIELDS) if settings is not None else None
    was_on = bool(settings and settings.enabled)
    if settings is None:
        settings = AllianceSettings(city_id=city.id)
        db.session.add(settings)
    settings.union_id, settings.base_url, settings.enabled = union_id, base_url + "/", values.enabled
    settings.server_id = (values.server_id or "").strip() or None
    settings.availability_seconds = values.availability_seconds
    if key:
        settings.ukey, settings.ukey_hint = key, key[-4:]
    db.session.flush()
    record(actor, "update" if before else "create", settings, anchor=city, before=before,
           after=snapshot(settings, _FIELDS) | ({"ukey": "changed"} if key else {}),
           label=f"{city.name} 泊链", ip=ip)
    _invalidate()
    if values.enabled and not was_on:
        upload_parks(city.id)
    return settings


def _invalidate() -> None:
    from app.integrations.events import invalidate

    invalidate()


def alliance_park(park_id: int) -> AlliancePark:
    """The park's standing at the alliance, made on first need. Two workers delivering two messages of a new
    park at once both make it: the second insert is skipped (it waits for the first), not a failed delivery."""
    found = db.session.scalar(select(AlliancePark).where(AlliancePark.park_id == park_id))
    if found is None:
        db.session.execute(insert_ignore(AlliancePark.__table__).values(park_id=park_id, state=NOT_UPLOADED))
        found = db.session.scalars(select(AlliancePark).where(AlliancePark.park_id == park_id)).one()
    return found


def park_upload(park_id: int, city_id: int) -> outbox.Message:
    """park/addpark of the park as it is now (the parameters are read when it is delivered)."""
    return outbox.Message(city_id, park_id, "alliance.addpark", outbox.new_event_id(), {"park_id": str(park_id)})


def upload_parks(city_id: int, park_ids: list[int] | None = None) -> int:
    """Queue park/addpark for the city's active parks (or these), skipping parks disabled at the alliance."""
    stmt = select(Park.id).where(Park.city_id == city_id, Park.active.is_(True))
    if park_ids is not None:
        stmt = stmt.where(Park.id.in_(park_ids))
    disabled = set(db.session.scalars(select(AlliancePark.park_id).where(AlliancePark.state == DISABLED)))
    ids = [pid for pid in db.session.scalars(stmt.order_by(Park.id)) if pid not in disabled]
    outbox.write([park_upload(pid, city_id) for pid in ids])
    return len(ids)


def set_park_disabled(actor, park: Park, disabled: bool, *, ip: str | None = None) -> AlliancePark:
    row = alliance_park(park.id)
    before = snapshot(row, ("state",))
    row.state = DISABLED if disabled else NOT_UPLOADED
    record(actor, "disable" if disabled else "enable", row, anchor=park, before=before,
           after=snapshot(row, ("state",)), label=f"{park.name} 泊链", ip=ip)
    _invalidate()
    if not disabled:
        upload_parks(park.city_id, [park.id])
    return row


# --- what a delivery sends ---------------------------------------------------------------------------

def availability(park_id: int) -> tuple[int, int]:
    """(total, free) spaces: the park's capacity (or its active berths) less its open orders."""
    from app.berths.models import Berth
    from app.orders.models import OPEN_STATE

    park = db.session.get_one(Park, park_id)
    total = park.capacity or db.session.scalar(select(func.count()).select_from(Berth).where(
        Berth.park_id == park_id, Berth.active.is_(True))) or 0
    occupied = db.session.scalar(select(func.count()).select_from(ParkingOrder).where(
        ParkingOrder.park_id == park_id, ParkingOrder.state == OPEN_STATE)) or 0
    return total, max(total - occupied, 0)


def park_params(park_id: int) -> dict:
    park = db.session.get_one(Park, park_id)
    total, free = availability(park_id)
    return {"park_id": str(park.id), "name": park.name, "address": park.address, "phone": park.phone,
            "lng": park.longitude, "lat": park.latitude, "total_plot": total, "empty_plot": free,
            "price_desc": _price_desc(park_id), "remark": None}


def _price_desc(park_id: int) -> str | None:
    from app.tariffs.models import TariffRule

    names = db.session.scalars(select(TariffRule.name).where(TariffRule.park_id == park_id).limit(3)).all()
    return "; ".join(names) or None


def availability_params(park_id: int) -> dict:
    total, free = availability(park_id)
    return {"park_id": str(park_id), "total_plot": total, "empty_plot": free}


# --- incoming payment notices ------------------------------------------------------------------------

@dataclass(frozen=True)
class NoticeAnswer:
    """What the alliance is answered: `state` 1 = received (it stops sending), 0 = refused (it sends again)."""
    state: int
    outcome: str       # settled | review | duplicate | refused | recorded
    reason: str | None = None

    def body(self) -> dict:
        body: dict = {"state": self.state}
        if self.reason:
            body["errmsg"] = self.reason
        return body


def _fen(value) -> int:
    try:
        return round(float(value) * 100)
    except (TypeError, ValueError) as exc:
        raise Invalid("bad_money", "money is not a number", {"money": "invalid"}) from exc


def _time(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), timezone.utc) if value not in (None, "") else None
    except (TypeError, ValueError, OverflowError):
        return None


def settings_for_union(union_id: str | None) -> AllianceSettings | None:
    if not union_id:
        return None
    return db.session.scalar(select(AllianceSettings).where(AllianceSettings.union_id == str(union_id)))


def receive_notice(params: dict, received_at: datetime | None = None) -> NoticeAnswer:
    """A payment notice (`type` 0: a member of another platform paid for an order at one of our parks;
    1: one of our members paid at another vendor's park). Verified by the city's key; idempotent by the
    alliance's trade number: a notice seen before is answered as it was, and books nothing again. A notice
    we cannot apply (unknown order, order no longer open, wrong amount) is answered `state` 1, so the
    alliance stops sending it, and is kept for review. The caller commits."""
    from app.kerb.online import settle_paid_online

    received_at = received_at or utcnow()
    settings = settings_for_union(params.get("union_id"))
    if settings is None or not settings.enabled or not verify(params, settings.ukey):
        return NoticeAnswer(0, "refused", "bad sign")
    trade_no = str(params.get("trade_no") or "").strip()[:64]
    if not trade_no:
        return NoticeAnswer(0, "refused", "trade_no required")
    try:
        amount_fen = _fen(params.get("money"))
    except Invalid:
        return NoticeAnswer(0, "refused", "bad money")
    city_id = settings.city_id
    seen = db.session.scalar(select(AllianceNotice).where(AllianceNotice.city_id == city_id,
                                                          AllianceNotice.trade_no == trade_no))
    if seen is not None:
        return NoticeAnswer(1, "duplicate", None if seen.outcome != "review" else seen.reason)
    if str(params.get("type", "0")) == "1":
        _keep_record(city_id, None, EXPENSE, trade_no, amount_fen, params)
        _keep_notice(city_id, None, trade_no, None, amount_fen, "recorded", None, params, received_at)
        return NoticeAnswer(1, "recorded")
    park = _park(params.get("park_id"), city_id)
    order_id = _int(params.get("order_id"))
    reason = None
    if park is None or order_id is None:
        reason = "order_not_found"
    else:
        payment = OnlinePayment(provider=PROVIDER, trade_no=trade_no, amount_fen=amount_fen,
                                paid_at=min(_time(params.get("pay_time")) or received_at, received_at))
        savepoint = db.session.begin_nested()
        try:
            settle_paid_online(park=park, order_id=order_id, payment=payment, received_at=received_at)
        except (Conflict, NotFound) as exc:
            savepoint.rollback()
            reason = exc.code
        except IntegrityError:  # the same trade booked by a concurrent notice
            savepoint.rollback()
            return NoticeAnswer(1, "duplicate")
        else:
            savepoint.commit()
    park_id = park.id if park is not None else None
    if reason is None:
        _keep_record(city_id, park_id, INCOME, trade_no, amount_fen, params, order_id)
    _keep_notice(city_id, park_id, trade_no, order_id, amount_fen, "review" if reason else "settled", reason, params,
                 received_at)
    return NoticeAnswer(1, "review" if reason else "settled", reason)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _park(value, city_id: int) -> Park | None:
    park_id = _int(value)
    park = db.session.get(Park, park_id) if park_id is not None else None
    return park if park is not None and park.city_id == city_id else None


def _keep_notice(city_id, park_id, trade_no, order_id, amount_fen, outcome, reason, params, at) -> None:
    db.session.add(AllianceNotice(city_id=city_id, park_id=park_id, trade_no=trade_no, order_id=order_id,
                                  amount_fen=amount_fen, outcome=outcome, reason=reason,
                                  body={k: v for k, v in params.items() if k != "sign"}, received_at=at))
    db.session.flush()


def _keep_record(city_id, park_id, direction, trade_no, amount_fen, params, order_id=None) -> None:
    db.session.add(AllianceRecord(
        city_id=city_id, park_id=park_id, direction=direction, trade_no=trade_no, amount_fen=amount_fen,
        order_id=order_id, plate=(str(params.get("plate_number") or "")[:16] or None),
        park_name=(str(params.get("park_name") or "")[:120] or None),
        started_at=_time(params.get("in_time")), ended_at=_time(params.get("out_time"))))
