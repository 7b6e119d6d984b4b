"""The order lifecycle: car in, quote, settle, escape (逃单), recover arrears (追缴).

Each transition is one function that writes the order, its ledger postings (through the ledger's one
writer, app.ledger.services) and its arrear in the caller's transaction. The fee is always computed
here, never taken from a device. Orders build on members (what covers a plate), the ledger and the
tariffs; what sensors add (the arrival time) comes in through an ArrivalSource the caller passes."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Protocol, TypeVar

from sqlalchemy import BindParameter, ColumnElement, bindparam, insert, null, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.audit.services import record, snapshot
from app.berths.models import Berth, BerthSegment
from app.core import bulk
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.plates import normalize_plate
from app.core.refs import ParkRef, ShiftRef, StaffRef
from app.core.signals import arrear_recovered, order_escaped, order_opened, order_settled
from app.extensions import db, execute_core, on_postgresql
from app.ledger.models import LedgerEntry, LedgerKind
from app.ledger.services import LedgerPosting, post, post_many
from app.members.services import (
    black_listed_column,
    blacklisted,  # noqa: F401  (the handheld's plate lookup asks orders)
    coverage,
    white_or_pass_columns,
)
from app.orders.models import OPEN_STATE, Arrear, OrderState, ParkingOrder, PaymentMethod
from app.orders.records import OrderRecord, OrderView, QuoteInputs
from app.parks.models import FreeReason
from app.parks.settings import WriteSettings, collector_settings, park_parameters
from app.staff.models import Staff
from app.tariffs.engine import Fee
from app.tariffs.models import TariffVersion
from app.tariffs.services import VERSION_ID_IN_FORCE, quote_rule, rule_of_version
from app.tenancy.models import City, Park
from app.tenancy.scope import Scope

Order = TypeVar("Order", ParkingOrder, OrderRecord)  # what a service hands back as it was given
# read once: an enum member's value is a slow lookup
_FEE, _PREPAY, _PREPAY_REFUND, _RECOVERY = (LedgerKind.FEE.value, LedgerKind.PREPAY.value,
                                            LedgerKind.PREPAY_REFUND.value, LedgerKind.RECOVERY.value)
MONEY_METHODS = (PaymentMethod.CASH.value, PaymentMethod.ELECTRONIC.value, PaymentMethod.CARD.value)
FREE_RELEASE = "pos.free_release"


def _for_update(stmt):
    """Row locks where the database has them (PostgreSQL); SQLite serialises writers anyway."""
    return stmt.with_for_update() if on_postgresql() else stmt


def _insert_order(berth: Berth, **values) -> OrderRecord:
    """A new order by one INSERT … RETURNING id, returned as a plain record of what was written (the
    ORM's unit of work, or even an object joining the session, costs more than the statement): nothing
    changes an order in the request that creates it. Load it as a ParkingOrder to change it."""
    row = {c.key: values[c.key] if c.key in values else _column_default(c) for c in _ORDERS if not c.primary_key}
    return OrderRecord(id=execute_core(_INSERT_ORDER, row).scalar_one(), berth_number=berth.number, **row)


def _column_default(column):
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


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


# The statements of the handheld's car cycle are built once: building one costs more than running it.
_AT: BindParameter = bindparam("at")


class ArrivalSource(Protocol):
    """Where a car's arrival time may come from besides the handheld (the kerb's sensors, 地磁时间). Car in
    reads `column(berth_id)` with the berth, in the same round trip, and asks `arrival` for the entry time
    to use and a token it hands to `link` once the order exists."""

    def column(self, berth_id) -> ColumnElement: ...

    def arrival(self, value, received_at: datetime, entered_at: datetime,
                use_sensor_time: bool) -> tuple[datetime, object]: ...

    def link(self, token: object, order_id: int) -> None: ...

    def __hash__(self) -> int: ...  # the statements are built once per source


@lru_cache(maxsize=4)
def _berth_statements(source: ArrivalSource | None):
    """The berth and the car-in checks, unlocked and locked, with the source's column (built once per source)."""
    column = source.column(Berth.id) if source is not None else null()
    statement = select(Berth, column.label("arrival_ref")).where(
        Berth.id == bindparam("berth_id"), Berth.park_id == bindparam("park_id")).add_columns(*_CAR_IN_CHECKS)
    return statement, statement.with_for_update(of=Berth)


_ORDERS = ParkingOrder.__table__.c
# What car in checks before its insert: is the plate black-listed, does an open order hold the berth or
# the plate (one index scan each: an OR of both plans and runs far slower), and which tariff version is
# in force. They come with the berth's row and lock, in one round trip. Under a race for the berth
# they may read what was there before the lock: the unique indexes on open orders then refuse the insert.
_CAR_IN_CHECKS = (
    black_listed_column(bindparam("park_id"), bindparam("plate"), _AT),
    select(_ORDERS.id).where(_ORDERS.berth_id == bindparam("berth_id"), _ORDERS.state == OPEN_STATE)
    .limit(1).scalar_subquery().label("on_berth"),
    select(_ORDERS.id).where(_ORDERS.park_id == bindparam("park_id"), _ORDERS.plate == bindparam("plate"),
                             _ORDERS.state == OPEN_STATE).limit(1).scalar_subquery().label("plate_order"),
    VERSION_ID_IN_FORCE.scalar_subquery().label("version_id"))
