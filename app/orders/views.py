"""Order pages: records (订单记录), one order, cars parked now (在场车辆) with manual settlement,
long stays (大额订单), unpaid orders (未缴明细) with recovery (追缴) and its history. Every list and
object goes through the manager's scope. The sensor-versus-order check per berth is the kerb's (app/kerb/views.py)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, or_

from app.audit.models import AuditEntry
from app.core.errors import DomainError
from app.core.templating import yuan
from app.core.types import utcnow
from app.core.web import client_ip, permission_required
from app.exports.registry import DATETIME, INT, MINUTES, MONEY, TEXT, ExportSpec, count_of, register_export
from app.extensions import db
from app.ledger.models import LedgerEntry
from app.orders import photos as photo_files
from app.orders import services
from app.orders.forms import (
    ENTRY_METHOD_LABELS,
    METHOD_LABELS,
    STATE_LABELS,
    ArrearFilterForm,
    ManualSettleForm,
    OrderFilterForm,
    ParkedFilterForm,
    RecoverForm,
    WaiveForm,
    selected_ids,
    to_fen,
)
from app.orders.models import Arrear, OrderPhoto, OrderState, ParkingOrder
from app.orders.queries import (
    ArrearFilters,
    NameBook,
    OrderFilters,
    arrear_list,
    arrear_total,
    count_for_page,
    keyset_page,
    order_list,
    order_records,
    page_size,
    parked_filters,
)
from app.staff.models import Staff
from app.staff.permissions import EXPORT, RECOVER, SETTLE, VIEW, WAIVE, PermissionArea, register_area
from app.tenancy.models import Park
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope

bp = Blueprint("orders", __name__, url_prefix="/orders")

register_area(PermissionArea("orders", _l("Orders"), (VIEW, EXPORT, SETTLE, RECOVER, WAIVE)))
add_nav("orders", _l("Order records"), "orders.list_orders", "orders.view")
add_nav("orders", _l("Cars parked now"), "orders.parked", "orders.view")
add_nav("orders", _l("Long stays"), "orders.long_stays", "orders.view")
add_nav("orders", _l("Unpaid orders"), "orders.unpaid", "orders.view")
add_nav("orders", _l("Recovery history"), "orders.recovered", "orders.view")

LONG_STAY_DAYS = (2, 10)
PAGING_ARGS = ("after", "before", "last")

# on-screen headers, shared with the Excel exports so both say the same thing
ORDER_COLUMNS = [(_l("Plate"), TEXT), (_l("Park"), TEXT), (_l("Berth"), TEXT), (_l("Entered"), DATETIME),
                 (_l("Left"), DATETIME), (_l("Duration"), MINUTES), (_l("Receivable"), MONEY), (_l("Paid"), MONEY),
                 (_l("Paid by"), TEXT), (_l("Prepaid"), MONEY), (_l("Reduction"), MONEY),
                 (_l("Collector in"), TEXT), (_l("Collector out"), TEXT), (_l("State"), TEXT)]
PARKED_COLUMNS = [(_l("Plate"), TEXT), (_l("Park"), TEXT), (_l("Segment"), TEXT), (_l("Berth"), TEXT),
                  (_l("Entered"), DATETIME), (_l("Duration"), MINUTES), (_l("Prepaid"), MONEY),
                  (_l("Fee so far"), MONEY), (_l("Due now"), MONEY), (_l("Collector in"), TEXT)]
ARREAR_COLUMNS = [(_l("Plate"), TEXT), (_l("Park"), TEXT), (_l("Segment"), TEXT), (_l("Berth"), TEXT),
                  (_l("Entered"), DATETIME), (_l("Left unpaid"), DATETIME), (_l("Fee"), MONEY),
                  (_l("Prepaid"), MONEY), (_l("Owed"), MONEY), (_l("Order no."), INT)]


def _actor():
    return current_user._get_current_object()


# --- small helpers for the templates ----------------------------------------------------------

def stay_minutes(start: datetime | None, end: datetime | None = None) -> int | None:
    """A stay in whole minutes (what exports write as a number), None before the car entered."""
    if start is None:
        return None
    return max(int(((end or utcnow()) - start).total_seconds() // 60), 0)


def stay_duration(start: datetime | None, end: datetime | None = None) -> str:
    minutes = stay_minutes(start, end)
    if minutes is None:
        return "—"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h %(m)d min", d=days, h=hours, m=mins)
    if hours:
        return _("%(h)d h %(m)d min", h=hours, m=mins)
    return _("%(m)d min", m=mins)


@bp.app_template_filter("stay_duration")
def _stay_duration_filter(start, end=None):
    return stay_duration(start, end)


def state_label(state: str | None) -> str:
    return str(STATE_LABELS.get(state, state or "—"))


def method_label(method: str | None) -> str:
    return str(METHOD_LABELS.get(method, method)) if method else "—"


def _staff_name(staff: Staff | None) -> str:
    return staff.display_name if staff is not None else "—"


def export_url(kind: str, args=None) -> str:
    """The exporter's page for this list with the same filters (the page's paging left out)."""
    args = request.args if args is None else args
    query = urlencode([(k, v) for k, v in args.items(multi=True) if k not in PAGING_ARGS and v != ""])
    return url_for("exports.new_job", kind=kind) + (f"?{query}" if query else "")


def _keyset(stmt, time_col, id_col, **kw):
    return keyset_page(stmt, time_col, id_col, after=request.args.get("after"), before=request.args.get("before"),
                       last=request.args.get("last") == "1", size=page_size(), **kw)


def _filtered(filters: dict, *, ignore=()) -> bool:
    return any(v not in (None, "") for k, v in filters.items() if k not in ignore)


def _render_ctx() -> dict:
    return {"state_label": state_label, "method_label": method_label, "staff_name": _staff_name,
            "entry_method_labels": ENTRY_METHOD_LABELS, "export_url": export_url}


def safe_quote(order: ParkingOrder, at: datetime):
    """The live fee of an open order; None when it cannot be priced (no tariff, clock skew)."""
    try:
        return services.quote_order(order, max(at, order.entered_at))
    except DomainError:
        return None


# --- 订单记录 ----------------------------------------------------------------------------------

@bp.route("")
@permission_required("orders.view")
def list_orders():
    scope = current_scope()
    form = OrderFilterForm.build(scope, request.args)
    values = form.filters()
    filters = OrderFilters.from_dict(values)
    stmt = order_records(scope, filters)
    page = _keyset(stmt, ParkingOrder.entered_at, ParkingOrder.id, plain=True)
    page.count, page.more_than = count_for_page(stmt, exact=filters.has_park_and_range)
    return render_template("orders/list.html", form=form, page=page, columns=ORDER_COLUMNS,
                           names=NameBook().add(page.items), filtered=_filtered(values, ignore=("time_field",)),
                           **_render_ctx())


# --- one order ---------------------------------------------------------------------------------

def _timeline(order: ParkingOrder, ledger: list[LedgerEntry], arrear: Arrear | None, names: dict) -> list[tuple]:
    """(time, title, detail) of what happened to the order, oldest first."""
    events = [(order.entered_at, _("Entered"), _("Berth %(berth)s, registered by %(who)s",
                                                  berth=order.berth.number if order.berth else "—",
                                                  who=_staff_name(order.entry_collector)))]
    for row in ledger:
        if row.kind == "prepay":
            events.append((row.occurred_at, _("Prepaid"), f"¥{row.amount_fen / 100:.2f} · {method_label(row.method)}"))
        elif row.kind == "prepay_refund":
            events.append((row.occurred_at, _("Prepayment refunded"),
                           f"¥{-row.amount_fen / 100:.2f} · {method_label(row.method)}"))
    if order.state == OrderState.SETTLED.value:
        detail = _("Fee ¥%(fee)s, kept ¥%(paid)s by %(method)s, settled by %(who)s",
                   fee=yuan(order.fee_fen), paid=yuan(order.paid_fen),
                   method=method_label(order.payment_method), who=_staff_name(order.exit_collector))
        if order.reduction_fen:
            detail += " · " + _("reduced ¥%(amount)s (%(reason)s)", amount=yuan(order.reduction_fen),
                                 reason=order.free_reason or "—")
        events.append((order.left_at, _("Settled"), detail))
    elif order.state in (OrderState.UNPAID.value, OrderState.RECOVERED.value):
        owed = arrear.amount_fen if arrear else 0
        events.append((order.left_at, _("Left without paying"),
                       _("¥%(owed)s owed, reported by %(who)s", owed=yuan(owed),
                         who=_staff_name(order.exit_collector))))
    if arrear is not None and arrear.state == "recovered":
        events.append((arrear.recovered_at, _("Debt recovered"),
                       _("¥%(amount)s by %(method)s, taken by %(who)s", amount=yuan(arrear.amount_fen),
                         method=method_label(arrear.recovered_method),
                         who=names.get(arrear.recovered_by_id, _("staff outside your scope")))))
    elif arrear is not None and arrear.state == services.WAIVED:
        events.append((arrear.recovered_at, _("Debt waived"),
                       _("¥%(amount)s waived by %(who)s: %(reason)s", amount=yuan(arrear.amount_fen),
                         who=names.get(arrear.recovered_by_id, _("staff outside your scope")),
                         reason=order.free_reason or "—")))
    return sorted((e for e in events if e[0] is not None), key=lambda e: e[0])


@bp.route("/<int:order_id>")
@permission_required("orders.view")
def order_detail(order_id):
    scope = current_scope()
    order = scope.get_or_404(ParkingOrder, order_id)
    ledger = list(db.session.scalars(scope.select(LedgerEntry).where(LedgerEntry.order_id == order.id)
                                     .order_by(LedgerEntry.occurred_at, LedgerEntry.id)))
    arrear = db.session.scalar(scope.select(Arrear).where(Arrear.order_id == order.id))
    photos = list(db.session.scalars(scope.select(OrderPhoto).where(OrderPhoto.order_id == order.id)
                                     .order_by(OrderPhoto.created_at)))
    about = and_(AuditEntry.object_type == "ParkingOrder", AuditEntry.object_id == order.id)
    if arrear is not None:
        about = or_(about, and_(AuditEntry.object_type == "Arrear", AuditEntry.object_id == arrear.id))
    audit = list(db.session.scalars(scope.select(AuditEntry).where(about).order_by(AuditEntry.at, AuditEntry.id)))
    staff_ids = {row.collector_id for row in ledger} | ({arrear.recovered_by_id} if arrear else set())
    names = {s.id: s.display_name for s in db.session.scalars(
        scope.select(Staff).where(Staff.id.in_([i for i in staff_ids if i])))}
    for person in (order.entry_collector, order.exit_collector):
        if person is not None:
            names.setdefault(person.id, person.display_name)  # they worked in this park
    quote = safe_quote(order, utcnow()) if order.state == OrderState.OPEN.value else None
    return render_template("orders/detail.html", order=order, ledger=ledger, arrear=arrear, photos=photos,
                           audit=audit, names=names, quote=quote, timeline=_timeline(order, ledger, arrear, names),
                           **_render_ctx())


@bp.route("/photos/<int:photo_id>")
@permission_required("orders.view")
def photo(photo_id):
    """A handheld's photo of an order, streamed from disk after the scope check."""
    found = current_scope().get_or_404(OrderPhoto, photo_id)
    path = photo_files.file_of(found)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=found.content_type, max_age=0, conditional=True)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# --- 在场车辆 and 大额订单 ------------------------------------------------------------------------

