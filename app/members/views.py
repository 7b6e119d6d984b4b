"""Members pages: monthly products (月卡套餐), passes (月卡会员), renewal records (续费记录), white and
black lists (白名单 / 黑名单) and their Excel imports. Everything goes through `current_scope()`."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload, selectinload

from app.core.bodies import MULTIPART_ENVELOPE, body_limit
from app.core.web import client_ip, paginate, permission_required, show_refusal
from app.exports.registry import DATE, DATETIME, INT, MONEY, TEXT, ExportSpec, count_of, register_export
from app.extensions import db
from app.members import import_jobs, imports, services
from app.members.forms import (
    KIND_CHOICES,
    METHOD_CHOICES,
    VEHICLE_CHOICES,
    CancelForm,
    DeactivateForm,
    ImportForm,
    ListEntryForm,
    ListFilterForm,
    PassEditForm,
    PassFilterForm,
    PlatesForm,
    ProductFilterForm,
    ProductForm,
    RenewalFilterForm,
    RenewForm,
    SaleForm,
    fen_to_yuan,
)
from app.members.models import ImportJob, MonthlyPass, MonthlyProduct, PassRenewal, PlateListEntry
from app.staff.permissions import ADD, DELETE, EDIT, EXPORT, RENEW, VIEW, PermissionArea, register_area
from app.tenancy.models import Level, OperatingGroup, Park
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope
from app.tenancy.web import node_choices, node_from_key, node_key

bp = Blueprint("members", __name__, url_prefix="/members")

register_area(PermissionArea("members", _l("Members (monthly passes)"), (VIEW, ADD, EDIT, DELETE, EXPORT, RENEW)))
register_area(PermissionArea("plate_lists", _l("White and black lists"), (VIEW, ADD, EDIT, DELETE, EXPORT)))
add_nav("members", _l("Monthly products"), "members.list_products", "members.view")
add_nav("members", _l("Monthly passes"), "members.list_passes", "members.view")
add_nav("members", _l("Renewal records"), "members.list_renewals", "members.view")
add_nav("members", _l("White list"), "members.white_list", "plate_lists.view")
add_nav("members", _l("Black list"), "members.black_list", "plate_lists.view")

KIND_LABELS = dict(KIND_CHOICES)
METHOD_LABELS = dict(METHOD_CHOICES)
VEHICLE_LABELS = dict(VEHICLE_CHOICES)
STATE_LABELS = {"active": lazy_pgettext("monthly pass", "active"), "future": _l("not started"),
                "expiring": _l("expiring soon"), "expired": _l("expired"), "cancelled": _l("cancelled")}
LIST_TITLES = {"white": _l("White list"), "black": _l("Black list")}

# on-screen headers, shared with the exports
PASS_COLUMNS = [(_l("Pass no."), INT), (_l("Holder"), TEXT), (_l("Phone"), TEXT), (_l("Plates"), TEXT),
                (_l("Product"), TEXT), (_l("Valid at"), TEXT), (_l("Starts"), DATE), (_l("Ends"), DATE),
                (_l("State"), TEXT)]
RENEWAL_COLUMNS = [(_l("Time"), DATETIME), (_l("Pass no."), INT), (_l("Holder"), TEXT), (_l("Plates"), TEXT),
                   (_l("Kind"), TEXT), (_l("Selling park"), TEXT), (_l("Months"), INT), (_l("Period from"), DATE),
                   (_l("Period to"), DATE), (_l("Receivable"), MONEY), (_l("Paid"), MONEY), (_l("Method"), TEXT),
                   (_l("Sold by"), TEXT)]
LIST_COLUMNS = [(_l("Park"), TEXT), (_l("Plate"), TEXT), (_l("Reason"), TEXT), (_l("Valid from"), DATE),
                (_l("Valid until"), DATE), (_l("Status"), TEXT), (_l("Added"), DATETIME)]


def _actor():
    return current_user._get_current_object()


def _anchor_label(obj) -> str:
    node = obj.anchor_node
    if isinstance(node, OperatingGroup):
        return _("%(group)s (every park)", group=node.name)
    return node.name if node is not None else "—"


def _writable(model, object_id, action: str | None = None):
    """The object for a write: 404 outside the scope; 403 for a group's product or pass seen from
    one of its parks (read-only there, but for the model's desk actions)."""
    scope = current_scope()
    obj = scope.get_or_404(model, object_id)
    if not obj.writable_in(scope, action):
        abort(403)
    return obj


def _plates(pass_: MonthlyPass) -> str:
    return ", ".join(p.plate for p in pass_.plates)


def _export_url(kind: str) -> str:
    return f"/exports/new/{kind}?{request.query_string.decode('utf-8', 'replace')}"


def _filter_nodes(scope, levels=(Level.GROUP, Level.AREA, Level.PARK)):
    wanted = [lv for lv in levels if not lv.is_above(scope.level)]
    return [("", _("All"))] + node_choices(scope, wanted)


def _render_form(title, form, back, status_ok=200, intro=None, template="members/form.html", **extra):
    return render_template(template, title=title, form=form, back=back, intro=intro, **extra), \
        400 if form.errors or form.form_errors else status_ok


# --- products -------------------------------------------------------------------------------------

@bp.route("/products")
@permission_required("members.view")
def list_products():
    scope = current_scope()
    form = ProductFilterForm(request.args)
    form.node.choices = _filter_nodes(scope, (Level.GROUP, Level.PARK))
    params = request.args if form.validate() else {}
    page = paginate(services.product_query(scope, params))
    return render_template("members/products.html", page=page, form=form, kinds=KIND_LABELS,
                           vehicles=VEHICLE_LABELS, anchor_label=_anchor_label, scope=scope)


def _anchor_choices(scope):
    levels = [lv for lv in (Level.GROUP, Level.PARK) if not lv.is_above(scope.level)]
    return node_choices(scope, levels)


@bp.route("/products/new", methods=["GET", "POST"])
@permission_required("members.add")
def new_product():
    return _product_form(None)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@permission_required("members.edit")
def edit_product(product_id):
    return _product_form(_writable(MonthlyProduct, product_id))


def _product_form(product):
    scope = current_scope()
    form = ProductForm(obj=product)
    form.anchor.choices = _anchor_choices(scope)
    if request.method == "GET" and product is not None:
        form.anchor.data = node_key(product.anchor_node)
        form.price.data = fen_to_yuan(product.price_fen)
    if form.validate_on_submit():
        anchor = node_from_key(scope, form.anchor.data)
        values = services.ProductValues(
            anchor=anchor or None, name=form.name.data, kind=form.kind.data, price_fen=form.price.fen,
            window_start=form.window_start.data, window_end=form.window_end.data,
            discount_percent=form.discount_percent.data, free_hours=form.free_hours.data,
            vehicle_class=form.vehicle_class.data, valid_until=form.valid_until.data)
        try:
            saved = services.save_product(_actor(), product, values, ip=client_ip())
        except services.MemberError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Product “%(name)s” saved.", name=saved.name), "success")
            return redirect(url_for("members.list_products"))
    title = _("Edit product “%(name)s”", name=product.name) if product else _("New monthly product")
    return _render_form(title, form, url_for("members.list_products"))


@bp.route("/products/<int:product_id>/active", methods=["POST"])
@permission_required("members.delete")
def toggle_product(product_id):
    product = _writable(MonthlyProduct, product_id)
    if FlaskForm().validate_on_submit():
        services.set_product_active(_actor(), product, not product.active, ip=client_ip())
        db.session.commit()
    return redirect(url_for("members.list_products"))


# --- passes ---------------------------------------------------------------------------------------

def _product_choices(scope):
    return [(p.id, f"{p.name} · {_anchor_label(p)} · ¥{fen_to_yuan(p.price_fen)}")
            for p in services.sellable_products(scope)]


@bp.route("/passes")
@permission_required("members.view")
def list_passes():
    scope = current_scope()
    form = PassFilterForm(request.args)
    form.node.choices = _filter_nodes(scope)
    form.product_id.choices = [("", _("All"))] + [(str(p.id), p.name) for p in db.session.scalars(
        scope.select(MonthlyProduct).order_by(MonthlyProduct.name))]
    params = request.args if form.validate() else {}
    today = services.local_today(services.scope_timezone(scope))
    stmt = services.pass_query(scope, params, today).options(selectinload(MonthlyPass.plates),
                                                             joinedload(MonthlyPass.product))
    return render_template("members/passes.html", page=paginate(stmt), form=form, today=today,
                           columns=PASS_COLUMNS, state_of=services.pass_state, states=STATE_LABELS,
                           anchor_label=_anchor_label, export_url=_export_url("member_passes"))


@bp.route("/passes/new", methods=["GET", "POST"])
@permission_required("members.add")
def new_pass():
    scope = current_scope()
    form = SaleForm()
    form.product_id.choices = _product_choices(scope)
    form.selling_park_id.choices = [("", _("— the product's own park —"))] + [
        (p.id, p.name) for p in scope.nodes(Level.PARK)]
    if request.method == "GET" and not form.starts_on.data:
        form.starts_on.data = services.local_today(services.scope_timezone(scope))
    if form.validate_on_submit():
        product = scope.get(MonthlyProduct, form.product_id.data)
        park = scope.get(Park, form.selling_park_id.data) if form.selling_park_id.data else None
        if park is None and product is not None and product.level == Level.PARK.value:
            park = scope.get(Park, product.park_id)
        try:
            pass_ = services.sell_pass(
                _actor(), product=product, selling_park=park, holder_name=form.holder_name.data,
                phone=form.phone.data, plates=form.plates.data, starts_on=form.starts_on.data,
                months=form.months.data, paid_fen=form.paid.fen, method=form.method.data, note=form.note.data,
                ip=client_ip())
        except services.MemberError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Pass sold to %(name)s until %(end)s.", name=pass_.holder_name, end=pass_.ends_on.isoformat()),
                  "success")
            return redirect(url_for("members.pass_detail", pass_id=pass_.id))
    return _render_form(_("Sell a monthly pass"), form, url_for("members.list_passes"),
                        intro=_("Receivable = months × the product's monthly price. A group product is valid at "
                                "every park of its group: choose the park that takes the money."))