_BEFORE_CAR_IN = select(*_CAR_IN_CHECKS)  # again, when the sensor's arrival time replaces the device's


# An order with what its quote needs next: its tariff's document and whether the plate is white-listed
# or has a pass (see QuoteInputs).
WITH_TARIFF_DOCUMENT = (select(ParkingOrder, TariffVersion.document,
                               *white_or_pass_columns(ParkingOrder.park_id, ParkingOrder.plate,
                                                      ParkingOrder.entered_at))
                        .outerjoin(TariffVersion, TariffVersion.id == ParkingOrder.tariff_version_id))
_OPEN_ORDER = WITH_TARIFF_DOCUMENT.where(  # the park is the caller's, already in the session
    ParkingOrder.id == bindparam("order_id"), ParkingOrder.park_id == bindparam("park_id")).options(
    joinedload(ParkingOrder.segment), joinedload(ParkingOrder.berth))
_OPEN_ORDER_LOCKED = _OPEN_ORDER.with_for_update(of=ParkingOrder)
# The same as plain columns, with the berth's number and the segment's name: what the handheld's quote,
# settlement and receipt read (loading the order and its berth and segment as entities costs more than
# the round trip). See find_order_record.
_BERTHS, _SEGMENTS, _VERSIONS = Berth.__table__, BerthSegment.__table__, TariffVersion.__table__
_ORDER_RECORD = (
    select(*_ORDERS, _BERTHS.c.number.label("berth_number"), _SEGMENTS.c.name.label("segment_name"),
           _VERSIONS.c.document.label("tariff_document"),
           *white_or_pass_columns(_ORDERS.park_id, _ORDERS.plate, _ORDERS.entered_at))
    .select_from(ParkingOrder.__table__)
    .outerjoin(_BERTHS, _BERTHS.c.id == _ORDERS.berth_id)
    .outerjoin(_SEGMENTS, _SEGMENTS.c.id == _ORDERS.segment_id)
    .outerjoin(_VERSIONS, _VERSIONS.c.id == _ORDERS.tariff_version_id)
    .where(_ORDERS.id == bindparam("order_id"), _ORDERS.park_id == bindparam("park_id")))
_ORDER_RECORD_LOCKED = _ORDER_RECORD.with_for_update(of=ParkingOrder.__table__)
_INSERT_ORDER = insert(ParkingOrder.__table__).returning(ParkingOrder.__table__.c.id)


def _require_shift_segment(shift: ShiftRef | None, segment_id: int | None) -> ShiftRef:
    if shift is None:
        raise Forbidden("not_signed_in", "Sign in to a berth segment first.")
    if segment_id is not None and shift.segment_id != segment_id:
        raise Forbidden("not_on_segment", "This berth is not on the segment you are signed in to.")
    return shift


def car_in(*, collector: StaffRef, shift: ShiftRef | None, park: ParkRef, berth_id: int, plate: str,
           entered_at: datetime, received_at: datetime, vehicle_class: str = "small", prepay_fen: int = 0,
           prepay_method: str | None = None, settings: WriteSettings | None = None,
           arrival: ArrivalSource | None = None) -> OrderRecord:
    """The new order as written (see _insert_order). `settings`: the collector settings if the caller has
    read them already (the device API, with the token); `arrival`: where else the arrival time may come
    from (the kerb's sensors)."""
    plate = normalize_plate(plate)
    unlocked, locked = _berth_statements(arrival)
    row = db.session.execute(locked if on_postgresql() else unlocked, {
        "berth_id": berth_id, "park_id": park.id, "plate": plate, "at": entered_at,
        "vehicle_class": vehicle_class}).first()
    if row is None or not row[0].active:
        raise NotFound("berth_not_found", "No such berth in your park.", {"berth_id": "unknown"})
    berth = row[0]
    shift = _require_shift_segment(shift, berth.segment_id)
    settings = settings or collector_settings(park, collector.role_id)
    arrived_at, arrival_token = (arrival.arrival(row.arrival_ref, received_at, entered_at, settings.use_sensor_time)
                                 if arrival is not None else (entered_at, None))
    checks = row
    if arrived_at != entered_at:
        entered_at = arrived_at
        checks = db.session.execute(_BEFORE_CAR_IN, {"park_id": park.id, "plate": plate, "at": entered_at,
                                                     "berth_id": berth.id, "vehicle_class": vehicle_class}).one()
    if settings.refuse_blacklisted and checks.blacklisted:
        raise Conflict("plate_blacklisted", "This plate is on the park's black list.", {"plate": "blacklisted"})
    if checks.on_berth is not None:
        raise Conflict("berth_occupied", "This berth already has a car; settle or move it first.")
    if checks.plate_order is not None:
        other = db.session.get_one(ParkingOrder, checks.plate_order)
        raise Conflict("plate_parked", f"This plate is already parked at berth "
                                       f"{other.berth_number or '?'}.", extra={"order_id": other.id})
    prepay = _check_prepay(settings, prepay_fen, prepay_method) if prepay_fen else None
    try:
        order = _insert_order(berth, park_id=park.id, segment_id=berth.segment_id, berth_id=berth.id, plate=plate,
                              vehicle_class=vehicle_class, entered_at=entered_at, entry_received_at=received_at,
                              tariff_version_id=checks.version_id, prepaid_fen=prepay_fen,
                              entry_collector_id=collector.id, entry_shift_id=shift.id)
    except IntegrityError as exc:
        raise Conflict("berth_occupied", "This berth or plate already has an open order.") from exc
    if arrival is not None:
        arrival.link(arrival_token, order.id)
    if prepay is not None:
        _ledger(order, collector, shift, prepay, _PREPAY, prepay_fen, received_at)
    if order_opened.receivers:
        order_opened.send(park.id, order=order, at=received_at)
    return order