def _parked_page(long_stays: bool):
    scope = current_scope()
    args = request.args.copy()
    if long_stays:
        args.setdefault("min_days", str(LONG_STAY_DAYS[0]))
        args.setdefault("max_days", str(LONG_STAY_DAYS[1]))
    form = ParkedFilterForm.build(scope, args)
    values = form.filters()
    filters = parked_filters(values)
    now = utcnow()
    page = _keyset(order_list(scope, filters, now), ParkingOrder.entered_at, ParkingOrder.id)
    page.count, page.more_than = count_for_page(order_list(scope, filters, now, display=False),
                                                exact=filters.park_id is not None)
    quotes = {o.id: safe_quote(o, now) for o in page.items}
    return render_template("orders/parked.html", form=form, page=page, quotes=quotes, columns=PARKED_COLUMNS,
                           long_stays=long_stays, now=now, export_args=args,
                           filtered=_filtered(values, ignore=("min_days", "max_days") if long_stays else ()),
                           **_render_ctx())


@bp.route("/parked")
@permission_required("orders.view")
def parked():
    return _parked_page(long_stays=False)


@bp.route("/long-stays")
@permission_required("orders.view")
def long_stays():
    return _parked_page(long_stays=True)


@bp.route("/<int:order_id>/settle", methods=["GET", "POST"])
@permission_required("orders.settle")
def settle(order_id):
    scope = current_scope()
    order = scope.get_or_404(ParkingOrder, order_id)
    if order.state != OrderState.OPEN.value:
        flash(_("This order is already %(state)s; there is nothing to settle.", state=state_label(order.state)),
              "warning")
        return redirect(url_for("orders.order_detail", order_id=order.id))
    reasons = services.park_free_reasons(order.park_id)
    form = ManualSettleForm()
    form.reason.choices = [("", _("— no reduction —"))] + [(r, r) for r in reasons]
    status = 200
    if form.validate_on_submit():
        method = form.method.data
        amount = to_fen(form.amount.data) or 0
        try:
            services.manual_settle(_actor(), order, amount, method, form.reason.data or None, utcnow(),
                                   ip=client_ip())
        except DomainError as exc:
            db.session.rollback()
            field = {"amount": form.amount, "reason": form.reason, "method": form.method}.get(
                next(iter(exc.fields), ""), form.amount)
            field.errors = list(field.errors) + [_(exc.message)]
            status = 400
        else:
            db.session.commit()
            flash(_("Order of %(plate)s settled.", plate=order.plate), "success")
            return redirect(url_for("orders.order_detail", order_id=order.id))
    elif form.errors:
        status = 400
    quote = safe_quote(order, utcnow())
    if request.method == "GET" and quote is not None:
        form.amount.data = Decimal(quote.due_fen) / 100
    return render_template("orders/settle.html", order=order, form=form, quote=quote, reasons=reasons,
                           **_render_ctx()), status


