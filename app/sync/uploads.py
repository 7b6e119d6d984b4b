"""Uploads of the on-site system (上传): entries, exits, settlements, barrier lifts and pass sales, in
batches. Each item is keyed by the site's own id (per park and kind): an item already accepted is
answered with its first answer and changes nothing when it is sent again as it was (same digest of its
canonical JSON), and refused (site_id_reused) when the id comes back with other content; a refused item
may be sent again, corrected.

Items are validated up front and written with a few bulk statements per batch; one bad item is
refused alone, the others go through."""
from __future__ import annotations

import base64
import binascii
import re
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import JSON, Integer, String, select, text

from app.audit.services import record
from app.core import bulk
from app.core.bodies import digest
from app.core.devicetime import AHEAD, MAX_AHEAD, SITE_MAX_AGE, TOO_OLD, read_device_time
from app.core.errors import DomainError, Invalid
from app.core.plates import normalize_plate
from app.core.types import storable_text
from app.extensions import db, on_postgresql
from app.members.models import MonthlyProduct
from app.members.services import sell_pass
from app.orders import photos as order_photos
from app.orders import services as orders
from app.orders.models import OPEN_STATE, OrderPhoto, ParkingOrder
from app.parks.settings import collector_settings
from app.sync.models import LaneUpload, SiteServer
from app.tariffs.services import applicable_version

KINDS = ("entry", "exit", "settlement", "lift", "pass_sale")
MAX_ITEMS = 500
MAX_PHOTO_BYTES = 512 * 1024
SITE_REF = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
CONTROL = re.compile(r"[\x00-\x1f]")
PAY_METHODS = ("cash", "electronic", "card")
MAX_FEN = 10_000_000_00