@bp.route("/passes/<int:pass_id>")
@permission_required("members.view")
def pass_detail(pass_id):
    scope = current_scope()
    pass_ = scope.get_or_404(MonthlyPass, pass_id)
    # a group pass seen from one of its parks: the sales of that park only
    renewals = db.session.scalars(scope.select(PassRenewal).where(PassRenewal.pass_id == pass_.id)
                                  .options(joinedload(PassRenewal.park), joinedload(PassRenewal.sold_by))
                                  .order_by(PassRenewal.at, PassRenewal.id)).all()
    today = services.pass_today(pass_)
    return render_template("members/pass_detail.html", p=pass_, renewals=renewals, today=today,
                           state=services.pass_state(pass_, today), states=STATE_LABELS, kinds=KIND_LABELS,
                           methods=METHOD_LABELS, anchor_label=_anchor_label, plates=_plates(pass_),
                           scope=scope, Park=Park, writable=pass_.writable_in(scope))


def _pass_intro(pass_):
    return _("Pass #%(id)s of %(name)s (%(plates)s), %(product)s, valid %(start)s – %(end)s.", id=pass_.id,
             name=pass_.holder_name, plates=_plates(pass_), product=pass_.product.name,
             start=pass_.starts_on.isoformat(), end=pass_.ends_on.isoformat())


