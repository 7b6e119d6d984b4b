"""Signing in to a berth segment and out again, and the shift summary, summed from the ledger."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from werkzeug.security import check_password_hash

from app.berths.models import BerthSegment
from app.core.errors import Conflict, Forbidden, NotFound
from app.extensions import db
from app.ledger.models import LedgerEntry
from app.orders.models import Arrear, ParkingOrder
from app.parks.settings import collector_settings
from app.shifts.models import Shift, WorkHours
from app.staff.models import Staff
from app.tenancy.models import Park


def open_shift(collector: Staff) -> Shift | None:
    return db.session.scalar(select(Shift).where(Shift.collector_id == collector.id, Shift.ended_at.is_(None)))


def start_shift(collector: Staff, park: Park, segment_id: int, handheld_id: int | None, at: datetime) -> Shift:
    segment = db.session.get(BerthSegment, segment_id)
    if segment is None or segment.park_id != park.id or not segment.active:
        raise NotFound("segment_not_found", "No such berth segment in your park.", {"segment_id": "unknown"})
    if open_shift(collector) is not None:
        raise Conflict("shift_open", "You are already signed in to a segment; sign out first.")
    hours = _work_hours(park, collector)
    shift = Shift(park_id=park.id, segment_id=segment.id, collector_id=collector.id, handheld_id=handheld_id,
                  started_at=at, late=_is_late(hours, park, at))
    db.session.add(shift)
    db.session.flush()
    return shift


def _work_hours(park: Park, collector: Staff) -> WorkHours | None:
    return db.session.scalar(select(WorkHours).where(WorkHours.park_id == park.id,
                                                     WorkHours.role_id == collector.role_id))


def _local(park: Park, at: datetime):
    return at.astimezone(ZoneInfo(park.timezone))


def _is_late(hours: WorkHours | None, park: Park, at: datetime) -> bool:
    if hours is None:
        return False
    local = _local(park, at)
    start = local.replace(hour=hours.starts_at.hour, minute=hours.starts_at.minute, second=0, microsecond=0)
    return local > start + timedelta(minutes=hours.grace_minutes) and local.time() < hours.ends_at


def _is_early(hours: WorkHours | None, park: Park, at: datetime) -> bool:
    if hours is None:
        return False
    local = _local(park, at)
    end = local.replace(hour=hours.ends_at.hour, minute=hours.ends_at.minute, second=0, microsecond=0)
    return hours.starts_at <= local.time() and local < end - timedelta(minutes=hours.grace_minutes)


def close_shift(collector: Staff, park: Park, at: datetime, password: str | None) -> Shift:
    shift = open_shift(collector)
    if shift is None:
        raise Conflict("no_open_shift", "You are not signed in to a segment.")
    settings = collector_settings(park, collector.role_id)
    if settings.signout_password_hash and not check_password_hash(settings.signout_password_hash, password or ""):
        raise Forbidden("bad_signout_password", "The sign-out password is wrong.", {"password": "wrong"})
    shift.ended_at = max(at, shift.started_at)
    shift.left_early = _is_early(_work_hours(park, collector), park, shift.ended_at)
    db.session.flush()
    return shift


@dataclass
class MoneySummary:
    cars_in: int
    cars_out: int
    unpaid_count: int
    unpaid_fen: int
    fee_cash_fen: int
    fee_electronic_fen: int
    fee_card_fen: int
    prepay_cash_fen: int
    prepay_electronic_fen: int
    refund_cash_fen: int
    refund_electronic_fen: int
    recovery_cash_fen: int
    recovery_electronic_fen: int
    recovery_card_fen: int
    cash_to_hand_over_fen: int

    def to_dict(self) -> dict:
        return asdict(self)


def _sum_where(*conditions):
    return func.coalesce(func.sum(case((and_(*conditions), LedgerEntry.amount_fen), else_=0)), 0)


def summarise(ledger_filter, orders_in_filter, orders_out_filter, arrears_filter) -> MoneySummary:
    """Figures of one collector's shift or day. Money is summed from the ledger, cars from orders."""
    kind, method = LedgerEntry.kind, LedgerEntry.method
    row = db.session.execute(select(
        _sum_where(kind == "fee", method == "cash"), _sum_where(kind == "fee", method == "electronic"),
        _sum_where(kind == "fee", method == "card"),
        _sum_where(kind == "prepay", method == "cash"), _sum_where(kind == "prepay", method == "electronic"),
        _sum_where(kind == "prepay_refund", method == "cash"),
        _sum_where(kind == "prepay_refund", method == "electronic"),
        _sum_where(kind == "recovery", method == "cash"), _sum_where(kind == "recovery", method == "electronic"),
        _sum_where(kind == "recovery", method == "card"), _sum_where(method == "cash"),
    ).where(ledger_filter)).one()
    cars_in = db.session.scalar(select(func.count()).select_from(ParkingOrder).where(orders_in_filter))
    cars_out = db.session.scalar(select(func.count()).select_from(ParkingOrder).where(orders_out_filter))
    unpaid = db.session.execute(select(func.count(), func.coalesce(func.sum(Arrear.amount_fen), 0))
                                .select_from(Arrear).join(ParkingOrder, ParkingOrder.id == Arrear.order_id)
                                .where(arrears_filter)).one()
    return MoneySummary(cars_in, cars_out, unpaid[0], int(unpaid[1]), *(int(v) for v in row[:3]),
                        int(row[3]), int(row[4]), -int(row[5]), -int(row[6]), *(int(v) for v in row[7:10]),
                        int(row[10]))


def shift_summary(shift: Shift) -> MoneySummary:
    return summarise(LedgerEntry.shift_id == shift.id, ParkingOrder.entry_shift_id == shift.id,
                     ParkingOrder.exit_shift_id == shift.id, ParkingOrder.exit_shift_id == shift.id)


def day_summary(collector: Staff, park: Park, start: datetime, end: datetime) -> MoneySummary:
    return summarise(
        and_(LedgerEntry.collector_id == collector.id, LedgerEntry.occurred_at >= start,
             LedgerEntry.occurred_at < end),
        and_(ParkingOrder.entry_collector_id == collector.id, ParkingOrder.entered_at >= start,
             ParkingOrder.entered_at < end),
        and_(ParkingOrder.exit_collector_id == collector.id, ParkingOrder.left_at >= start,
             ParkingOrder.left_at < end),
        and_(ParkingOrder.exit_collector_id == collector.id, ParkingOrder.left_at >= start,
             ParkingOrder.left_at < end))


def local_day_bounds(park: Park, day) -> tuple[datetime, datetime]:
    tz = ZoneInfo(park.timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    return start, (start + timedelta(days=1)).replace(tzinfo=tz)