def _check_prepay(settings, amount_fen: int, method: str | None) -> str:
    """The prepayment's method, if the prepayment may be taken."""
    if not settings.prepay_allowed:
        raise Invalid("prepay_not_allowed", "Prepayment is switched off for this park.", {"prepay": "not allowed"})
    if amount_fen < 0 or amount_fen > 100_000_00:
        raise Invalid("bad_amount", "The prepaid amount is out of range.", {"prepay.amount_fen": "out of range"})
    if method not in MONEY_METHODS:
        raise Invalid("bad_method", "Prepay by cash, electronic or card.", {"prepay.method": "invalid"})
    return method


def _ledger(order: OrderView, collector: StaffRef | None, shift: ShiftRef | None, method: str, kind: str,
            amount_fen: int, at: datetime, *, arrear: Arrear | None = None,
            payment: OnlinePayment | None = None) -> None:
    """One money movement of an order. A recovery is booked where the money was taken: a collector's at
    their shift's park and segment, a manager's at the debt's own park and segment."""
    if arrear is None:
        where = (order.park_id, order.segment_id, order.berth_id)
    elif shift is not None:
        where = (shift.park_id, shift.segment_id, None)
    else:
        where = (arrear.park_id, order.segment_id, None)
    post(LedgerPosting(park_id=where[0], segment_id=where[1], berth_id=where[2], order_id=order.id,
                       arrear_id=arrear.id if arrear else None, collector_id=collector.id if collector else None,
                       shift_id=shift.id if shift else None, method=method, kind=kind, amount_fen=amount_fen,
                       occurred_at=at, provider=payment.provider if payment else None,
                       trade_no=payment.trade_no if payment else None))


def quote_order(order: OrderView, left_at: datetime, park: ParkRef | None = None,
                inputs: QuoteInputs | None = None) -> Quote:
    """The fee if the car leaves at `left_at`. `park`: the order's, if the caller has it (else loaded);
    `inputs`: what the quote needs, if read with the order (else read here)."""
    if left_at < order.entered_at:
        raise Invalid("left_before_entry", "The exit time is before the entry time.", {"left_at": "before entry"})
    park = park or db.session.get_one(Park, order.park_id)
    rule = rule_of_version(order.tariff_version_id, inputs.document if inputs is not None else None)
    covered = coverage(park, order.plate, order.entered_at, inputs.flags if inputs is not None else None)
    fee = quote_rule(park, rule, order.entered_at, left_at, order.vehicle_class, pass_=covered)
    return Quote(fee, order.prepaid_fen, left_at, order.tariff_version_id)


def loaded_with_document(row) -> tuple[ParkingOrder, QuoteInputs] | None:
    """The order of a WITH_TARIFF_DOCUMENT row and what its quote needs, or None."""
    if row is None:
        return None
    return row[0], QuoteInputs(row[1], row[2], row[3])


def _order_record(row) -> OrderRecord | None:
    """The order of an _ORDER_RECORD row as a plain record, with what its quote needs."""
    if row is None:
        return None
    values = dict(row._mapping)
    inputs = QuoteInputs(values.pop("tariff_document"), values.pop("white_listed"), values.pop("any_pass"))
    return OrderRecord(**values, quote_inputs=inputs)


def find_order_record(order_id: int, park: ParkRef, *, lock: bool = False) -> OrderRecord | None:
    """The park's order as a plain record (_order_record), locked if asked, or None."""
    statement = _ORDER_RECORD_LOCKED if lock and on_postgresql() else _ORDER_RECORD
    return _order_record(execute_core(statement, {"order_id": order_id, "park_id": park.id}).first())


def lock_open_order(order_id: int, park: ParkRef) -> tuple[ParkingOrder, QuoteInputs]:
    """The open order, locked, and what its quote needs."""
    loaded = loaded_with_document(db.session.execute(
        _OPEN_ORDER_LOCKED if on_postgresql() else _OPEN_ORDER, {"order_id": order_id, "park_id": park.id}).first())
    if loaded is None:
        raise _order_not_found()
    return _require_open(loaded[0]), loaded[1]