@bp.route("/passes/<int:pass_id>/edit", methods=["GET", "POST"])
@permission_required("members.edit")
def edit_pass(pass_id):
    pass_ = _writable(MonthlyPass, pass_id)
    form = PassEditForm(obj=pass_)
    if form.validate_on_submit():
        try:
            services.update_pass(_actor(), pass_, holder_name=form.holder_name.data, phone=form.phone.data,
                                 note=form.note.data, ip=client_ip())
        except services.MemberError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Pass saved."), "success")
            return redirect(url_for("members.pass_detail", pass_id=pass_.id))
    return _render_form(_("Edit pass #%(id)s", id=pass_.id), form, url_for("members.pass_detail", pass_id=pass_.id),
                        intro=_pass_intro(pass_))


@bp.route("/passes/<int:pass_id>/renew", methods=["GET", "POST"])
@permission_required("members.renew")
def renew_pass(pass_id):
    scope = current_scope()
    pass_ = _writable(MonthlyPass, pass_id, "renew")
    parks = services.product_parks(pass_.product, scope)
    form = RenewForm()
    form.selling_park_id.choices = [(p.id, p.name) for p in parks]
    if request.method == "GET":
        first = services.selling_park_of(pass_)
        form.selling_park_id.data = first.id if first is not None and first in parks else None
    if form.validate_on_submit():
        park = scope.get(Park, form.selling_park_id.data)
        try:
            renewal = services.renew_pass(_actor(), pass_, months=form.months.data, selling_park=park,
                                          paid_fen=form.paid.fen, method=form.method.data, ip=client_ip())
        except services.MemberError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Renewed: %(start)s – %(end)s.", start=renewal.starts_on.isoformat(),
                    end=renewal.ends_on.isoformat()), "success")
            return redirect(url_for("members.pass_detail", pass_id=pass_.id))
    today = services.pass_today(pass_)
    start = services.renewal_start(pass_, today)
    intro = _pass_intro(pass_) + " " + _("A renewal starts on %(start)s (the day after the current end, or today "
                                         "if the pass has lapsed); price ¥%(price)s a month.",
                                         start=start.isoformat(), price=fen_to_yuan(pass_.product.price_fen))
    return _render_form(_("Renew pass #%(id)s", id=pass_.id), form,
                        url_for("members.pass_detail", pass_id=pass_.id), intro=intro)


