"""The order lifecycle: car in, quote, settle, escape (逃单), recover arrears (追缴).

Each transition is one function that writes the order, its ledger rows and its arrear in the
caller's transaction. Nothing else writes the ledger. The fee is always computed here, never
taken from a device."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.berths.models import Berth
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.orders.models import (Arrear, LedgerEntry, LedgerKind, OrderState, ParkingOrder, PaymentMethod,
                               PlateListEntry)
from app.parks.models import FreeReason
from app.parks.settings import collector_settings
from app.shifts.models import Shift
from app.staff.models import Staff
from app.tariffs.engine import Fee, PassCoverage
from app.tariffs.services import applicable_version, quote_stay
from app.tariffs.models import TariffVersion
from app.tenancy.models import City, Park

PLATE_RE = re.compile(r"^[A-Z0-9\u4e00-\u9fff]{4,10}$")
MONEY_METHODS = (PaymentMethod.CASH.value, PaymentMethod.ELECTRONIC.value, PaymentMethod.CARD.value)
FREE_RELEASE = "pos.free_release"


def normalize_plate(raw: str) -> str:
    plate = re.sub(r"[\s·.\-]", "", (raw or "")).upper()
    if not PLATE_RE.match(plate):
        raise Invalid("bad_plate", "A plate is 4 to 10 letters, digits or Chinese characters.", {"plate": "invalid"})
    return plate


def _for_update(stmt):
    """Row locks where the database has them (PostgreSQL); SQLite serialises writers anyway."""
    return stmt.with_for_update() if db.session.get_bind().dialect.name == "postgresql" else stmt


def _flush_or_conflict(code: str, message: str) -> None:
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(code, message) from exc


@dataclass
class Quote:
    fee: Fee
    prepaid_fen: int
    left_at: datetime
    tariff_version_id: int | None

    @property
    def due_fen(self) -> int:
        return max(self.fee.total_fen - self.prepaid_fen, 0)

    @property
    def refund_fen(self) -> int:
        return max(self.prepaid_fen - self.fee.total_fen, 0)

    def to_dict(self) -> dict:
        fee = self.fee.to_dict()
        return {"fee_fen": self.fee.total_fen, "prepaid_fen": self.prepaid_fen, "due_fen": self.due_fen,
                "refund_fen": self.refund_fen, "left_at": self.left_at.isoformat(), "lines": fee["lines"],
                "tariff_version_id": self.tariff_version_id}


def blacklisted(park_id: int, plate: str, at: datetime) -> PlateListEntry | None:
    return db.session.scalar(select(PlateListEntry).where(
        PlateListEntry.park_id == park_id, PlateListEntry.plate == plate, PlateListEntry.kind == "black",
        PlateListEntry.active.is_(True),
        (PlateListEntry.valid_from.is_(None)) | (PlateListEntry.valid_from <= at),
        (PlateListEntry.valid_until.is_(None)) | (PlateListEntry.valid_until > at)).limit(1))


def _require_shift_segment(shift: Shift | None, segment_id: int | None) -> Shift:
    if shift is None:
        raise Forbidden("not_signed_in", "Sign in to a berth segment first.")
    if segment_id is not None and shift.segment_id != segment_id:
        raise Forbidden("not_on_segment", "This berth is not on the segment you are signed in to.")
    return shift


def car_in(*, collector: Staff, shift: Shift | None, park: Park, berth_id: int, plate: str, entered_at: datetime,
           received_at: datetime, vehicle_class: str = "small", prepay_fen: int = 0,
           prepay_method: str | None = None) -> ParkingOrder:
    plate = normalize_plate(plate)
    berth = db.session.scalar(_for_update(select(Berth).where(Berth.id == berth_id, Berth.park_id == park.id)))
    if berth is None or not berth.active:
        raise NotFound("berth_not_found", "No such berth in your park.", {"berth_id": "unknown"})
    _require_shift_segment(shift, berth.segment_id)
    settings = collector_settings(park, collector.role_id)
    from app.sensors.services import arrival_time_for, link_order  # sensor time (地磁时间), if the berth has one

    entered_at, sensor_session = arrival_time_for(berth, received_at, entered_at, settings.use_sensor_time)
    if settings.refuse_blacklisted and blacklisted(park.id, plate, entered_at):
        raise Conflict("plate_blacklisted", "This plate is on the park's black list.", {"plate": "blacklisted"})
    for other in db.session.scalars(select(ParkingOrder).where(
            ParkingOrder.state == OrderState.OPEN.value,
            (ParkingOrder.berth_id == berth.id) | ((ParkingOrder.park_id == park.id) & (ParkingOrder.plate == plate)))):
        if other.berth_id == berth.id:
            raise Conflict("berth_occupied", "This berth already has a car; settle or move it first.")
        raise Conflict("plate_parked", f"This plate is already parked at berth "
                                       f"{other.berth.number if other.berth else '?'}.", extra={"order_id": other.id})
    if prepay_fen:
        _check_prepay(settings, prepay_fen, prepay_method)
    version = applicable_version(park.id, vehicle_class, entered_at)
    order = ParkingOrder(park_id=park.id, segment_id=berth.segment_id, berth_id=berth.id, plate=plate,
                         vehicle_class=vehicle_class, entered_at=entered_at, entry_received_at=received_at,
                         tariff_version_id=version.id if version else None, prepaid_fen=prepay_fen,
                         entry_collector_id=collector.id, entry_shift_id=shift.id)
    db.session.add(order)
    _flush_or_conflict("berth_occupied", "This berth or plate already has an open order.")
    link_order(sensor_session, order)
    if prepay_fen:
        _ledger(order, collector, shift, prepay_method, LedgerKind.PREPAY, prepay_fen, received_at)
    return order


def _check_prepay(settings, amount_fen: int, method: str | None) -> None:
    if not settings.prepay_allowed:
        raise Invalid("prepay_not_allowed", "Prepayment is switched off for this park.", {"prepay": "not allowed"})
    if amount_fen < 0 or amount_fen > 100_000_00:
        raise Invalid("bad_amount", "The prepaid amount is out of range.", {"prepay.amount_fen": "out of range"})
    if method not in MONEY_METHODS:
        raise Invalid("bad_method", "Prepay by cash, electronic or card.", {"prepay.method": "invalid"})


def _ledger(order: ParkingOrder, collector: Staff, shift: Shift | None, method: str, kind: LedgerKind,
            amount_fen: int, at: datetime, *, arrear: Arrear | None = None) -> None:
    """One money movement. A recovery is booked where the money was taken (the collector's
    park and segment), not where the debt was made."""
    where = (shift.park_id, shift.segment_id, None) if arrear is not None else \
        (order.park_id, order.segment_id, order.berth_id)
    db.session.add(LedgerEntry(
        park_id=where[0], segment_id=where[1], berth_id=where[2], order_id=order.id,
        arrear_id=arrear.id if arrear else None, collector_id=collector.id if collector else None,
        shift_id=shift.id if shift else None, method=method, kind=kind.value, amount_fen=amount_fen,
        occurred_at=at))


def quote_order(order: ParkingOrder, left_at: datetime) -> Quote:
    if left_at < order.entered_at:
        raise Invalid("left_before_entry", "The exit time is before the entry time.", {"left_at": "before entry"})
    version = db.session.get(TariffVersion, order.tariff_version_id) if order.tariff_version_id else None
    fee = quote_stay(order.park, version, order.entered_at, left_at, order.vehicle_class,
                     pass_=_coverage(order))
    return Quote(fee, order.prepaid_fen, left_at, order.tariff_version_id)


WHITE_LIST_COVERAGE = PassCoverage(kind="all_day")


def _coverage(order: ParkingOrder) -> PassCoverage | None:
    """A white-listed plate parks free; a monthly pass covers what its product says."""
    from app.members.services import pass_for, white_listed  # members build on orders, not the reverse

    if white_listed(order.park_id, order.plate, order.entered_at):
        return WHITE_LIST_COVERAGE
    return pass_for(order.park, order.plate, order.entered_at)


def lock_open_order(order_id: int, park: Park) -> ParkingOrder:
    stmt = select(ParkingOrder).where(ParkingOrder.id == order_id, ParkingOrder.park_id == park.id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=ParkingOrder)
    order = db.session.scalar(stmt.options(joinedload(ParkingOrder.park), joinedload(ParkingOrder.segment),
                                           joinedload(ParkingOrder.berth)))
    if order is None:
        raise NotFound("order_not_found", "No such order in your park.")
    if order.state != OrderState.OPEN.value:
        raise Conflict("order_not_open", f"This order is already {order.state}.", extra={"state": order.state})
    return order


def settle(*, collector: Staff, shift: Shift | None, park: Park, order_id: int, left_at: datetime,
           received_at: datetime, method: str, amount_fen: int, free_reason: str | None = None):
    order = lock_open_order(order_id, park)
    _require_shift_segment(shift, order.segment_id)
    quote = quote_order(order, left_at)
    if method == PaymentMethod.FREE.value:
        _check_free_release(collector, park, free_reason, amount_fen)
        paid, reduction = 0, quote.fee.total_fen
    elif method in MONEY_METHODS:
        if amount_fen != quote.due_fen:
            raise Conflict("fee_changed", "The amount due has changed; show the new quote and try again.",
                           extra={"quote": quote.to_dict()})
        paid, reduction = quote.due_fen, 0
    else:
        raise Invalid("bad_method", "Pay by cash, electronic, card or free release.", {"method": "invalid"})
    refund = order.prepaid_fen if method == PaymentMethod.FREE.value else quote.refund_fen
    if paid:
        _ledger(order, collector, shift, method, LedgerKind.FEE, paid, received_at)
    if refund:
        _ledger(order, collector, shift, _prepay_method(order), LedgerKind.PREPAY_REFUND, -refund, received_at)
    _close(order, OrderState.SETTLED, collector, shift, quote, received_at)
    order.paid_fen = order.prepaid_fen + paid - refund
    order.reduction_fen = reduction
    order.payment_method = method
    order.free_reason = free_reason if method == PaymentMethod.FREE.value else None
    order.receipt_no = f"{park.id:04d}-{order.id:08d}"
    db.session.flush()
    return order, quote


def _check_free_release(collector: Staff, park: Park, reason: str | None, amount_fen: int) -> None:
    if not collector.can(FREE_RELEASE):
        raise Forbidden("free_release_forbidden", "Your role may not release cars for free.")
    names = set(db.session.scalars(select(FreeReason.name).where(FreeReason.park_id == park.id,
                                                                 FreeReason.active.is_(True))))
    if reason not in names:
        raise Invalid("bad_free_reason", "Choose one of the park's free-release reasons.",
                      {"free_reason": "unknown"}, extra={"reasons": sorted(names)})
    if amount_fen:
        raise Invalid("bad_amount", "A free release collects nothing.", {"amount_fen": "must be 0"})


def _prepay_method(order: ParkingOrder) -> str:
    method = db.session.scalar(select(LedgerEntry.method).where(
        LedgerEntry.order_id == order.id, LedgerEntry.kind == LedgerKind.PREPAY.value).limit(1))
    return method or PaymentMethod.CASH.value


def _close(order: ParkingOrder, state: OrderState, collector: Staff, shift: Shift | None, quote: Quote,
           received_at: datetime) -> None:
    order.state = state.value
    order.left_at = quote.left_at
    order.exit_received_at = received_at
    order.exit_collector_id = collector.id
    order.exit_shift_id = shift.id if shift else None
    order.fee_fen = quote.fee.total_fen
    order.fee_lines = quote.fee.to_dict()["lines"]


def escape(*, collector: Staff, shift: Shift | None, park: Park, order_id: int, left_at: datetime,
           received_at: datetime) -> Arrear:
    """逃单: the car left without paying. The fee beyond the prepayment becomes an arrear."""
    order = lock_open_order(order_id, park)
    _require_shift_segment(shift, order.segment_id)
    quote = quote_order(order, left_at)
    if quote.due_fen <= 0:
        raise Conflict("prepay_covers_fee", "The prepayment covers the fee: settle the order instead.",
                       extra={"quote": quote.to_dict()})
    _close(order, OrderState.UNPAID, collector, shift, quote, received_at)
    order.paid_fen = order.prepaid_fen
    arrear = Arrear(park_id=park.id, order_id=order.id, plate=order.plate, amount_fen=quote.due_fen)
    db.session.add(arrear)
    db.session.flush()
    return arrear


def escape_unattended(order_id: int, park: Park, left_at: datetime, received_at: datetime) -> Arrear | None:
    """逃单 decided by the system: a sensor saw the car leave while nobody was on duty on the segment.
    The same arrear as `escape`, without collector or shift. None (order left open) when the
    prepayment covers the fee, because nothing is owed and only a person can hand money back."""
    order = lock_open_order(order_id, park)
    quote = quote_order(order, max(left_at, order.entered_at))
    if quote.due_fen <= 0:
        return None
    order.state = OrderState.UNPAID.value
    order.left_at, order.exit_received_at = quote.left_at, received_at
    order.exit_collector_id = order.exit_shift_id = None
    order.fee_fen = quote.fee.total_fen
    order.fee_lines = quote.fee.to_dict()["lines"]
    order.paid_fen = order.prepaid_fen
    arrear = Arrear(park_id=park.id, order_id=order.id, plate=order.plate, amount_fen=quote.due_fen)
    db.session.add(arrear)
    db.session.flush()
    return arrear


def arrears_scope_parks(park: Park):
    """Parks whose debts a collector of `park` may recover: its group, or the whole city if the city says so."""
    city = db.session.get(City, park.city_id)
    if city.citywide_arrears:
        return select(Park.id).where(Park.city_id == park.city_id)
    return select(Park.id).where(Park.group_id == park.group_id)


def open_arrears(plate: str, park: Park) -> list[Arrear]:
    return list(db.session.scalars(select(Arrear).where(
        Arrear.plate == plate, Arrear.state == "open", Arrear.park_id.in_(arrears_scope_parks(park)))
        .order_by(Arrear.created_at)))


def recover(*, collector: Staff, shift: Shift | None, park: Park, arrear_ids: list[int], method: str,
            amount_fen: int, at: datetime) -> list[Arrear]:
    """追缴: pay several old debts at once, all or nothing."""
    if shift is None:
        raise Forbidden("not_signed_in", "Sign in to a berth segment first.")
    if method not in MONEY_METHODS:
        raise Invalid("bad_method", "Pay by cash, electronic or card.", {"method": "invalid"})
    ids = sorted(set(arrear_ids))
    arrears = list(db.session.scalars(_for_update(select(Arrear).where(
        Arrear.id.in_(ids), Arrear.park_id.in_(arrears_scope_parks(park)))).order_by(Arrear.id)))
    if len(arrears) != len(ids):
        raise NotFound("arrear_not_found", "Some of these debts do not exist or are not yours to recover.",
                       {"arrear_ids": "unknown"})
    closed = [a.id for a in arrears if a.state != "open"]
    if closed:
        raise Conflict("arrear_already_recovered", "Some of these debts are already paid.",
                       extra={"arrear_ids": closed})
    total = sum(a.amount_fen for a in arrears)
    if amount_fen != total:
        raise Conflict("fee_changed", "The total owed differs from the amount sent.",
                       extra={"due_fen": total, "arrears": [{"id": a.id, "amount_fen": a.amount_fen} for a in arrears]})
    for arrear in arrears:
        arrear.state, arrear.recovered_at, arrear.recovered_by_id = "recovered", at, collector.id
        arrear.recovered_park_id, arrear.recovered_method = park.id, method
        order = arrear.order
        order.state = OrderState.RECOVERED.value
        order.paid_fen += arrear.amount_fen
        _ledger(order, collector, shift, method, LedgerKind.RECOVERY, arrear.amount_fen, at, arrear=arrear)
    db.session.flush()
    return arrears


# --- manager actions from the admin (no shift, no handheld) ------------------------------------

MANAGER_SETTLE_METHODS = MONEY_METHODS + (PaymentMethod.FREE.value,)
_SETTLE_AUDIT_FIELDS = ("state", "left_at", "fee_fen", "paid_fen", "reduction_fen", "payment_method", "free_reason")
_RECOVER_AUDIT_FIELDS = ("state", "recovered_at", "recovered_method", "recovered_park_id")


def park_free_reasons(park_id: int) -> list[str]:
    return list(db.session.scalars(select(FreeReason.name).where(
        FreeReason.park_id == park_id, FreeReason.active.is_(True)).order_by(FreeReason.name)))


def manual_settle(actor: Staff, order: ParkingOrder, amount_fen: int, method: str, reason: str | None,
                  at: datetime, *, ip: str | None = None) -> tuple[ParkingOrder, Quote]:
    """手动结算 / 0元结算: a manager closes an open order from the admin, quoted to `at`.

    `amount_fen` is the money collected now, beyond any prepayment: from 0 up to what is due.
    Whatever is not collected is a reduction and needs one of the park's free-release reasons;
    a zero settlement is method "free". A manager hands nothing back, so a prepayment larger
    than the fee is kept (no refund row). Ledger and audit rows go into the caller's transaction."""
    from app.audit.services import record, snapshot

    order = lock_open_order(order.id, order.park)
    quote = quote_order(order, at)
    if method not in MANAGER_SETTLE_METHODS:
        raise Invalid("bad_method", "Settle by cash, electronic, card or free release.", {"method": "invalid"})
    if amount_fen < 0 or amount_fen > quote.due_fen:
        raise Invalid("bad_amount", f"The amount must be between 0 and the {quote.due_fen / 100:.2f} due.",
                      {"amount": "out of range"}, extra={"due_fen": quote.due_fen})
    if method == PaymentMethod.FREE.value and amount_fen:
        raise Invalid("bad_amount", "A free release collects nothing.", {"amount": "must be 0"})
    if method != PaymentMethod.FREE.value and amount_fen == 0 and quote.due_fen > 0:
        raise Invalid("bad_amount", "To settle at zero choose “free release” and a reason.", {"method": "free"})
    reduction = quote.due_fen - amount_fen
    if reduction and reason not in park_free_reasons(order.park_id):
        raise Invalid("bad_free_reason", "A reduction needs one of the park's free-release reasons.",
                      {"reason": "required"})
    before = snapshot(order, _SETTLE_AUDIT_FIELDS)
    if amount_fen:
        _ledger(order, actor, None, method, LedgerKind.FEE, amount_fen, at)
    _close(order, OrderState.SETTLED, actor, None, quote, at)
    order.paid_fen = order.prepaid_fen + amount_fen
    order.reduction_fen = reduction
    order.payment_method = method
    order.free_reason = reason if reduction else None
    order.receipt_no = f"{order.park_id:04d}-{order.id:08d}"
    record(actor, "settle", order, anchor=order.park, before=before,
           after={**snapshot(order, _SETTLE_AUDIT_FIELDS), "due_fen": quote.due_fen, "manual": True},
           label=order.plate, ip=ip)
    db.session.flush()
    return order, quote