def refusal(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


_UNSEEN = object()


class Item:
    """Field-by-field reading of one uploaded item, collecting every problem. `times` and `plates`: the
    batch's readings of the texts already seen (a visit's times and plates come back in its items)."""

    __slots__ = ("raw", "now", "errors", "times", "plates")

    def __init__(self, raw: dict, now: datetime, times: dict | None = None, plates: dict | None = None):
        self.raw, self.now, self.errors = raw, now, {}
        self.times = {} if times is None else times
        self.plates = {} if plates is None else plates

    def text(self, name, *, required=True, max_len=64):
        value = self.raw.get(name)
        if value is None:
            if required:
                self.errors[name] = "required"
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > max_len or \
                CONTROL.search(value) or not storable_text(value):
            self.errors[name] = f"a text of 1 to {max_len} characters"
            return None
        return value.strip()

    def int(self, name, *, required=True, minimum=0, maximum=MAX_FEN):
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
        if isinstance(value, str):
            read = self.times.get(value)
            if read is None:
                read = self.times[value] = read_time(value, self.now)
            parsed, error = read
        else:
            parsed, error = None, "an ISO 8601 time with its UTC offset"
        if error is not None:
            self.errors[name] = error
        return parsed

    def plate(self):
        value = self.text("plate", max_len=16)
        if value is None:
            return None
        plate = self.plates.get(value, _UNSEEN)
        if plate is _UNSEEN:
            plate = self.plates[value] = normalized_plate(value)
        if plate is None:
            self.errors["plate"] = "4 to 10 letters, digits or Chinese characters"
        return plate

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


def lookup_site_refs(park_id: int, keys, columns: str) -> list:
    """The lane uploads of a park with these (kind, site_ref) keys (PostgreSQL): one probe of the unique
    index per key, which the monthly-partitioned uploads keep in `lane_uploads_keys` with each row's id and
    month (app/core/partition_keys.py), then the one month holding it. A plain `kind IN (...) AND
    site_ref IN (...)` is planned from statistics, and while the table grows faster than autovacuum analyzes
    it (a site uploading its backlog) the planner scans every row of the park instead, a cost that grows
    with the table."""
    kinds, refs = zip(*keys)
    wanted = ", ".join(f"u.{column.strip()}" for column in columns.split(","))
    stmt = text(f"SELECT found.* FROM unnest(CAST(:kinds AS text[]), CAST(:refs AS text[])) AS k(kind, ref) "
                f"CROSS JOIN LATERAL (SELECT {wanted} FROM lane_uploads_keys x JOIN lane_uploads u "
                f"ON u.id = x.id AND u.received_at = x.at WHERE x.park_id = :park AND x.kind = k.kind "
                f"AND x.site_ref = k.ref LIMIT 1) AS found")
    if "response" in columns:
        stmt = stmt.columns(response=JSON)
    return db.session.execute(stmt, {"kinds": list(kinds), "refs": list(refs), "park": park_id}).all()


def read_time(value: str, now: datetime) -> tuple[datetime | None, str | None]:
    """A device time and None, or None and what is wrong with it."""
    parsed = read_device_time(value, now, SITE_MAX_AGE)
    if isinstance(parsed, str):
        return None, _TIME_PROBLEMS.get(parsed, "an ISO 8601 time with its UTC offset")
    return parsed, None


_TIME_PROBLEMS = {AHEAD: "more than 2 minutes ahead of the cloud: check the site's clock", TOO_OLD: "older than 7 days"}


def normalized_plate(value: str) -> str | None:
    try:
        return normalize_plate(value)
    except Invalid:
        return None


class Outcome:
    """What one item did: its answer, and the values of its lane_uploads row."""

    __slots__ = ("kind", "ref", "fingerprint", "upload_id", "order", "answer", "error", "values", "photo",
                 "answer_extra")

    def __init__(self, kind: str, ref: str, fingerprint: str | None, upload_id: int | None = None,
                 answer: dict | None = None):
        self.kind, self.ref, self.fingerprint, self.answer = kind, ref, fingerprint, answer
        self.upload_id = upload_id  # the stored refusal this retry replaces
        self.order = self.error = self.photo = self.answer_extra = None
        self.values: dict = {}


LANES_OF_PARK = text("SELECT id FROM lanes WHERE park_id = :park_id")
UPLOAD_VALUES = ("status", "response", "order_id", "received_at", "photo_path", "lane_id", "plate", "occurred_at",
                 "order_site_ref", "detail", "fingerprint")


class Batch:
    """One request's items for one site, processed in order in memory, then written set-based: a few
    statements per batch whatever its size (orders, ledger and lane rows as plain rows, no ORM objects)."""

    def __init__(self, site: SiteServer, park, now: datetime):
        self.site, self.park, self.now = site, park, now
        self.park_id = park.id
        self.lanes: set[int] | None = None
        self.orders: dict[int, dict] = {}          # existing orders read for this batch, by id
        self.open_by_plate: dict[str, dict] = {}
        self.orders_by_ref: dict[str, dict] = {}
        self.new_orders: list[dict] = []
        self.changed: dict[int, dict] = {}         # existing orders the batch changes
        self.ledger: list[dict] = []
        self.versions: dict = {}
        self.latest = now + MAX_AHEAD
        self.times: dict = {}   # the batch's time texts as read (a visit's exit and payment share theirs)
        self.plates: dict = {}  # plate texts as normalized (None: not a plate)
        self.handlers = {kind: getattr(self, f"_{kind}") for kind in KINDS}

    def lane_ids(self) -> set[int]:
        if self.lanes is None:
            self.lanes = set(db.session.scalars(LANES_OF_PARK, {"park_id": self.park_id}))
        return self.lanes

    # --- the batch ---

    def run(self, items: list) -> list[dict]:
        keyed, plates, named, entering = [], set(), set(), set()
        normalized = self.plates
        for raw in items:  # one pass: the keys, and what the lookups need
            if not isinstance(raw, dict):
                keyed.append((None, None))
                continue
            kind, ref = raw.get("kind"), raw.get("site_id")
            kind, ref = kind if isinstance(kind, str) else None, ref if isinstance(ref, str) else None
            keyed.append((kind, ref))
            if kind == "entry":
                if ref:
                    entering.add(ref)
                plate = raw.get("plate")
                if isinstance(plate, str):
                    found = normalized.get(plate, _UNSEEN)
                    if found is _UNSEEN:
                        found = normalized[plate] = normalized_plate(plate)
                    if found is not None:
                        plates.add(found)
            order_ref = raw.get("order_site_id")
            if isinstance(order_ref, str) and SITE_REF.match(order_ref):
                named.add(order_ref)
        # only keys that could have been stored are looked up (a NUL or a lone surrogate in an id would
        # fail in the driver; such an item is refused below)
        existing = self._existing({k for k in keyed if k[0] in KINDS and k[1] is not None and SITE_REF.match(k[1])})
        if existing:  # entries accepted before are looked up like any other order
            entering = {ref for ref in entering if getattr(existing.get(("entry", ref)), "status", None) != "ok"}
        self._preload(plates, named - entering)
        outcomes, seen = [], {}
        for raw, key in zip(items, keyed):
            fingerprint = digest(raw) if key[1] is not None else None
            earlier = seen.get(key)
            if earlier is not None and earlier.error is None:  # the same id twice in one batch: one effect
                outcomes.append(earlier if earlier.fingerprint == fingerprint else _reused(key))
                continue
            outcome = self._one(raw, key, fingerprint, existing.get(key))
            seen[key] = outcome
            outcomes.append(outcome)
        orders.lane_write(self.new_orders, list(self.changed.values()), self.ledger)
        self._finish(outcomes)
        return [o.answer for o in outcomes]

    def _existing(self, keys) -> dict:
        if not keys:
            return {}
        if on_postgresql():
            rows = lookup_site_refs(self.park.id, keys, "id, kind, site_ref, status, fingerprint, response")
        else:
            # kinds and ids as two lists (the unique index's columns), pairs picked here
            rows = db.session.execute(select(LaneUpload.id, LaneUpload.kind, LaneUpload.site_ref, LaneUpload.status,
                                             LaneUpload.fingerprint, LaneUpload.response).where(
                LaneUpload.park_id == self.park.id, LaneUpload.kind.in_({k for k, _r in keys}),
                LaneUpload.site_ref.in_({r for _k, r in keys})))
        return {(r.kind, r.site_ref): r for r in rows if (r.kind, r.site_ref) in keys}

    def _known(self, rows: list[dict]) -> list[dict]:
        """One dict per order however it was found, so every change lands on the same row."""
        return [self.orders.setdefault(row["id"], row) for row in rows]

    def _preload(self, plates: set, refs: set) -> None:
        """Open orders of the plates entering, and orders of the site ids that exits and settlements name
        (but not of entries made by this batch: those are found as the batch goes)."""
        if plates:
            for order in self._known(orders.lane_orders(
                    (ParkingOrder.park_id == self.park_id) & bulk.one_of(ParkingOrder.plate, plates, String)
                    & (ParkingOrder.state == OPEN_STATE))):
                self.open_by_plate[order["plate"]] = order
        if refs:
            if on_postgresql():
                found = {r.order_id: r.site_ref for r in lookup_site_refs(
                    self.park.id, {("entry", ref) for ref in refs}, "site_ref, status, order_id")
                    if r.status == "ok" and r.order_id is not None}
            else:
                found = dict(db.session.execute(select(LaneUpload.order_id, LaneUpload.site_ref).where(
                    LaneUpload.park_id == self.park.id, LaneUpload.kind == "entry", LaneUpload.status == "ok",
                    LaneUpload.site_ref.in_(refs), LaneUpload.order_id.is_not(None))).all())
            if found:
                for order in self._known(orders.lane_orders(bulk.one_of(ParkingOrder.id, found, Integer))):
                    self.orders_by_ref[found[order["id"]]] = order

    def _one(self, raw, key, fingerprint, stored) -> Outcome:
        kind, ref = key
        if stored is not None and stored.status == "ok":
            if stored.fingerprint not in (None, fingerprint):  # (none: accepted before items had digests)
                return _reused(key)
            return Outcome(kind, ref, fingerprint, answer=stored.response)
        outcome = Outcome(kind, ref, fingerprint, upload_id=stored.id if stored is not None else None)
        try:
            if not isinstance(raw, dict):
                raise Invalid("validation_failed", "Each item is a JSON object.", {"item": "an object"})
            if kind not in self.handlers:
                raise Invalid("validation_failed", "Unknown kind.", {"kind": "one of " + ", ".join(KINDS)})
            if not isinstance(ref, str) or not SITE_REF.match(ref):
                raise Invalid("validation_failed", "Each item carries the site's own id.",
                              {"site_id": "1 to 64 letters, digits or . _ : -"})
            self.handlers[kind](raw, outcome)
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

    # Each of the busy kinds first tries the shape sites send: every field plainly well formed (a time,
    # a plate as normalized, a lane of the park, an order this batch or the database knows...) and no
    # optional field. Such an item is read without the field-by-field reading, which gives the same
    # values; any other item, however slightly different, goes through the full reading and its refusals.

    def _time(self, value) -> datetime | None:
        """The time of a well-formed text (cached per batch), else None."""
        if type(value) is not str:
            return None
        read = self.times.get(value)
        if read is None:
            read = self.times[value] = read_time(value, self.now)
        return read[0]

    def _item(self, raw: dict) -> Item:
        return Item(raw, self.now, self.times, self.plates)

    def _entry(self, raw: dict, out: Outcome) -> None:
        plate, lane_id = raw.get("plate"), raw.get("lane_id")
        if type(plate) is str and self.plates.get(plate) == plate and type(lane_id) is int \
                and raw.get("vehicle_class") is None and raw.get("photo") is None and lane_id in self.lane_ids():
            at = self._time(raw.get("at"))
            if at is not None:
                return self._enter(out, plate, at, lane_id, "small", None)
        item = self._item(raw)
        plate, at, lane_id = item.plate(), item.time(), self._lane(item)
        vehicle_class = item.text("vehicle_class", required=False, max_len=32) or "small"
        photo = item.photo()
        item.check()
        self._enter(out, plate, at, lane_id, vehicle_class, photo)

    def _enter(self, out: Outcome, plate: str, at: datetime, lane_id: int, vehicle_class: str, photo) -> None:
        stale = self.open_by_plate.get(plate)
        if stale is not None:
            orders.lane_close_stale(stale, at, self.now)
            self._changed(stale)
        version = self._tariff_version(vehicle_class, at)
        order = orders.lane_entry(self.park_id, plate, at, self.now, vehicle_class, version.id if version else None)
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

    def _exit(self, raw: dict, out: Outcome) -> None:
        ref, lane_id = raw.get("order_site_id"), raw.get("lane_id")
        if type(ref) is str and type(lane_id) is int and raw.get("photo") is None and lane_id in self.lane_ids():
            order, at = self.orders_by_ref.get(ref), self._time(raw.get("at"))  # the keys are valid site ids
            if order is not None and at is not None:
                return self._leave(out, ref, order, at, lane_id, None)
        item = self._item(raw)
        ref, order = self._order_of(item)
        at, lane_id, photo = item.time(), self._lane(item), item.photo()
        item.check()
        self._leave(out, ref, order, at, lane_id, photo)

    def _leave(self, out: Outcome, ref: str, order: dict, at: datetime, lane_id: int, photo) -> None:
        orders.lane_exit(order, at, self.now)
        self._changed(order)
        if self.open_by_plate.get(order["plate"]) is order:
            del self.open_by_plate[order["plate"]]
        out.order, out.photo = order, photo
        out.values = {"lane_id": lane_id, "plate": order["plate"], "occurred_at": at, "order_site_ref": ref}

    def _settlement(self, raw: dict, out: Outcome) -> None:
        ref, fee, payments = raw.get("order_site_id"), raw.get("fee_fen"), raw.get("payments")
        if type(ref) is str and type(fee) is int and 0 <= fee <= MAX_FEN and type(payments) is list \
                and len(payments) <= 5 and raw.get("reduction_fen") is None and raw.get("free_reason") is None \
                and raw.get("collector_name") is None:
            order, at, parsed = self.orders_by_ref.get(ref), self._time(raw.get("at")), []
            for p in payments:
                method, amount = (p.get("method"), p.get("amount_fen")) if type(p) is dict else (None, None)
                if method not in PAY_METHODS or type(amount) is not int or not 0 <= amount <= MAX_FEN:
                    break
                parsed.append((method, amount))
            else:
                if order is not None and at is not None:
                    return self._settle(out, ref, order, at, fee, parsed, 0, None, None)
        item = self._item(raw)
        ref, order = self._order_of(item)
        at, fee = item.time(), item.int("fee_fen")
        reduction = item.int("reduction_fen", required=False) or 0
        free_reason = item.text("free_reason", required=False, max_len=80)
        collector = item.text("collector_name", required=False, max_len=80)
        payments = raw.get("payments") or []
        parsed = []
        if not isinstance(payments, list) or len(payments) > 5:
            item.errors["payments"] = "a list of up to 5 {method, amount_fen}"
        else:
            for p in payments:
                ok = isinstance(p, dict) and p.get("method") in PAY_METHODS and isinstance(p.get("amount_fen"), int) \
                    and not isinstance(p.get("amount_fen"), bool) and 0 <= p["amount_fen"] <= MAX_FEN
                if not ok:
                    item.errors["payments"] = "each {method: cash|electronic|card, amount_fen >= 0}"
                    break
                parsed.append((p["method"], p["amount_fen"]))
        if reduction and not free_reason:
            item.errors["free_reason"] = "required with a reduction"
        item.check()
        self._settle(out, ref, order, at, fee, parsed, reduction, free_reason, collector)

    def _settle(self, out: Outcome, ref: str, order: dict, at: datetime, fee: int, parsed: list, reduction: int,
                free_reason: str | None, collector: str | None) -> None:
        self.ledger += orders.lane_settle(order, at, self.now, fee, parsed, reduction, free_reason)
        self._changed(order)
        out.order = order
        out.values = {"plate": order["plate"], "occurred_at": at, "order_site_ref": ref,
                      "detail": {"fee_fen": fee, "payments": [{"method": m, "amount_fen": a} for m, a in parsed],
                                 "reduction_fen": reduction, "free_reason": free_reason, "collector_name": collector}}

    def _lift(self, raw: dict, out: Outcome) -> None:
        """手动抬杆: a barrier opened by hand; kept for audit and the lift report."""
        item = self._item(raw)
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

    def _pass_sale(self, raw: dict, out: Outcome) -> None:
        """A monthly pass sold at the booth: the members rules and ledger, as if sold in the admin."""
        item = self._item(raw)
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
        records = {}
        for out in outcomes:
            if out.answer is not None:  # a replay, or the same item again
                continue
            if out.error is None:
                closed = out.values.pop("closed_order", None)
                if closed is not None:
                    out.values["detail"]["closed_order_id"] = closed["id"]
                out.answer = {"kind": out.kind, "site_id": out.ref, "status": "ok",
                              "order_id": out.order["id"] if out.order else None}
                if out.answer_extra:
                    out.answer.update(out.answer_extra)
            else:
                out.answer = {"kind": out.kind, "site_id": out.ref, "status": "refused", "error": out.error}
                if out.kind not in KINDS or not isinstance(out.ref, str) or not SITE_REF.match(out.ref):
                    continue  # nothing to key it by
            records[(out.kind, out.ref)] = out  # accepted ones were keyed by a valid kind and site id
        photos, fresh, retried = [], [], []
        for (kind, ref), out in records.items():
            ok = out.error is None
            values = out.values
            row = {"kind": kind, "site_ref": ref, "lane_id": values.get("lane_id"), "plate": values.get("plate"),
                   "occurred_at": values.get("occurred_at"), "order_site_ref": values.get("order_site_ref"),
                   "detail": values.get("detail"), "status": "ok" if ok else "refused", "response": out.answer,
                   "fingerprint": out.fingerprint,
                   "order_id": out.order["id"] if out.order and ok else None,
                   "photo_path": self._save_photo(out, photos) if out.photo and ok else None}
            if out.upload_id is None:
                fresh.append(row)
            else:
                row["id"], row["received_at"] = out.upload_id, self.now
                retried.append(row)
        bulk.insert_rows(LaneUpload.__table__, fresh, constants={"park_id": self.park.id, "received_at": self.now})
        bulk.update_rows(LaneUpload.__table__, [{c: row[c] for c in ("id",) + UPLOAD_VALUES} for row in retried])
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
        if not hasattr(self, "_retention_days"):
            self._retention_days = collector_settings(self.park).photo_retention_days or 90
        return self._retention_days


def _reused(key) -> Outcome:
    """An item whose id was accepted before with other content: refused, and nothing is written for it."""
    kind, ref = key
    outcome = Outcome(kind, ref, None)
    outcome.error = refusal("site_id_reused", "This site_id was already accepted for an item with other content.",
                            {"site_id": "already used for another item"})
    outcome.answer = {"kind": kind, "site_id": ref, "status": "refused", "error": outcome.error}
    return outcome


def upload(site: SiteServer, park, items, now: datetime) -> list[dict]:
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise Invalid("validation_failed", f"Send 1 to {MAX_ITEMS} items.", {"items": f"a list of 1 to {MAX_ITEMS}"})
    return Batch(site, park, now).run(items)