@bp.route("/passes/<int:pass_id>/plates", methods=["GET", "POST"])
@permission_required("members.edit")
def change_plates(pass_id):
    pass_ = _writable(MonthlyPass, pass_id)
    form = PlatesForm()
    if request.method == "GET":
        form.plates.data = _plates(pass_)
    if form.validate_on_submit():
        try:
            services.change_plates(_actor(), pass_, form.plates.data, ip=client_ip())
        except services.MemberError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Plates changed."), "success")
            return redirect(url_for("members.pass_detail", pass_id=pass_.id))
    return _render_form(_("Change the plates of pass #%(id)s", id=pass_.id), form,
                        url_for("members.pass_detail", pass_id=pass_.id), intro=_pass_intro(pass_))


@bp.route("/passes/<int:pass_id>/cancel", methods=["GET", "POST"])
@permission_required("members.delete")
def cancel_pass(pass_id):
    pass_ = _writable(MonthlyPass, pass_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            services.cancel_pass(_actor(), pass_, form.reason.data, ip=client_ip())
        except services.MemberError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Pass cancelled. No money was moved."), "success")
            return redirect(url_for("members.pass_detail", pass_id=pass_.id))
    return _render_form(_("Cancel pass #%(id)s", id=pass_.id), form, url_for("members.pass_detail", pass_id=pass_.id),
                        intro=_pass_intro(pass_) + " " + _("Cancelling moves no money; refund outside if needed."))


# --- renewal records ------------------------------------------------------------------------------

@bp.route("/renewals")
@permission_required("members.view")
def list_renewals():
    scope = current_scope()
    form = RenewalFilterForm(request.args)
    form.node.choices = _filter_nodes(scope)
    params = request.args if form.validate() else {}
    stmt = services.renewal_query(scope, params).options(
        joinedload(PassRenewal.park), joinedload(PassRenewal.sold_by),
        joinedload(PassRenewal.pass_).selectinload(MonthlyPass.plates)).order_by(PassRenewal.at.desc(),
                                                                                 PassRenewal.id.desc())
    return render_template("members/renewals.html", page=paginate(stmt), form=form, columns=RENEWAL_COLUMNS,
                           totals=services.renewal_totals(scope, params), methods=METHOD_LABELS,
                           export_url=_export_url("pass_renewals"), scope=scope)


# --- white and black lists ------------------------------------------------------------------------

def _list_page(kind: str):
    scope = current_scope()
    form = ListFilterForm(request.args)
    form.node.choices = _filter_nodes(scope)
    params = request.args if form.validate() else {}
    stmt = services.list_entry_query(scope, kind, params)
    return render_template("members/plate_list.html", kind=kind, title=LIST_TITLES[kind], page=paginate(stmt),
                           form=form, columns=LIST_COLUMNS, dates=services.entry_dates,
                           parks={p.id: p for p in scope.nodes(Level.PARK, active_only=False)},
                           export_url=_export_url(f"{kind}_list"))


@bp.route("/white-list")
@permission_required("plate_lists.view")
def white_list():
    return _list_page("white")


@bp.route("/black-list")
@permission_required("plate_lists.view")
def black_list():
    return _list_page("black")


def _list_form(kind: str, entry: PlateListEntry | None):
    scope = current_scope()
    form = ListEntryForm(obj=entry)
    form.park_id.choices = [(p.id, p.name) for p in scope.nodes(Level.PARK)]
    back = url_for(f"members.{kind}_list")
    if request.method == "GET" and entry is not None:
        park = db.session.get(Park, entry.park_id)
        form.valid_from.data, form.valid_until.data = services.entry_dates(entry, park.timezone)
    if form.validate_on_submit():
        try:
            services.save_list_entry(_actor(), entry, kind=kind, park=scope.get(Park, form.park_id.data),
                                     plate=form.plate.data, reason=form.reason.data,
                                     valid_from=form.valid_from.data, valid_until=form.valid_until.data,
                                     ip=client_ip())
        except services.MemberError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("%(list)s saved.", list=LIST_TITLES[kind]), "success")
            return redirect(back)
    title = (_("Edit %(list)s entry", list=LIST_TITLES[kind].lower()) if entry
             else _("Add to the %(list)s", list=LIST_TITLES[kind].lower()))
    intro = _("Dates are the park's local dates; the last day is included.") + (
        " " + _("Plates on the black list are refused or flagged at car-in, as the park's collector settings say.")
        if kind == "black" else " " + _("White-listed plates park free at that park during the period."))
    return _render_form(title, form, back, intro=intro)