def manager_recover(actor: Staff, arrear_ids: list[int], method: str, amount_fen: int, at: datetime, *,
                    ip: str | None = None) -> list[Arrear]:
    """追缴 by a manager: pay several open debts of the manager's scope at once, all or nothing.
    The recovery is booked at the debt's own park and segment (no collector shift took it)."""
    from app.audit.services import record, snapshot
    from app.tenancy.scope import Scope

    if method not in MONEY_METHODS:
        raise Invalid("bad_method", "Pay by cash, electronic or card.", {"method": "invalid"})
    ids = sorted(set(arrear_ids))
    if not ids:
        raise Invalid("no_arrears", "Choose at least one debt to recover.", {"arrear_ids": "required"})
    arrears = list(db.session.scalars(_for_update(select(Arrear).where(
        Arrear.id.in_(ids), Arrear.scope_clause(Scope.of(actor)))).order_by(Arrear.id)))
    if len(arrears) != len(ids):
        raise NotFound("arrear_not_found", "Some of these debts do not exist or are not yours to recover.",
                       {"arrear_ids": "unknown"})
    closed = [a.id for a in arrears if a.state != "open"]
    if closed:
        raise Conflict("arrear_already_recovered", "Some of these debts are already paid.",
                       extra={"arrear_ids": closed})
    total = sum(a.amount_fen for a in arrears)
    if amount_fen != total:
        raise Conflict("fee_changed", f"The total owed is {total / 100:.2f}; the amount must equal it.",
                       extra={"due_fen": total})
    for arrear in arrears:
        before = snapshot(arrear, _RECOVER_AUDIT_FIELDS)
        arrear.state, arrear.recovered_at, arrear.recovered_by_id = "recovered", at, actor.id
        arrear.recovered_park_id, arrear.recovered_method = arrear.park_id, method
        order = arrear.order
        order.state = OrderState.RECOVERED.value
        order.paid_fen += arrear.amount_fen
        db.session.add(LedgerEntry(
            park_id=arrear.park_id, segment_id=order.segment_id, berth_id=None, order_id=order.id,
            arrear_id=arrear.id, collector_id=actor.id, shift_id=None, method=method,
            kind=LedgerKind.RECOVERY.value, amount_fen=arrear.amount_fen, occurred_at=at))
        record(actor, "recover", arrear, anchor=arrear.park, before=before,
               after={**snapshot(arrear, _RECOVER_AUDIT_FIELDS), "amount_fen": arrear.amount_fen,
                      "order_id": order.id}, label=arrear.plate, ip=ip)
    db.session.flush()
    return arrears