def lock_open_record(order_id: int, park: ParkRef) -> OrderRecord:
    """The open order, locked, as a plain record for a caller that only reads it and writes it back
    through _write_order."""
    return _require_open(find_order_record(order_id, park, lock=True))


def _order_not_found() -> NotFound:
    return NotFound("order_not_found", "No such order in your park.")


def _require_open(order: Order | None) -> Order:
    if order is None:
        raise _order_not_found()
    if order.state != OrderState.OPEN.value:
        raise Conflict("order_not_open", f"This order is already {order.state}.", extra={"state": order.state})
    return order


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a settlement did: the order as closed, its quote, and the money taken and handed back now
    (the receipt shows these; nothing recomputes them)."""
    order: OrderView
    quote: Quote
    collected_fen: int
    refund_fen: int


def settle(*, collector: StaffRef, shift: ShiftRef | None, park: ParkRef, order_id: int, left_at: datetime,
           received_at: datetime, method: str, amount_fen: int, free_reason: str | None = None) -> Settlement:
    """结算: the car leaves and pays what is due, or leaves free for one of the park's reasons."""
    order = lock_open_record(order_id, park)
    _require_shift_segment(shift, order.segment_id)
    quote = quote_order(order, left_at, park, order.quote_inputs)
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
    return _pay_and_close(order, quote, collector, shift, park, method, paid, reduction, received_at,
                          free_reason=free_reason if method == PaymentMethod.FREE.value else None)


@dataclass(frozen=True, slots=True)
class OnlinePayment:
    """A driver's payment online (扫码支付), verified by whoever received it: a payment provider's notice or
    the alliance's. Its trade number is booked on the ledger row, once per kind."""
    provider: str
    trade_no: str
    amount_fen: int
    paid_at: datetime


def settle_online(*, park: ParkRef, order_id: int, payment: OnlinePayment, received_at: datetime) -> Settlement:
    """The driver paid online: the order is settled as electronic at the fee due when they paid. An amount
    that is not that fee is refused (`fee_changed`), as is an order no longer open (`order_not_open`); the
    caller flags or refunds the payment. A second notice of the same trade cannot book twice: the ledger's
    unique trade index refuses it."""
    order = lock_open_record(order_id, park)
    quote = quote_order(order, payment.paid_at, park, order.quote_inputs)
    if payment.amount_fen != quote.due_fen:
        raise Conflict("fee_changed", "The amount paid is not the fee due.", extra={"quote": quote.to_dict()})
    return _pay_and_close(order, quote, None, None, park, PaymentMethod.ELECTRONIC.value, quote.due_fen, 0,
                          received_at, payment=payment)


def recover_online(*, park: ParkRef, arrear_ids: list[int], payment: OnlinePayment) -> list[Arrear]:
    """A driver paid a plate's debts online (扫码追缴): all of them are recovered as electronic, each booked at
    its own park, or nothing is (`arrear_not_found`, `arrear_already_recovered`, `fee_changed` when the total
    owed is not the amount paid); the caller flags or refunds the payment. The first debt's row carries the
    trade number, the others `<trade>/<n>` (the ledger books a trade once per kind)."""
    arrears = _lock_open_arrears(arrear_ids, Arrear.park_id.in_(arrears_scope_parks(park)), RECOVERING)
    total = sum(a.amount_fen for a in arrears)
    if payment.amount_fen != total:
        raise Conflict("fee_changed", "The total owed differs from the amount paid.",
                       extra={"due_fen": total, "arrears": [{"id": a.id, "amount_fen": a.amount_fen} for a in arrears]})
    method = PaymentMethod.ELECTRONIC.value
    for number, arrear in enumerate(arrears, start=1):
        arrear.state, arrear.recovered_at, arrear.recovered_by_id = "recovered", payment.paid_at, None
        arrear.recovered_park_id, arrear.recovered_method = arrear.park_id, method
        order = arrear.order
        order.state = OrderState.RECOVERED.value
        order.paid_fen += arrear.amount_fen
        trade = payment if number == 1 else replace(payment, trade_no=f"{payment.trade_no}/{number}")
        _ledger(order, None, None, method, _RECOVERY, arrear.amount_fen, payment.paid_at, arrear=arrear,
                payment=trade)
    db.session.flush()
    return arrears


def _pay_and_close(order: OrderRecord, quote: Quote, collector: StaffRef | None, shift: ShiftRef | None,
                   park: ParkRef, method: str, paid: int, reduction: int, received_at: datetime, *,
                   free_reason: str | None = None, payment: OnlinePayment | None = None) -> Settlement:
    """The money of a settlement is booked (the fee paid; the prepay beyond it handed back) and the order
    closes as settled."""
    refund = order.prepaid_fen if method == PaymentMethod.FREE.value else quote.refund_fen
    if paid:
        _ledger(order, collector, shift, method, _FEE, paid, received_at, payment=payment)
    if refund:
        _ledger(order, collector, shift, _prepay_method(order), _PREPAY_REFUND, -refund, received_at)
    order = _close(order, OrderState.SETTLED, collector, shift, quote, received_at,
                   paid_fen=order.prepaid_fen + paid - refund, reduction_fen=reduction, payment_method=method,
                   free_reason=free_reason, receipt_no=f"{park.id:04d}-{order.id:08d}")
    if order_settled.receivers:
        order_settled.send(park.id, order=order, method=method, paid_fen=paid, at=received_at,
                           online=payment.provider if payment else None)
    return Settlement(order, quote, paid, refund)


