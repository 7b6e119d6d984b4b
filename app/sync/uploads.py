"""Uploads of the on-site system (上传): entries, exits, settlements, barrier lifts and pass sales, in
batches. Each item is keyed by the site's own id (per park and kind): an item already accepted is
answered with its first answer and changes nothing; a refused item may be sent again.

Items are validated up front and written with a few bulk statements per batch; one bad item is
refused alone, the others go through."""
from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from app.core.errors import DomainError, Invalid
from app.extensions import db
from app.orders import photos as order_photos
from app.orders import services as orders
from app.orders.models import OrderPhoto, OrderState, ParkingOrder
from app.sync import bulk
from app.sync.models import LaneUpload, SiteServer

KINDS = ("entry", "exit", "settlement", "lift", "pass_sale")
MAX_ITEMS = 500
MAX_PHOTO_BYTES = 512 * 1024
MAX_AHEAD = timedelta(minutes=2)
MAX_AGE = timedelta(days=7)  # a site that was offline uploads its backlog
SITE_REF = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
CONTROL = re.compile(r"[\x00-\x1f]")
PAY_METHODS = ("cash", "electronic", "card")


def refusal(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


class Item:
    """Field-by-field reading of one uploaded item, collecting every problem."""

    def __init__(self, raw: dict, now: datetime):
        self.raw, self.now, self.errors = raw, now, {}

    def text(self, name, *, required=True, max_len=64):
        value = self.raw.get(name)
        if value is None:
            if required:
                self.errors[name] = "required"
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > max_len or \
                CONTROL.search(value):
            self.errors[name] = f"a text of 1 to {max_len} characters"
            return None
        return value.strip()

    def int(self, name, *, required=True, minimum=0, maximum=10_000_000_00):
        value = self.raw.get(name)
        if value is None:
            if required:
                self.errors[name] = "required"
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.errors[name] = f"a whole number from {minimum} to {maximum}"
            return None
        return value

    def time(self, name="at"):
        value = self.raw.get(name)
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.errors[name] = "an ISO 8601 time with its UTC offset"
            return None
        if parsed > self.now + MAX_AHEAD:
            self.errors[name] = "more than 2 minutes ahead of the cloud: check the site's clock"
            return None
        if parsed < self.now - MAX_AGE:
            self.errors[name] = "older than 7 days"
            return None
        return parsed

    def plate(self):
        value = self.text("plate", max_len=16)
        if value is None:
            return None
        try:
            return orders.normalize_plate(value)
        except Invalid:
            self.errors["plate"] = "4 to 10 letters, digits or Chinese characters"
            return None

    def photo(self):
        value = self.raw.get("photo")
        if value is None:
            return None
        try:
            data = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
        except (binascii.Error, ValueError):
            data = b""
        if len(data) > MAX_PHOTO_BYTES:
            self.errors["photo"] = f"at most {MAX_PHOTO_BYTES // 1024} KB"
        elif order_photos.sniff(data) is None:
            self.errors["photo"] = "a base64 JPEG or PNG"
        else:
            return data
        return None

    def check(self):
        if self.errors:
            raise Invalid("validation_failed", "Some fields are missing or wrong.", self.errors)


@dataclass
class Outcome:
    kind: str
    ref: str
    upload_id: int | None = None  # the stored refusal this retry replaces
    order: dict | None = None
    answer: dict | None = None
    error: dict | None = None
    values: dict = field(default_factory=dict)
    photo: bytes | None = None
    answer_extra: dict = field(default_factory=dict)


def _str(value):
    """Keys only from texts (a list or object sent as an id is refused, not hashed)."""
    return value if isinstance(value, str) else None


UPLOAD_VALUES = ("status", "response", "order_id", "received_at", "photo_path", "lane_id", "plate", "occurred_at",
                 "order_site_ref", "detail")


class Batch:
    """One request's items for one site, processed in order in memory, then written set-based: a few
    statements per batch whatever its size (orders, ledger and lane rows as plain rows, no ORM objects)."""

    def __init__(self, site: SiteServer, park, now: datetime):
        self.site, self.park, self.now = site, park, now
        self.lanes: set[int] | None = None
        self.orders: dict[int, dict] = {}          # existing orders read for this batch, by id
        self.open_by_plate: dict[str, dict] = {}
        self.orders_by_ref: dict[str, dict] = {}
        self.new_orders: list[dict] = []
        self.changed: dict[int, dict] = {}         # existing orders the batch changes
        self.ledger: list[dict] = []
        self.versions: dict = {}
        self.latest = now + MAX_AHEAD

    def lane_ids(self) -> set[int]:
        if self.lanes is None:
            from app.lanes.models import Lane

            self.lanes = set(db.session.scalars(select(Lane.id).where(Lane.park_id == self.park.id)))
        return self.lanes

    # --- the batch ---

    def run(self, items: list) -> list[dict]:
        keyed = [(_str(raw.get("kind")), _str(raw.get("site_id"))) if isinstance(raw, dict) else (None, None)
                 for raw in items]
        existing = self._existing({k for k in keyed if k[0] in KINDS and isinstance(k[1], str)})
        self._preload(items, existing)
        outcomes, seen = [], {}
        for raw, key in zip(items, keyed):
            if key in seen and seen[key].error is None:
                outcomes.append(seen[key])  # the same item twice in one batch: one effect
                continue
            outcome = self._one(raw, key, existing.get(key))
            seen[key] = outcome
            outcomes.append(outcome)
        orders.lane_write(self.new_orders, list(self.changed.values()), self.ledger)
        self._finish(outcomes)
        return [o.answer for o in outcomes]

    def _existing(self, keys) -> dict:
        if not keys:
            return {}
        # kinds and ids as two lists (the unique index's columns; cheaper to plan than pairs), pairs picked here
        rows = db.session.execute(select(LaneUpload.id, LaneUpload.kind, LaneUpload.site_ref, LaneUpload.status,
                                         LaneUpload.response).where(
            LaneUpload.park_id == self.park.id, LaneUpload.kind.in_({k for k, _r in keys}),
            LaneUpload.site_ref.in_({r for _k, r in keys})))
        return {(r.kind, r.site_ref): r for r in rows if (r.kind, r.site_ref) in keys}

    def _known(self, rows: list[dict]) -> list[dict]:
        """One dict per order however it was found, so every change lands on the same row."""
        return [self.orders.setdefault(row["id"], row) for row in rows]

    def _preload(self, items, existing) -> None:
        """Open orders of the plates entering, and orders of the site ids that exits and settlements name
        (but not of entries made by this batch: those are found as the batch goes)."""
        plates, refs, entering = set(), set(), set()
        for raw in items:
            if not isinstance(raw, dict):
                continue
            ref = _str(raw.get("site_id"))
            if raw.get("kind") == "entry" and ref and getattr(existing.get(("entry", ref)), "status", None) != "ok":
                entering.add(ref)
            if raw.get("kind") == "entry" and isinstance(raw.get("plate"), str):
                try:
                    plates.add(orders.normalize_plate(raw["plate"]))
                except Invalid:
                    pass
            if isinstance(raw.get("order_site_id"), str):
                refs.add(raw["order_site_id"])
        if plates:
            for order in self._known(orders.lane_orders(
                    (ParkingOrder.park_id == self.park.id) & ParkingOrder.plate.in_(plates)
                    & (ParkingOrder.state == OrderState.OPEN.value))):
                self.open_by_plate[order["plate"]] = order
        refs -= entering
        if refs:
            found = dict(db.session.execute(select(LaneUpload.order_id, LaneUpload.site_ref).where(
                LaneUpload.park_id == self.park.id, LaneUpload.kind == "entry", LaneUpload.status == "ok",
                LaneUpload.site_ref.in_(refs), LaneUpload.order_id.is_not(None))).all())
            if found:
                for order in self._known(orders.lane_orders(ParkingOrder.id.in_(list(found)))):
                    self.orders_by_ref[found[order["id"]]] = order

    def _one(self, raw, key, stored) -> Outcome:
        kind, ref = key
        if stored is not None and stored.status == "ok":
            return Outcome(kind, ref, answer=stored.response)
        outcome = Outcome(kind, ref, upload_id=stored.id if stored is not None else None)
        try:
            if not isinstance(raw, dict):
                raise Invalid("validation_failed", "Each item is a JSON object.", {"item": "an object"})
            if kind not in KINDS:
                raise Invalid("validation_failed", "Unknown kind.", {"kind": "one of " + ", ".join(KINDS)})
            if not isinstance(ref, str) or not SITE_REF.match(ref):
                raise Invalid("validation_failed", "Each item carries the site's own id.",
                              {"site_id": "1 to 64 letters, digits or . _ : -"})
            getattr(self, f"_{kind}")(Item(raw, self.now), outcome)
        except DomainError as exc:
            outcome.error = refusal(exc.code, exc.message, exc.fields)
        return outcome

    def _changed(self, order: dict) -> None:
        if order["id"] is not None:
            self.changed[order["id"]] = order

    # --- kinds ---

    def _lane(self, item: Item, required=True):
        lane_id = item.int("lane_id", required=required, minimum=1, maximum=2**31 - 1)
        if lane_id is not None and lane_id not in self.lane_ids():
            item.errors["lane_id"] = "not a lane of this park"
        return lane_id

    def _entry(self, item: Item, out: Outcome) -> None:
        plate, at, lane_id = item.plate(), item.time(), self._lane(item)
        vehicle_class = item.text("vehicle_class", required=False, max_len=32) or "small"
        photo = item.photo()
        item.check()
        stale = self.open_by_plate.get(plate)
        if stale is not None:
            orders.lane_close_stale(stale, at, self.now)
            self._changed(stale)
        version = self._tariff_version(vehicle_class, at)
        order = orders.lane_entry(self.park.id, plate, at, self.now, vehicle_class, version.id if version else None)
        self.new_orders.append(order)
        self.open_by_plate[plate] = self.orders_by_ref[out.ref] = order
        out.order, out.photo = order, photo
        out.values = {"lane_id": lane_id, "plate": plate, "occurred_at": at,
                      "detail": {"vehicle_class": vehicle_class, "closed_order_id": stale["id"] if stale else None}}
        if stale is not None and stale["id"] is None:  # closed an order of this same batch: its id comes later
            out.values["closed_order"] = stale

    def _tariff_version(self, vehicle_class: str, at: datetime):
        """The version in force at the batch's latest time also rules every earlier entry it had already
        started for (the candidates at an earlier time are a subset); look up only the others."""
        from app.tariffs.services import applicable_version

        if vehicle_class not in self.versions:
            self.versions[vehicle_class] = applicable_version(self.park.id, vehicle_class, self.latest)
        version = self.versions[vehicle_class]
        if version is None or version.effective_from <= at:
            return version
        return applicable_version(self.park.id, vehicle_class, at)

    def _order_of(self, item: Item) -> tuple[str | None, dict | None]:
        ref = item.text("order_site_id")
        order = self.orders_by_ref.get(ref) if ref else None
        if ref and order is None:
            item.errors["order_site_id"] = "no entry with this id was uploaded"
        return ref, order

    def _exit(self, item: Item, out: Outcome) -> None:
        ref, order = self._order_of(item)
        at, lane_id, photo = item.time(), self._lane(item), item.photo()
        item.check()
        orders.lane_exit(order, at, self.now)
        self._changed(order)
        if self.open_by_plate.get(order["plate"]) is order:
            del self.open_by_plate[order["plate"]]
        out.order, out.photo = order, photo
        out.values = {"lane_id": lane_id, "plate": order["plate"], "occurred_at": at, "order_site_ref": ref}

    def _settlement(self, item: Item, out: Outcome) -> None:
        ref, order = self._order_of(item)
        at, fee = item.time(), item.int("fee_fen")
        reduction = item.int("reduction_fen", required=False) or 0
        free_reason = item.text("free_reason", required=False, max_len=80)
        collector = item.text("collector_name", required=False, max_len=80)
        payments = item.raw.get("payments") or []
        parsed = []
        if not isinstance(payments, list) or len(payments) > 5:
            item.errors["payments"] = "a list of up to 5 {method, amount_fen}"
        else:
            for p in payments:
                ok = isinstance(p, dict) and p.get("method") in PAY_METHODS and isinstance(p.get("amount_fen"), int) \
                    and not isinstance(p.get("amount_fen"), bool) and 0 <= p["amount_fen"] <= 10_000_000_00
                if not ok:
                    item.errors["payments"] = "each {method: cash|electronic|card, amount_fen >= 0}"
                    break
                parsed.append((p["method"], p["amount_fen"]))
        if reduction and not free_reason:
            item.errors["free_reason"] = "required with a reduction"
        item.check()
        self.ledger += orders.lane_settle(order, at, self.now, fee, parsed, reduction, free_reason)
        self._changed(order)
        out.order = order
        out.values = {"plate": order["plate"], "occurred_at": at, "order_site_ref": ref,
                      "detail": {"fee_fen": fee, "payments": [{"method": m, "amount_fen": a} for m, a in parsed],
                                 "reduction_fen": reduction, "free_reason": free_reason, "collector_name": collector}}

    def _lift(self, item: Item, out: Outcome) -> None:
        """手动抬杆: a barrier opened by hand; kept for audit and the lift report."""
        from app.audit.services import record

        at, lane_id = item.time(), self._lane(item)
        reason = item.text("reason", max_len=200)
        operator = item.text("operator_name", required=False, max_len=80)
        plate = item.text("plate", required=False, max_len=16)
        item.check()
        out.values = {"lane_id": lane_id, "plate": plate, "occurred_at": at,
                      "detail": {"reason": reason, "operator_name": operator}}
        record(None, "barrier_lift", anchor=self.park, object_type="Lane", label=f"lane {lane_id}: {reason}"[:200],
               after={"lane_id": lane_id, "at": at.isoformat(), "reason": reason, "operator_name": operator,
                      "plate": plate, "site_id": out.ref})

    def _pass_sale(self, item: Item, out: Outcome) -> None:
        """A monthly pass sold at the booth: the members rules and ledger, as if sold in the admin."""
        from app.members.models import MonthlyProduct
        from app.members.services import sell_pass

        at = item.time()
        product_id = item.int("product_id", minimum=1, maximum=2**31 - 1)
        holder = item.text("holder_name", max_len=80)
        phone = item.text("phone", required=False, max_len=32)
        months = item.int("months", minimum=1, maximum=36)
        paid = item.int("paid_fen", required=False)
        method = item.text("method", required=False, max_len=16) or "cash"
        plates = item.raw.get("plates")
        starts = item.text("starts_on", max_len=10)
        try:
            starts_on = date.fromisoformat(starts) if starts else None
        except ValueError:
            starts_on = None
            item.errors["starts_on"] = "a date YYYY-MM-DD"
        if not isinstance(plates, list) or not plates or not all(isinstance(p, str) for p in plates):
            item.errors["plates"] = "a list of plates"
        item.check()
        product = db.session.get(MonthlyProduct, product_id)
        with db.session.begin_nested():
            pass_ = sell_pass(None, product=product, selling_park=self.park, holder_name=holder, phone=phone,
                              plates=plates, starts_on=starts_on, months=months, paid_fen=paid, method=method,
                              note="sold at the booth", now=at)
        out.values = {"plate": pass_.plates[0].plate, "occurred_at": at,
                      "detail": {"pass_id": pass_.id, "product_id": product_id, "months": months,
                                 "paid_fen": paid, "method": method}}
        out.answer_extra = {"pass_id": pass_.id, "ends_on": pass_.ends_on.isoformat()}

    # --- writing the answers ---

    def _finish(self, outcomes: list[Outcome]) -> None:
        records, done = {}, set()
        for out in outcomes:
            if out.answer is not None or id(out) in done:
                continue
            done.add(id(out))
            if out.error is None:
                closed = out.values.pop("closed_order", None)
                if closed is not None:
                    out.values["detail"]["closed_order_id"] = closed["id"]
                out.answer = {"kind": out.kind, "site_id": out.ref, "status": "ok",
                              "order_id": out.order["id"] if out.order else None, **out.answer_extra}
            else:
                out.answer = {"kind": out.kind, "site_id": out.ref, "status": "refused", "error": out.error}
            if out.kind in KINDS and isinstance(out.ref, str) and SITE_REF.match(out.ref):  # else nothing to key by
                records[(out.kind, out.ref)] = out
        photos, fresh, retried = [], [], []
        for (kind, ref), out in records.items():
            ok = out.error is None
            photo_path = self._save_photo(out, photos) if out.photo and ok else None
            row = {"lane_id": None, "plate": None, "occurred_at": None, "order_site_ref": None, "detail": None,
                   **out.values, "status": "ok" if ok else "refused", "response": out.answer,
                   "order_id": out.order["id"] if out.order and ok else None, "received_at": self.now,
                   "photo_path": photo_path}
            if out.upload_id is None:
                fresh.append({"park_id": self.park.id, "kind": kind, "site_ref": ref, **row})
            else:
                retried.append({"id": out.upload_id, **{c: row[c] for c in UPLOAD_VALUES}})
        bulk.insert_rows(LaneUpload.__table__, fresh)
        bulk.update_rows(LaneUpload.__table__, retried)
        bulk.insert_rows(OrderPhoto.__table__, photos)

    def _save_photo(self, out: Outcome, photos: list) -> str:
        content_type, ext = order_photos.sniff(out.photo)
        relative = Path(str(self.park.id)) / "lanes" / self.now.strftime("%Y/%m") / f"{uuid.uuid4().hex}{ext}"
        target = order_photos.photo_root() / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(out.photo)
        if out.order is not None:
            photos.append({"park_id": self.park.id, "order_id": out.order["id"], "kind": out.kind,
                           "path": str(relative), "content_type": content_type, "size_bytes": len(out.photo),
                           "taken_by_id": None, "created_at": self.now,
                           "delete_after": self.now + timedelta(days=self._retention())})
        return str(relative)

    def _retention(self) -> int:
        from app.parks.settings import collector_settings

        if not hasattr(self, "_retention_days"):
            self._retention_days = collector_settings(self.park).photo_retention_days or 90
        return self._retention_days


def upload(site: SiteServer, park, items, now: datetime) -> list[dict]:
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise Invalid("validation_failed", f"Send 1 to {MAX_ITEMS} items.", {"items": f"a list of 1 to {MAX_ITEMS}"})
    return Batch(site, park, now).run(items)