# --- 未缴明细, 追缴 and its history ---------------------------------------------------------------

@bp.route("/unpaid")
@permission_required("orders.view")
def unpaid():
    scope = current_scope()
    form = ArrearFilterForm.build(scope, request.args)
    values = form.filters()
    filters = ArrearFilters.from_dict({**values, "state": "open"})
    page = _keyset(arrear_list(scope, filters), Arrear.created_at, Arrear.id)
    count, total = arrear_total(scope, filters)
    page.count = count
    return render_template("orders/unpaid.html", form=form, page=page, total=total, columns=ARREAR_COLUMNS,
                           filtered=_filtered(values), **_render_ctx())


@bp.route("/unpaid/recover", methods=["GET", "POST"])
@permission_required("orders.recover")
def recover():
    scope = current_scope()
    ids = selected_ids(request.values.getlist("arrear_id"))
    arrears = list(db.session.scalars(scope.select(Arrear).where(Arrear.id.in_(ids)).order_by(Arrear.id))) \
        if ids else []
    total = sum(a.amount_fen for a in arrears if a.state == "open")
    form = RecoverForm()
    status = 200
    if request.method == "POST":
        if not arrears:
            flash(_("Tick the debts to recover in the list of unpaid orders first."), "warning")
            status = 400
        elif form.validate_on_submit():
            try:
                services.manager_recover(_actor(), ids, form.method.data, to_fen(form.amount.data), utcnow(),
                                         ip=client_ip())
            except DomainError as exc:
                db.session.rollback()
                form.amount.errors = list(form.amount.errors) + [_(exc.message)]
                status = 400
            else:
                db.session.commit()
                amount = yuan(total)
                flash(_("%(n)d debts recovered, ¥%(total)s.", n=len(ids), total=amount), "success")
                return redirect(url_for("orders.recovered"))
        else:
            status = 400
    elif arrears:
        form.amount.data = Decimal(total) / 100
    return render_template("orders/recover.html", form=form, waive_form=WaiveForm(formdata=None), arrears=arrears,
                           total=total, ids=ids, unknown=len(ids) - len(arrears), **_render_ctx()), status