def _check_free_release(collector: StaffRef, park: ParkRef, reason: str | None, amount_fen: int) -> None:
    if not _may(collector, FREE_RELEASE):
        raise Forbidden("free_release_forbidden", "Your role may not release cars for free.")
    if not park_parameters(park.id).allow_free_settlement:
        raise Forbidden("free_release_disabled", "This park does not allow free release.")
    names = set(db.session.scalars(select(FreeReason.name).where(FreeReason.park_id == park.id,
                                                                 FreeReason.active.is_(True))))
    if reason not in names:
        raise Invalid("bad_free_reason", "Choose one of the park's free-release reasons.",
                      {"free_reason": "unknown"}, extra={"reasons": sorted(names)})
    if amount_fen:
        raise Invalid("bad_amount", "A free release collects nothing.", {"amount_fen": "must be 0"})


def _may(person: StaffRef, code: str) -> bool:
    """Whether the person's role grants `code`: loads the account (one query, unless the caller passed it)."""
    staff = person if isinstance(person, Staff) else db.session.get(Staff, person.id)
    return staff is not None and staff.can(code)


def _prepay_method(order: OrderView) -> str:
    method = db.session.scalar(select(LedgerEntry.method).where(
        LedgerEntry.order_id == order.id, LedgerEntry.kind == LedgerKind.PREPAY.value).limit(1))
    return method or PaymentMethod.CASH.value


def _close(order: Order, state: OrderState, collector: StaffRef | None, shift: ShiftRef | None, quote: Quote,
           received_at: datetime, **more) -> Order:
    """The order leaves its open state: one UPDATE of the locked row; the order as written."""
    return _write_order(order, state=state.value, left_at=quote.left_at, exit_received_at=received_at,
                 exit_collector_id=collector.id if collector else None, exit_shift_id=shift.id if shift else None,
                 fee_fen=quote.fee.total_fen, fee_lines=quote.fee.to_dict()["lines"], **more)


def _write_order(order: Order, **values) -> Order:
    """One UPDATE of these columns; a loaded ParkingOrder is kept in step (as committed), a record is
    answered anew."""
    execute_core(_order_update(tuple(values)), {**values, "order_id": order.id})
    if isinstance(order, OrderRecord):
        return replace(order, **values)
    for name, value in values.items():
        set_committed_value(order, name, value)
    return order


@lru_cache(maxsize=16)
def _order_update(columns: tuple):
    """UPDATE of these columns by order id, built once per set of columns."""
    return update(ParkingOrder.__table__).where(_ORDERS.id == bindparam("order_id")).values(
        {c: bindparam(c) for c in columns})


def escape(*, collector: StaffRef, shift: ShiftRef | None, park: ParkRef, order_id: int, left_at: datetime,
           received_at: datetime) -> Arrear:
    """逃单: the car left without paying. The fee beyond the prepayment becomes an arrear."""
    order, inputs = lock_open_order(order_id, park)
    _require_shift_segment(shift, order.segment_id)
    quote = quote_order(order, left_at, inputs=inputs)
    if quote.due_fen <= 0:
        raise Conflict("prepay_covers_fee", "The prepayment covers the fee: settle the order instead.",
                       extra={"quote": quote.to_dict()})
    return _escaped(order, park, quote, received_at, collector, shift)


def escape_unattended(order_id: int, park: Park, left_at: datetime, received_at: datetime) -> Arrear | None:
    """逃单 decided by the system: a sensor saw the car leave while nobody was on duty on the segment.
    The same arrear as `escape`, without collector or shift. None (order left open) when the
    prepayment covers the fee, because nothing is owed and only a person can hand money back."""
    order, inputs = lock_open_order(order_id, park)
    quote = quote_order(order, max(left_at, order.entered_at), inputs=inputs)
    if quote.due_fen <= 0:
        return None
    return _escaped(order, park, quote, received_at, None, None)


def _escaped(order: ParkingOrder, park: ParkRef, quote: Quote, received_at: datetime,
             collector: StaffRef | None, shift: ShiftRef | None) -> Arrear:
    """The order closes unpaid at the quote, keeping its prepayment; what is due becomes its arrear."""
    _close(order, OrderState.UNPAID, collector, shift, quote, received_at, paid_fen=order.prepaid_fen)
    arrear = Arrear(park_id=park.id, order_id=order.id, plate=order.plate, amount_fen=quote.due_fen)
    db.session.add(arrear)
    db.session.flush()
    if order_escaped.receivers:
        order_escaped.send(park.id, order=order, due_fen=quote.due_fen, at=received_at)
    return arrear


def arrears_scope_parks(park: ParkRef):
    """Parks whose debts a collector of `park` may recover: its group, or the whole city if the city says so."""
    city = db.session.get_one(City, park.city_id)
    if city.citywide_arrears:
        return select(Park.id).where(Park.city_id == park.city_id)
    return select(Park.id).where(Park.group_id == park.group_id)