@bp.route("/white-list/new", methods=["GET", "POST"])
@permission_required("plate_lists.add")
def new_white():
    return _list_form("white", None)


@bp.route("/black-list/new", methods=["GET", "POST"])
@permission_required("plate_lists.add")
def new_black():
    return _list_form("black", None)


@bp.route("/plate-lists/<int:list_entry_id>/edit", methods=["GET", "POST"])
@permission_required("plate_lists.edit")
def edit_list_entry(list_entry_id):
    entry = current_scope().get_or_404(PlateListEntry, list_entry_id)
    return _list_form(entry.kind, entry)


@bp.route("/plate-lists/<int:list_entry_id>/deactivate", methods=["GET", "POST"])
@permission_required("plate_lists.delete")
def deactivate_list_entry(list_entry_id):
    entry = current_scope().get_or_404(PlateListEntry, list_entry_id)
    form = DeactivateForm()
    back = url_for(f"members.{entry.kind}_list")
    if form.validate_on_submit():
        try:
            services.deactivate_list_entry(_actor(), entry, form.reason.data, ip=client_ip())
        except services.MemberError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Plate %(plate)s whitewashed.", plate=entry.plate) if entry.kind == "black"
                  else _("Plate %(plate)s taken off the white list.", plate=entry.plate), "success")
            return redirect(back)
    title = (_("Whitewash %(plate)s", plate=entry.plate) if entry.kind == "black"
             else _("Take %(plate)s off the white list", plate=entry.plate))
    return _render_form(title, form, back, intro=entry.reason)


# --- imports --------------------------------------------------------------------------------------

IMPORTS = {  # kind -> (title, the list it adds to)
    "passes": (_l("Import monthly passes"), "members.list_passes"),
    "white": (_l("Import the white list"), "members.white_list"),
    "black": (_l("Import the black list"), "members.black_list"),
}


def _import_page(kind: str):
    """GET: the upload form (with ?template=1: the .xlsx template) and the recent background imports;
    POST: the upload. A broken or hostile file is the form's error (400), never a server error."""
    title, back = IMPORTS[kind]
    if request.method == "GET" and request.args.get("template"):
        return _template_download(kind)
    form = ImportForm()
    report, status = None, 200
    scope = current_scope()
    inline = current_app.config.get("IMPORT_INLINE_MAX_ROWS", 1000)
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        else:
            upload = request.files.get("file")
            data = upload.stream.read(imports.MAX_BYTES + 1) if upload else b""
            try:
                lines = imports.read_rows(data, kind, stop_after=inline + 1)
                if len(lines) > inline:
                    job = import_jobs.create_job(_actor(), kind, data, upload.filename, ip=client_ip())
                    import_jobs.start(job)
                    return redirect(url_for("members.import_job", import_job_id=job.id))
                report = imports.import_rows(_actor(), scope, kind, lines, ip=client_ip())
            except imports.FileRefused as exc:
                db.session.rollback()
                form.file.errors = [str(exc)]
                status = 400
            else:
                if report.ok:
                    db.session.commit()
                    flash(_("%(count)s rows imported.", count=report.imported), "success")
                    return redirect(url_for(back))
                status = 400
    return render_template("members/import.html", title=title, form=form, report=report, kind=kind, back=back,
                           template_url=url_for(f"members.import_{kind}", template=1),
                           columns=imports.COLUMNS[kind], required=imports.REQUIRED[kind],
                           jobs=import_jobs.jobs_in_scope(scope, kind), inline_rows=inline), status