@bp.route("/unpaid/waive", methods=["POST"])
@permission_required("orders.waive")
def waive():
    """0元追缴 of the debts chosen on the recovery page; on refusal the page again, with the reason."""
    scope = current_scope()
    ids = selected_ids(request.form.getlist("arrear_id"))
    form = WaiveForm()
    if form.validate_on_submit():
        try:
            services.manager_waive(_actor(), ids, form.reason.data, utcnow(), ip=client_ip())
        except DomainError as exc:
            db.session.rollback()
            form.reason.errors = list(form.reason.errors) + [_(exc.message)]
        else:
            db.session.commit()
            flash(_("%(n)d debts waived.", n=len(ids)), "success")
            return redirect(url_for("orders.recovered"))
    arrears = list(db.session.scalars(scope.select(Arrear).where(Arrear.id.in_(ids)).order_by(Arrear.id))) \
        if ids else []
    return render_template("orders/recover.html", form=RecoverForm(formdata=None), waive_form=form,
                           arrears=arrears, total=sum(a.amount_fen for a in arrears if a.state == "open"), ids=ids,
                           unknown=len(ids) - len(arrears), **_render_ctx()), 400


@bp.route("/recovered")
@permission_required("orders.view")
def recovered():
    scope = current_scope()
    form = ArrearFilterForm.build(scope, request.args)
    values = form.filters()
    filters = ArrearFilters.from_dict({**values, "state": "recovered"})
    page = _keyset(arrear_list(scope, filters), Arrear.recovered_at, Arrear.id)
    count, total = arrear_total(scope, filters)
    page.count = count
    staff_ids = {a.recovered_by_id for a in page.items if a.recovered_by_id}
    names = {s.id: s.display_name for s in db.session.scalars(scope.select(Staff).where(Staff.id.in_(staff_ids)))}
    park_ids = {a.recovered_park_id for a in page.items if a.recovered_park_id}
    parks = {p.id: p.name for p in db.session.scalars(scope.select(Park).where(Park.id.in_(park_ids)))}
    return render_template("orders/recovered.html", form=form, page=page, total=total, names=names, parks=parks,
                           filtered=_filtered(values), **_render_ctx())