def open_arrears(plate: str, park: ParkRef) -> list[Arrear]:
    return list(db.session.scalars(select(Arrear).where(
        Arrear.plate == plate, Arrear.state == "open", Arrear.park_id.in_(arrears_scope_parks(park)))
        .order_by(Arrear.created_at)))


def recover(*, collector: StaffRef, shift: ShiftRef | None, park: ParkRef, arrear_ids: list[int], method: str,
            amount_fen: int, at: datetime) -> list[Arrear]:
    """追缴: pay several old debts at once, all or nothing."""
    if shift is None:
        raise Forbidden("not_signed_in", "Sign in to a berth segment first.")
    if method not in MONEY_METHODS:
        raise Invalid("bad_method", "Pay by cash, electronic or card.", {"method": "invalid"})
    arrears = _lock_open_arrears(arrear_ids, Arrear.park_id.in_(arrears_scope_parks(park)), RECOVERING)
    total = sum(a.amount_fen for a in arrears)
    if amount_fen != total:
        raise Conflict("fee_changed", "The total owed differs from the amount sent.",
                       extra={"due_fen": total, "arrears": [{"id": a.id, "amount_fen": a.amount_fen} for a in arrears]})
    for arrear in arrears:
        _pay_arrear(arrear, collector, shift, park.id, method, at)
    db.session.flush()
    return arrears


@dataclass(frozen=True, slots=True)
class _Closing:
    """How a refusal of _lock_open_arrears words the action."""
    verb: str
    closed_code: str
    closed_message: str


RECOVERING = _Closing("recover", "arrear_already_recovered", "Some of these debts are already paid.")
WAIVING = _Closing("waive", "arrear_already_closed", "Some of these debts are already paid or waived.")


def _lock_open_arrears(arrear_ids: list[int], where, closing: _Closing) -> list[Arrear]:
    """The debts of these ids that `where` admits, locked, in id order: all of them open, or a refusal."""
    ids = sorted(set(arrear_ids))
    arrears = list(db.session.scalars(_for_update(select(Arrear).where(Arrear.id.in_(ids), where))
                                      .order_by(Arrear.id)))
    if len(arrears) != len(ids):
        raise NotFound("arrear_not_found", f"Some of these debts do not exist or are not yours to {closing.verb}.",
                       {"arrear_ids": "unknown"})
    closed = [a.id for a in arrears if a.state != "open"]
    if closed:
        raise Conflict(closing.closed_code, closing.closed_message, extra={"arrear_ids": closed})
    return arrears


def _pay_arrear(arrear: Arrear, actor: StaffRef, shift: ShiftRef | None, park_id: int, method: str,
                at: datetime) -> None:
    """The debt is paid (at `park_id`): the arrear closes, its order is recovered, the money is booked."""
    arrear.state, arrear.recovered_at, arrear.recovered_by_id = "recovered", at, actor.id
    arrear.recovered_park_id, arrear.recovered_method = park_id, method
    order = arrear.order
    order.state = OrderState.RECOVERED.value
    order.paid_fen += arrear.amount_fen
    _ledger(order, actor, shift, method, _RECOVERY, arrear.amount_fen, at, arrear=arrear)
    if arrear_recovered.receivers:
        arrear_recovered.send(arrear.park_id, arrear=arrear, method=method, at=at)


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
    order, inputs = lock_open_order(order.id, order.park)
    quote = quote_order(order, at, inputs=inputs)
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
        _ledger(order, actor, None, method, _FEE, amount_fen, at)
    _close(order, OrderState.SETTLED, actor, None, quote, at, paid_fen=order.prepaid_fen + amount_fen,
           reduction_fen=reduction, payment_method=method, free_reason=reason if reduction else None,
           receipt_no=f"{order.park_id:04d}-{order.id:08d}")
    if order_settled.receivers:
        order_settled.send(order.park_id, order=order, method=method, paid_fen=amount_fen, at=at, online=None)
    record(actor, "settle", order, anchor=order.park, before=before,
           after={**snapshot(order, _SETTLE_AUDIT_FIELDS), "due_fen": quote.due_fen, "manual": True},
           label=order.plate, ip=ip)
    db.session.flush()
    return order, quote


def manager_recover(actor: Staff, arrear_ids: list[int], method: str, amount_fen: int, at: datetime, *,
                    ip: str | None = None) -> list[Arrear]:
    """追缴 by a manager: pay several open debts of the manager's scope at once, all or nothing.
    The recovery is booked at the debt's own park and segment (no collector shift took it)."""
    if method not in MONEY_METHODS:
        raise Invalid("bad_method", "Pay by cash, electronic or card.", {"method": "invalid"})
    if not arrear_ids:
        raise Invalid("no_arrears", "Choose at least one debt to recover.", {"arrear_ids": "required"})
    arrears = _lock_open_arrears(arrear_ids, Arrear.scope_clause(Scope.of(actor)), RECOVERING)
    total = sum(a.amount_fen for a in arrears)
    if amount_fen != total:
        raise Conflict("fee_changed", f"The total owed is {total / 100:.2f}; the amount must equal it.",
                       extra={"due_fen": total})
    for arrear in arrears:
        before = snapshot(arrear, _RECOVER_AUDIT_FIELDS)
        _pay_arrear(arrear, actor, None, arrear.park_id, method, at)
        record(actor, "recover", arrear, anchor=arrear.park, before=before,
               after={**snapshot(arrear, _RECOVER_AUDIT_FIELDS), "amount_fen": arrear.amount_fen,
                      "order_id": arrear.order_id}, label=arrear.plate, ip=ip)
    db.session.flush()
    return arrears


