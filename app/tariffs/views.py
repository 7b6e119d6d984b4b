"""Tariff pages: rules per park, new rules (structured, JSON or pasted legacy rows), versions,
enable/disable, and fee previews ("try a stay")."""
from __future__ import annotations

import json
from datetime import datetime, time, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import Field, FormField

from app.core.types import utcnow
from app.core.web import client_ip, paginate, permission_required
from app.extensions import db
from app.staff.models import Staff
from app.staff.permissions import ADD, DELETE, EDIT, VIEW, PermissionArea, register_area
from app.tariffs import forms, services
from app.tariffs.engine import RuleError
from app.tariffs.labels import fee_line_label
from app.tariffs.models import TariffRule
from app.tenancy.models import Level, Park
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope, node_label

register_area(PermissionArea("tariffs", _l("Tariffs"), (VIEW, ADD, EDIT, DELETE)))
add_nav("park_settings", _l("Tariffs"), "tariffs.list_rules", "tariffs.view")

bp = Blueprint("tariffs", __name__, url_prefix="/tariffs")
bp.add_app_template_filter(fee_line_label, "fee_line_label")  # orders' pages show fee lines too

MODES = {"form": (forms.NewStructuredRuleForm, forms.StructuredVersionForm),
         "json": (forms.NewJsonRuleForm, forms.JsonVersionForm)}


def _actor():
    return current_user._get_current_object()


def _park_choices(scope, active_only: bool = True) -> list[tuple[int, str]]:
    return [(p.id, node_label(p)) for p in scope.nodes(Level.PARK, active_only=active_only)]


def _put_errors(form, fields: dict, field_for) -> None:
    """Engine / service messages next to their fields; the rest at the top of the form."""
    for path, message in fields.items():
        field = field_for(path) or getattr(form, path, None)
        if isinstance(field, Field) and not isinstance(field, FormField):
            field.errors = list(field.errors) + [str(message)]
        else:
            form.form_errors.append(str(message) if path == "(document)" else f"{path}: {message}")


def _rule_errors(form, exc: Exception) -> None:
    """RuleError / TariffInputError on the page; JSON documents list every path under the textarea."""
    fields = getattr(exc, "fields", None) or {"(document)": str(exc)}
    page_fields = {k: v for k, v in fields.items() if hasattr(form, k) and k in ("effective_from", "vehicle_class",
                                                                                  "pasted", "left_at", "park_id")}
    _put_errors(form, page_fields, lambda p: None)
    rest = {k: v for k, v in fields.items() if k not in page_fields}
    if not rest:
        return
    if getattr(form, "structured", False):
        _put_errors(form, rest, form.field_for)
    else:
        target = getattr(form, "document_json", None) or getattr(form, "pasted", None)
        target.errors = list(target.errors) + [f"{path}: {message}" if path != "(document)" else str(message)
                                               for path, message in rest.items()]


def _effective(form, park: Park):
    """The form's effective time as aware UTC (None = now), or False after a field error."""
    if not form.effective_from.data:
        return None
    try:
        return services.local_to_utc(form.effective_from.data, park.timezone)
    except ValueError as exc:
        form.effective_from.errors = list(form.effective_from.errors) + [str(exc)]
        return False


def _mode() -> str:
    mode = request.args.get("mode", "form")
    return mode if mode in MODES else "form"


# ---------------------------------------------------------------- list

@bp.route("")
@permission_required("tariffs.view")
def list_rules():
    scope = current_scope()
    form = forms.RuleFilterForm(request.args)
    form.park_id.choices = [("", _("Any park"))] + _park_choices(scope, active_only=False)
    stmt = (scope.select(TariffRule).join(Park, Park.id == TariffRule.park_id)
            .options(selectinload(TariffRule.versions), selectinload(TariffRule.park))
            .order_by(Park.name, TariffRule.name, TariffRule.id))
    if form.validate():
        if form.park_id.data:
            stmt = stmt.where(TariffRule.park_id == form.park_id.data)
        if form.vehicle_class.data:
            stmt = stmt.where(TariffRule.vehicle_class == form.vehicle_class.data)
        if form.status.data:
            stmt = stmt.where(TariffRule.active.is_(form.status.data == "active"))
    now = utcnow()
    return render_template("tariffs/list.html", page=paginate(stmt), form=form, now=now,
                           version_at=services.version_at, scheduled=services.scheduled_versions)


# ---------------------------------------------------------------- new rule, new version

