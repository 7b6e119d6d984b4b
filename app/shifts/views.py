"""Shift pages (上下班记录): who worked which segment when, late or early, and the money of each
shift as the ledger has it (`shift_summary`), with a detail page of its orders and ledger lines."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_
from sqlalchemy.orm import joinedload, lazyload

from app.berths.models import BerthSegment
from app.core.web import permission_required
from app.exports.registry import DATETIME, INT, MONEY, TEXT, ExportSpec, count_of, register_export
from app.extensions import db
from app.ledger.models import LedgerEntry
from app.orders.models import ParkingOrder
from app.orders.queries import filter_zone, keyset_page, local_range, order_display_options, page_size
from app.orders.views import LazyColumns, export_url, method_label, state_label, stay_duration
from app.shifts.forms import ShiftFilterForm
from app.shifts.models import Shift
from app.shifts.services import MoneySummary, shift_summary
from app.staff.models import Staff
from app.staff.permissions import EXPORT, VIEW, PermissionArea, register_area
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope

bp = Blueprint("shifts", __name__, url_prefix="/shifts")

register_area(PermissionArea("shifts", _l("Shifts"), (VIEW, EXPORT)))
add_nav("street", _l("Shifts"), "shifts.list_shifts", "shifts.view", requires="on_street")

ORDERS_SHOWN = 500
SHIFT_COLUMNS = [(_l("Collector"), TEXT), (_l("Park"), TEXT), (_l("Segment"), TEXT), (_l("Signed in"), DATETIME),
                 (_l("Signed out"), DATETIME), (_l("Late"), TEXT), (_l("Left early"), TEXT), (_l("Cars in"), INT),
                 (_l("Cars out"), INT), (_l("Cash"), MONEY), (_l("Electronic"), MONEY), (_l("Card"), MONEY),
                 (_l("Recovered"), MONEY), (_l("Unpaid"), MONEY), (_l("Cash to hand over"), MONEY)]


def money_by_method(s: MoneySummary) -> dict:
    """The summary's figures as the list shows them: net money per method (fees and prepayments
    less refunds), recoveries, what escaped, and the cash the collector hands over."""
    return {"cash": s.fee_cash_fen + s.prepay_cash_fen - s.refund_cash_fen,
            "electronic": s.fee_electronic_fen + s.prepay_electronic_fen - s.refund_electronic_fen,
            "card": s.fee_card_fen,
            "recovered": s.recovery_cash_fen + s.recovery_electronic_fen + s.recovery_card_fen,
            "unpaid": s.unpaid_fen, "hand_over": s.cash_to_hand_over_fen}


def shift_list(scope, values: dict) -> Select:
    """Shifts of the scope, newest sign-in first."""
    stmt = scope.select(Shift)
    if values.get("park_id") is not None:
        stmt = stmt.where(Shift.park_id == values["park_id"])
    if values.get("segment_id") is not None:
        stmt = stmt.where(Shift.segment_id == values["segment_id"])
    if values.get("collector_id") is not None:
        stmt = stmt.where(Shift.collector_id == values["collector_id"])
    if values.get("date_from") or values.get("date_to"):
        start, end = local_range(filter_zone(scope, values.get("park_id")), values.get("date_from"),
                                 values.get("date_to"))
        if start is not None:
            stmt = stmt.where(Shift.started_at >= start)
        if end is not None:
            stmt = stmt.where(Shift.started_at < end)
    for flag, column in (("late", Shift.late), ("early", Shift.left_early)):
        if values.get(flag) in ("yes", "no"):
            stmt = stmt.where(column.is_(values[flag] == "yes"))
    return stmt.order_by(Shift.started_at.desc(), Shift.id.desc()).options(
        joinedload(Shift.segment).joinedload(BerthSegment.park), joinedload(Shift.collector).options(
            lazyload(Staff.role)))


def _yes_no(value: bool) -> str:
    return str(_l("yes")) if value else str(_l("no"))


@bp.route("")
@permission_required("shifts.view")
def list_shifts():
    scope = current_scope()
    form = ShiftFilterForm.build(scope, request.args)
    values = form.filters()
    page = keyset_page(shift_list(scope, values), Shift.started_at, Shift.id, after=request.args.get("after"),
                       before=request.args.get("before"), last=request.args.get("last") == "1", size=page_size())
    figures = {}
    for shift in page.items:
        summary = shift_summary(shift)
        figures[shift.id] = (summary, money_by_method(summary))
    filtered = any(v not in (None, "") for v in values.values())
    return render_template("shifts/list.html", form=form, page=page, figures=figures, columns=SHIFT_COLUMNS,
                           filtered=filtered, export_url=export_url)


@bp.route("/<int:shift_id>")
@permission_required("shifts.view")
def shift_detail(shift_id):
    scope = current_scope()
    shift = scope.get_or_404(Shift, shift_id)
    summary = shift_summary(shift)
    orders = list(db.session.scalars(scope.select(ParkingOrder).where(or_(
        ParkingOrder.entry_shift_id == shift.id, ParkingOrder.exit_shift_id == shift.id))
        .order_by(ParkingOrder.entered_at.desc(), ParkingOrder.id.desc()).options(*order_display_options())
        .limit(ORDERS_SHOWN + 1)))
    ledger = list(db.session.scalars(scope.select(LedgerEntry).where(LedgerEntry.shift_id == shift.id)
                                     .order_by(LedgerEntry.occurred_at, LedgerEntry.id)))
    return render_template("shifts/detail.html", shift=shift, summary=summary, money=money_by_method(summary),
                           orders=orders[:ORDERS_SHOWN], more_orders=len(orders) > ORDERS_SHOWN, ledger=ledger,
                           state_label=state_label, method_label=method_label, stay_duration=stay_duration)


def shift_rows(scope, params: dict):
    form = ShiftFilterForm.build(scope, params)
    for shift in db.session.scalars(shift_list(scope, form.filters()).execution_options(yield_per=500)):
        summary = shift_summary(shift)
        m = money_by_method(summary)
        yield [shift.collector.display_name, shift.segment.park.name, shift.segment.name, shift.started_at,
               shift.ended_at, _yes_no(shift.late), _yes_no(shift.left_early), summary.cars_in, summary.cars_out,
               m["cash"], m["electronic"], m["card"], m["recovered"], m["unpaid"], m["hand_over"]]


def _count_shifts(scope, params: dict) -> int:
    return count_of(shift_list(scope, ShiftFilterForm.build(scope, params).filters()))


register_export(ExportSpec("shifts", _l("Shifts"), "shifts.export", LazyColumns(SHIFT_COLUMNS), shift_rows,
                           count=_count_shifts))