# --- off-street lanes (the on-site system reports; app/sync calls these) -------------------------

LANE_ENTRY = "lane"
LANE_REENTRY_REASON = "re-entry"
_OPEN, _SETTLED, _FREE = OrderState.OPEN.value, OrderState.SETTLED.value, PaymentMethod.FREE.value
LANE_ORDER_STATE = ("state", "left_at", "exit_received_at", "fee_fen", "paid_fen", "reduction_fen", "payment_method",
                    "free_reason", "receipt_no")  # what lane events change on an order
LANE_ORDER_COLUMNS = ("id", "park_id", "plate", "entered_at") + LANE_ORDER_STATE


LANE_NEW_ORDER_COLUMNS = ("id", "park_id", "segment_id", "berth_id", "plate", "vehicle_class", "state", "entry_method",
                          "entered_at", "entry_received_at", "left_at", "exit_received_at", "tariff_version_id",
                          "fee_fen", "prepaid_fen", "paid_fen", "reduction_fen", "payment_method", "free_reason",
                          "receipt_no", "created_at")  # the row `lane_entry` makes, as inserted


def lane_orders(where) -> list[dict]:
    """Orders as plain rows (the columns lane events read and change) for a batch of lane events."""
    table = ParkingOrder.__table__
    return [dict(row) for row in db.session.execute(
        select(*(table.c[c] for c in LANE_ORDER_COLUMNS)).where(where)).mappings()]


def lane_entry(park_id: int, plate: str, entered_at: datetime, received_at: datetime,
               vehicle_class: str = "small", tariff_version_id: int | None = None) -> dict:
    """进场 at a lane: an open order of the park without berth, as a row that `lane_write` inserts with
    the rest of the batch. `tariff_version_id`: the version in force at `entered_at` (None: no tariff)."""
    return {"id": None, "park_id": park_id, "segment_id": None, "berth_id": None, "plate": plate,
            "vehicle_class": vehicle_class, "state": _OPEN, "entry_method": LANE_ENTRY,
            "entered_at": entered_at, "entry_received_at": received_at, "left_at": None, "exit_received_at": None,
            "tariff_version_id": tariff_version_id, "fee_fen": 0, "prepaid_fen": 0, "paid_fen": 0,
            "reduction_fen": 0, "payment_method": None, "free_reason": None, "receipt_no": None,
            "created_at": received_at}


def lane_close_stale(order: dict, at: datetime, received_at: datetime) -> None:
    """The same plate entered again while its order was open (a missed exit): close the old order
    at no charge, as the on-site system does, so the park keeps one open order per plate."""
    order["state"] = _SETTLED
    order["left_at"], order["exit_received_at"] = max(at, order["entered_at"]), received_at
    order["payment_method"] = order["payment_method"] or _FREE
    order["free_reason"] = order["free_reason"] or LANE_REENTRY_REASON


def lane_exit(order: dict, left_at: datetime, received_at: datetime) -> None:
    """出场: the car passed the exit barrier. An order nobody settled closes at what was paid."""
    if left_at < order["entered_at"]:
        raise Invalid("left_before_entry", "The exit time is before the entry time.", {"at": "before entry"})
    order["left_at"], order["exit_received_at"] = left_at, received_at
    if order["state"] == _OPEN:
        order["state"] = _SETTLED
        order["payment_method"] = order["payment_method"] or _FREE


def lane_settle(order: dict, at: datetime, received_at: datetime, fee_fen: int,
                payments: list[tuple[str, int]], reduction_fen: int, free_reason: str | None) -> list[dict]:
    """结算 at the booth: the site computed the fee with the tariff it was sent; the money taken by each
    method becomes ledger rows (kind fee), written by `lane_write`. Several settlements of one order add
    up (paid in the lot, then the overtime at the exit)."""
    paid = sum(amount for _method, amount in payments)
    if paid + reduction_fen != fee_fen:
        raise Invalid("amounts_do_not_add_up", "Payments plus reduction must equal the fee.",
                      {"payments": f"{paid} + {reduction_fen} != {fee_fen}"})
    if at < order["entered_at"]:
        raise Invalid("left_before_entry", "The settlement time is before the entry time.", {"at": "before entry"})
    park_id = order["park_id"]
    rows = [{"order": order, "park_id": park_id, "method": method, "amount_fen": amount, "occurred_at": at}
            for method, amount in payments if amount]
    order["fee_fen"] += fee_fen
    order["paid_fen"] += paid
    order["reduction_fen"] += reduction_fen
    methods = {row["method"] for row in rows}
    order["payment_method"] = (methods.pop() if len(methods) == 1 else "mixed") if methods else _FREE
    if reduction_fen:
        order["free_reason"] = free_reason
    if order["state"] == _OPEN:
        order["state"] = _SETTLED
        order["left_at"], order["exit_received_at"] = at, received_at
    order["needs_receipt"] = order["receipt_no"] is None
    order["settled_paid_fen"] = order.get("settled_paid_fen", 0) + paid  # told once the batch is written
    return rows