def _import_job_or_404(import_job_id: int) -> ImportJob:
    job = current_scope().get_or_404(ImportJob, import_job_id)
    if job.kind not in IMPORTS or not current_user.can(imports.PERMISSIONS[job.kind]):
        abort(403)
    return job


@bp.route("/imports/<int:import_job_id>")
@login_required
def import_job(import_job_id):
    job = _import_job_or_404(import_job_id)
    title, back = IMPORTS[job.kind]
    return render_template("members/import_job.html", job=job, title=title, back=back,
                           status=import_jobs.status(job), import_url=url_for(f"members.import_{job.kind}"))


@bp.route("/imports/<int:import_job_id>/status")
@login_required
def import_job_status(import_job_id):
    return jsonify(import_jobs.status(_import_job_or_404(import_job_id)))


def _template_download(kind: str):
    return Response(imports.template_bytes(kind), headers={
        "Content-Disposition": f'attachment; filename="{kind}-import-template.xlsx"'},
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


_IMPORT_BODY = body_limit(imports.MAX_BYTES + MULTIPART_ENVELOPE)  # the file, its form and the CSRF token
for _kind in IMPORTS:
    _page = permission_required(imports.PERMISSIONS[_kind])(lambda kind=_kind: _import_page(kind))
    bp.add_url_rule(f"/import/{_kind}", f"import_{_kind}", _IMPORT_BODY(_page),
                    methods=["GET", "POST"])


# --- exports --------------------------------------------------------------------------------------

def _pass_rows(scope, params):
    today = services.local_today(services.scope_timezone(scope))
    stmt = services.pass_query(scope, params or {}, today).options(
        selectinload(MonthlyPass.plates), joinedload(MonthlyPass.product)).execution_options(yield_per=500)
    for p in db.session.scalars(stmt):
        yield (p.id, p.holder_name, p.phone or "", _plates(p), p.product.name, _anchor_label(p), p.starts_on,
               p.ends_on, str(STATE_LABELS[services.pass_state(p, today)]))


def _renewal_rows(scope, params):
    stmt = services.renewal_query(scope, params or {}).options(
        selectinload(PassRenewal.park), selectinload(PassRenewal.sold_by),
        selectinload(PassRenewal.pass_).selectinload(MonthlyPass.plates)).order_by(
        PassRenewal.at.desc(), PassRenewal.id.desc()).execution_options(yield_per=500)
    for r in db.session.scalars(stmt):
        yield (r.at, r.pass_id, r.pass_.holder_name, _plates(r.pass_), str(_("Sale") if r.kind == "sale"
                                                                            else _("Renewal")),
               r.park.name, r.months, r.starts_on, r.ends_on, r.receivable_fen, r.paid_fen,
               str(METHOD_LABELS.get(r.method, r.method)), r.sold_by.display_name if r.sold_by else "")


def _list_rows(kind):
    def rows(scope, params):
        parks = {}
        for e in db.session.scalars(services.list_entry_query(scope, kind, params or {})
                                    .execution_options(yield_per=500)):
            park = parks.get(e.park_id) or parks.setdefault(e.park_id, db.session.get(Park, e.park_id))
            start, end = services.entry_dates(e, park.timezone)
            yield (park.name, e.plate, e.reason or "", start, end,
                   str(_("Active") if e.active else _("Lifted")), e.created_at)
    return rows


def _count_passes(scope, params):
    return count_of(services.pass_query(scope, params or {}, services.local_today(services.scope_timezone(scope))))


def _count_renewals(scope, params):
    return count_of(services.renewal_query(scope, params or {}))


def _count_list(kind):
    return lambda scope, params: count_of(services.list_entry_query(scope, kind, params or {}))


register_export(ExportSpec("member_passes", _l("Monthly passes"), "members.export", PASS_COLUMNS, _pass_rows,
                           count=_count_passes))
register_export(ExportSpec("pass_renewals", _l("Renewal records"), "members.export", RENEWAL_COLUMNS,
                           _renewal_rows, count=_count_renewals))
register_export(ExportSpec("white_list", _l("White list"), "plate_lists.export", LIST_COLUMNS, _list_rows("white"),
                           count=_count_list("white")))
register_export(ExportSpec("black_list", _l("Black list"), "plate_lists.export", LIST_COLUMNS, _list_rows("black"),
                           count=_count_list("black")))