# --- exports ------------------------------------------------------------------------------------

def _stream(stmt):
    return db.session.scalars(stmt.execution_options(yield_per=1000))


def order_rows(scope, params: dict):
    form = OrderFilterForm.build(scope, params)
    stmt = order_records(scope, OrderFilters.from_dict(form.filters()))
    names = NameBook()
    for chunk in db.session.connection().execute(stmt.execution_options(yield_per=1000)).partitions():
        names.add(chunk)
        for o in chunk:
            yield [o.plate, names.park(o.park_id), names.berths.get(o.berth_id, ""), o.entered_at, o.left_at,
                   stay_minutes(o.entered_at, o.left_at), o.fee_fen, o.paid_fen, method_label(o.payment_method),
                   o.prepaid_fen, o.reduction_fen, names.person(o.entry_collector_id),
                   names.person(o.exit_collector_id), state_label(o.state)]


def parked_rows(scope, params: dict):
    form = ParkedFilterForm.build(scope, params)
    now = utcnow()
    for o in _stream(order_list(scope, parked_filters(form.filters()), now)):
        quote = safe_quote(o, now)
        yield [o.plate, o.park.name, o.segment.name if o.segment else "", o.berth.number if o.berth else "",
               o.entered_at, stay_minutes(o.entered_at, now), o.prepaid_fen,
               quote.fee.total_fen if quote else None, quote.due_fen if quote else None,
               _staff_name(o.entry_collector)]


def arrear_rows(scope, params: dict):
    form = ArrearFilterForm.build(scope, params)
    for a in _stream(arrear_list(scope, ArrearFilters.from_dict({**form.filters(), "state": "open"}))):
        o = a.order
        yield [a.plate, a.park.name, o.segment.name if o.segment else "", o.berth.number if o.berth else "",
               o.entered_at, o.left_at, o.fee_fen, o.prepaid_fen, a.amount_fen, o.id]


class LazyColumns(Sequence):
    """Export headers: the on-screen (translatable) headers, made text when the exporter reads them."""

    def __init__(self, columns):
        self._columns = columns

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [(str(h), k) for h, k in self._columns[index]]
        header, kind = self._columns[index]
        return str(header), kind

    def __len__(self):
        return len(self._columns)


def _count_orders(scope, params: dict) -> int:
    form = OrderFilterForm.build(scope, params)
    return count_of(order_records(scope, OrderFilters.from_dict(form.filters())))


def _count_parked(scope, params: dict) -> int:
    form = ParkedFilterForm.build(scope, params)
    return count_of(order_list(scope, parked_filters(form.filters()), utcnow(), display=False))


def _count_arrears(scope, params: dict) -> int:
    form = ArrearFilterForm.build(scope, params)
    return count_of(arrear_list(scope, ArrearFilters.from_dict({**form.filters(), "state": "open"})))


register_export(ExportSpec("orders", _l("Order records"), "orders.export", LazyColumns(ORDER_COLUMNS), order_rows,
                           count=_count_orders))
register_export(ExportSpec("parked", _l("Cars parked now"), "orders.export", LazyColumns(PARKED_COLUMNS),
                           parked_rows, count=_count_parked))
register_export(ExportSpec("arrears", _l("Unpaid orders"), "orders.export", LazyColumns(ARREAR_COLUMNS), arrear_rows,
                           count=_count_arrears))

__all__ = ["bp", "order_rows", "parked_rows", "arrear_rows", "LazyColumns", "stay_duration", "stay_minutes"]