@bp.route("/new", methods=["GET", "POST"])
@permission_required("tariffs.add")
def new_rule():
    scope, mode = current_scope(), _mode()
    form = MODES[mode][0]()
    form.park_id.choices = _park_choices(scope)
    if request.method == "GET" and mode == "json":
        form.fill({"kind": "banded", "grace_minutes": 0,
                   "rates": {"hourly": {"unit_minutes": 60, "price_fen": 300}},
                   "schedule": [{"bands": [{"start": "00:00", "end": "24:00", "rate": "hourly"}]}]})
    if form.validate_on_submit():
        park = scope.get_or_404(Park, form.park_id.data)
        effective = _effective(form, park)
        if effective is not False:
            try:
                rule = services.create_rule(_actor(), park, name=form.name.data,
                                            vehicle_class=form.vehicle_class.data, document=form.document(),
                                            effective_from=effective, note=form.note.data, ip=client_ip())
            except (RuleError, services.TariffInputError) as exc:
                db.session.rollback()
                _rule_errors(form, exc)
            else:
                db.session.commit()
                flash(_("Tariff rule “%(name)s” created.", name=rule.name), "success")
                return redirect(url_for("tariffs.show_rule", rule_id=rule.id))
    return _render_form(form, mode, rule=None)


@bp.route("/<int:rule_id>/versions/new", methods=["GET", "POST"])
@permission_required("tariffs.edit")
def new_version(rule_id):
    rule = current_scope().get_or_404(TariffRule, rule_id)
    latest = rule.latest.document if rule.latest else {}
    mode = request.args.get("mode") or ("form" if forms.structured_supported(latest) else "json")
    mode = mode if mode in MODES else "form"
    form = MODES[mode][1]()
    if request.method == "GET" and (mode == "json" or forms.structured_supported(latest)):
        form.fill(latest)
    if form.validate_on_submit():
        effective = _effective(form, rule.park)
        if effective is not False:
            try:
                version = services.add_version(_actor(), rule, document=form.document(), effective_from=effective,
                                               note=form.note.data, ip=client_ip())
            except (RuleError, services.TariffInputError) as exc:
                db.session.rollback()
                _rule_errors(form, exc)
            else:
                db.session.commit()
                flash(_("Version %(n)s of “%(name)s” saved.", n=version.version, name=rule.name), "success")
                return redirect(url_for("tariffs.show_rule", rule_id=rule.id))
    return _render_form(form, mode, rule=rule, lossy=mode == "form" and bool(latest)
                        and not forms.structured_supported(latest))


def _render_form(form, mode: str, rule, lossy: bool = False):
    return render_template("tariffs/form.html", form=form, mode=mode, rule=rule, lossy=lossy,
                           classes=forms.CLASS_SUGGESTIONS), 400 if form.errors else 200


# ---------------------------------------------------------------- enable / disable

@bp.route("/<int:rule_id>/active", methods=["POST"])
@permission_required("tariffs.delete")
def toggle_rule(rule_id):
    rule = current_scope().get_or_404(TariffRule, rule_id)
    if FlaskForm().validate_on_submit():
        try:
            services.set_rule_active(_actor(), rule, not rule.active, ip=client_ip())
        except services.TariffInputError as exc:
            db.session.rollback()
            flash(" ".join(str(m) for m in exc.fields.values()), "danger")
        else:
            db.session.commit()
            flash(_("“%(name)s” is now %(state)s.", name=rule.name,
                    state=_("active") if rule.active else _("disabled")), "success")
    return redirect(url_for("tariffs.show_rule", rule_id=rule.id))


# ---------------------------------------------------------------- rule page with "try a stay"

@bp.route("/<int:rule_id>")
@permission_required("tariffs.view")
def show_rule(rule_id):
    rule = current_scope().get_or_404(TariffRule, rule_id)
    form = forms.RulePreviewForm(request.args)
    form.version.choices = [("", _("the version in force at the entry"))] + [
        (str(v.version), _("version %(n)s", n=v.version)) for v in reversed(rule.versions)]
    _default_stay(form, rule.park, request.args)
    fee, used = None, None
    if "entered_at" in request.args and form.validate():
        used, fee = _preview_rule(form, rule)
    creators = _creators(rule.versions)
    now = utcnow()
    status = 400 if form.errors else 200
    return render_template("tariffs/rule.html", rule=rule, park=rule.park, form=form, fee=fee, used=used,
                           creators=creators, current=services.version_at(rule, now), now=now,
                           classes=forms.CLASS_SUGGESTIONS), status


def _preview_rule(form, rule: TariffRule):
    stay = _stay_times(form, rule.park)
    if stay is None:
        return None, None
    entered, left = stay
    if form.version.data:
        version = next(v for v in rule.versions if str(v.version) == form.version.data)
    else:
        version = services.version_at(rule, entered)
        if version is None:
            first = rule.versions[0].effective_from if rule.versions else None
            form.entered_at.errors = list(form.entered_at.errors) + [
                _("No version of this rule is in force then (the first starts %(when)s). Pick a version to try.",
                  when=_local_text(first, rule.park))]
            return None, None
    try:
        return version, services.preview_version(rule, version, entered, left, form.stay_class.data,
                                                 pass_=form.pass_spec())
    except (RuleError, services.TariffInputError) as exc:
        _put_errors(form, exc.fields or {"(document)": str(exc)}, form.stay_field_for)
        return None, None