def _receipt(order: dict) -> None:
    if order.pop("needs_receipt", False) and order["receipt_no"] is None:
        order["receipt_no"] = f"{order['park_id']:04d}-{order['id']:08d}"


def lane_write(new_orders: list[dict], changed_orders: list[dict], ledger: list[dict]) -> None:
    """Write a batch of lane events set-based: the changed orders in one UPDATE (first: a stale open order
    must be closed before its plate's new one goes in, one open order per plate), the new ones in one
    INSERT (their ids set in the rows), the ledger rows in one INSERT."""
    table = ParkingOrder.__table__
    for order in changed_orders:
        _receipt(order)
    bulk.update_rows(table, [{"id": o["id"], **{c: o[c] for c in LANE_ORDER_STATE}} for o in changed_orders])
    ids = bulk.reserve_ids(table, len(new_orders))
    for order, order_id in zip(new_orders, ids or ()):
        order["id"] = order_id
        if order.get("needs_receipt"):
            _receipt(order)
    columns = [c for c in LANE_NEW_ORDER_COLUMNS if ids is not None or c != "id"]
    inserted = bulk.insert_rows(table, new_orders, columns=columns, returning_ids=ids is None)
    late = []  # without reserved ids (SQLite): receipts once the ids are known
    for order, order_id in zip(new_orders, inserted or ()):
        order["id"] = order_id
        if order.get("needs_receipt"):
            _receipt(order)
            late.append({"id": order_id, "receipt_no": order["receipt_no"]})
    bulk.update_rows(table, late)
    post_many([LedgerPosting(park_id=row["park_id"], order_id=row["order"]["id"], method=row["method"], kind=_FEE,
                             amount_fen=row["amount_fen"], occurred_at=row["occurred_at"]) for row in ledger])
    _tell_lane_changes(new_orders, changed_orders)


def _tell_lane_changes(new_orders: list[dict], changed_orders: list[dict]) -> None:
    """The signals of a written batch: each new order opened, each order settled in it."""
    if order_opened.receivers:
        for order in new_orders:
            order_opened.send(order["park_id"], order=order, at=order["entry_received_at"])
    for order in new_orders + changed_orders:
        paid = order.pop("settled_paid_fen", None)
        if paid is not None and order_settled.receivers:
            order_settled.send(order["park_id"], order=order, method=order["payment_method"], paid_fen=paid,
                               at=order["exit_received_at"] or order["left_at"], online=None)


# --- 0元追缴: a manager waives debts ----------------------------------------------------------------

WAIVED = "waived"  # an arrear closed without money; "recovered" stays for debts that were paid
CLOSED_ARREAR_STATES = ("recovered", WAIVED)
MAX_WAIVE_REASON = 80


def manager_waive(actor: Staff, arrear_ids: list[int], reason: str, at: datetime, *,
                  ip: str | None = None) -> list[Arrear]:
    """0元追缴: a manager closes open debts of their scope at zero, for a stated reason, all or
    nothing. No money moves, so no ledger row: the debt becomes the order's reduction (fee = paid
    + reduction still holds, and paid still equals the order's ledger), the order leaves the unpaid
    lists, and the arrear is marked waived, never counted as recovered money."""
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_WAIVE_REASON:
        raise Invalid("bad_reason", f"Say why the debt is waived (at most {MAX_WAIVE_REASON} characters).",
                      {"reason": "required"})
    if not arrear_ids:
        raise Invalid("no_arrears", "Choose at least one debt to waive.", {"arrear_ids": "required"})
    arrears = _lock_open_arrears(arrear_ids, Arrear.scope_clause(Scope.of(actor)), WAIVING)
    for arrear in arrears:
        order = arrear.order
        before = {**snapshot(arrear, _RECOVER_AUDIT_FIELDS), **snapshot(order, ("reduction_fen", "free_reason"))}
        arrear.state, arrear.recovered_at, arrear.recovered_by_id = WAIVED, at, actor.id
        arrear.recovered_park_id, arrear.recovered_method = arrear.park_id, PaymentMethod.FREE.value
        order.state = OrderState.RECOVERED.value
        order.reduction_fen += arrear.amount_fen
        order.free_reason = reason
        record(actor, "waive", arrear, anchor=arrear.park, before=before,
               after={**snapshot(arrear, _RECOVER_AUDIT_FIELDS), **snapshot(order, ("reduction_fen", "free_reason")),
                      "amount_fen": arrear.amount_fen, "order_id": order.id, "reason": reason},
               label=arrear.plate, ip=ip)
    db.session.flush()
    return arrears