def _stay_times(form, park: Park):
    try:
        return (services.local_to_utc(form.entered_at.data, park.timezone),
                services.local_to_utc(form.left_at.data, park.timezone))
    except ValueError as exc:
        form.form_errors.append(str(exc))
        return None


def _default_stay(form, park: Park | None, args) -> None:
    """A sample stay of today 08:00-10:30 in the park's time, when the page opens."""
    if "entered_at" in args:
        return
    zone = park.timezone if park is not None else current_app.config["DEFAULT_TIMEZONE"]
    today = services.utc_to_local(utcnow(), zone).date()
    form.entered_at.data = datetime.combine(today, time(8, 0))
    form.left_at.data = form.entered_at.data + timedelta(hours=2, minutes=30)


def _creators(versions) -> dict[int, str]:
    ids = {v.created_by_id for v in versions if v.created_by_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(Staff.id, Staff.username).where(Staff.id.in_(ids))).all())


def _local_text(moment, park: Park) -> str:
    if moment is None:
        return "—"
    return services.utc_to_local(moment, park.timezone).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------- standalone preview

@bp.route("/preview")
@permission_required("tariffs.view")
def preview():
    scope = current_scope()
    form = forms.ParkPreviewForm(request.args)
    form.park_id.choices = _park_choices(scope)
    park = scope.get(Park, form.park_id.data) if form.park_id.data in dict(form.park_id.choices) else None
    _default_stay(form, park, request.args)
    fee = version = None
    if "entered_at" in request.args and form.validate() and park is not None:
        stay = _stay_times(form, park)
        if stay is not None:
            try:
                version, fee = services.preview_park(park, form.stay_class.data, *stay, pass_=form.pass_spec())
            except (RuleError, services.TariffInputError) as exc:
                _put_errors(form, exc.fields or {"(document)": str(exc)}, form.stay_field_for)
                fee = None
    status = 400 if form.errors else 200
    return render_template("tariffs/preview.html", form=form, park=park, fee=fee, version=version,
                           classes=forms.CLASS_SUGGESTIONS), status


# ---------------------------------------------------------------- import of a pasted ParkingOS rule

@bp.route("/import", methods=["GET", "POST"])
@permission_required("tariffs.add")
def import_rule():
    scope = current_scope()
    form = forms.ImportForm()
    form.park_id.choices = _park_choices(scope)
    if request.method == "GET":
        _default_stay(form, None, {})
    document = fee = None
    saving = request.form.get("action") == "save"
    if form.validate_on_submit() or (request.method == "POST" and not saving and _preview_only_errors(form)):
        park = scope.get_or_404(Park, form.park_id.data)
        document, fee = _import_preview(form, park)
        if fee is not None and saving:
            saved = _import_save(form, park, document)
            if saved is not None:
                return saved
    return render_template("tariffs/import.html", form=form, document=document, fee=fee,
                           park=scope.get(Park, form.park_id.data) if form.park_id.data else None,
                           document_text=_pretty(document),
                           classes=forms.CLASS_SUGGESTIONS), 400 if form.errors else 200


def _preview_only_errors(form) -> bool:
    """A preview needs no name, note or effective time: drop their errors and go on."""
    if not set(form.errors) <= {"name", "note", "effective_from"}:
        return False
    for name in ("name", "note", "effective_from"):
        form[name].errors = []
    return True


def _import_preview(form, park: Park):
    try:
        document = services.document_from_paste(json.loads(form.pasted.data), form.minprice_unit.data)
        stay = _stay_times(form, park)
        if stay is None:
            return None, None
        return document, services.preview_document(document, park, *stay, vehicle_class=_sample_class(form))
    except (RuleError, services.TariffInputError) as exc:
        _rule_errors(form, exc)
        return None, None


def _sample_class(form) -> str:
    return "small" if form.vehicle_class.data == "any" else form.vehicle_class.data


def _import_save(form, park: Park, document: dict):
    effective = _effective(form, park)
    if effective is False:
        return None
    try:
        rule = services.create_rule(_actor(), park, name=form.name.data, vehicle_class=form.vehicle_class.data,
                                    document=document, effective_from=effective, note=form.note.data,
                                    ip=client_ip())
    except (RuleError, services.TariffInputError) as exc:
        db.session.rollback()
        _rule_errors(form, exc)
        return None
    db.session.commit()
    flash(_("Tariff rule “%(name)s” imported.", name=rule.name), "success")
    return redirect(url_for("tariffs.show_rule", rule_id=rule.id))


def _pretty(document) -> str | None:
    return None if document is None else json.dumps(document, indent=2, ensure_ascii=False)
