"""Park configuration pages (车场参数配置): parameters, city rules, car types (车型) and plate bindings (绑定车型)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from app.core.web import client_ip, paginate, permission_required, show_refusal
from app.extensions import db
from app.parks import services
from app.parks.forms import (
    CarTypeFilterForm,
    CarTypeForm,
    CityRulesForm,
    ParametersForm,
    PlateBindingFilterForm,
    PlateBindingForm,
)
from app.parks.models import CarType, ParkParameters, PlateCarType
from app.staff.permissions import EDIT, VIEW, PermissionArea, register_area
from app.tenancy.forms import NodeFilterForm
from app.tenancy.models import City, Level, Park
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope

bp = Blueprint("park_config", __name__, url_prefix="/park-settings")

register_area(PermissionArea("city_rules", _l("City parking rules"), (VIEW, EDIT), Level.CITY))
add_nav("park_settings", _l("Park parameters"), "park_config.list_parameters", "park_settings.view")
add_nav("park_settings", _l("Car types"), "park_config.list_car_types", "park_settings.view")
add_nav("park_settings", _l("Plates and car types"), "park_config.list_bindings", "park_settings.view")
add_nav("park_settings", _l("City parking rules"), "park_config.list_city_rules", "city_rules.view")


def _actor():
    return current_user._get_current_object()


def _park_choices(scope, current_id: int | None = None):
    parks = scope.nodes(Level.PARK)
    if current_id is not None and all(p.id != current_id for p in parks):
        parks.append(scope.get(Park, current_id))
    return [(p.id, p.name) for p in parks if p is not None]


def _parks_of(rows) -> dict:
    ids = {r.park_id for r in rows}
    return {p.id: p for p in db.session.scalars(select(Park).where(Park.id.in_(ids)))} if ids else {}


def _form_status(form):
    return 400 if form.errors else 200


# --- parameters -------------------------------------------------------------------------------

@bp.route("/parameters")
@permission_required("park_settings.view")
def list_parameters():
    form = NodeFilterForm(request.args)
    stmt = current_scope().select(Park).order_by(Park.name)
    if form.validate() and form.q.data:
        stmt = stmt.where(Park.name.ilike(f"%{form.q.data.strip()}%"))
    page = paginate(stmt)
    rows = {r.park_id: r for r in db.session.scalars(
        select(ParkParameters).where(ParkParameters.park_id.in_([p.id for p in page.items])))}
    return render_template("parks/parameters_list.html", page=page, form=form, rows=rows,
                           defaults=services.park_parameters(0))


@bp.route("/parameters/<int:park_id>", methods=["GET", "POST"])
@permission_required("park_settings.view")
def park_parameters(park_id):
    park = current_scope().get_or_404(Park, park_id)
    can_edit = current_user.can("park_settings.edit")
    if request.method == "POST" and not can_edit:
        abort(403)
    current = services.parameters_form_data(park)
    form = ParametersForm(data=None if request.method == "POST" else current)
    if form.validate_on_submit():
        values = {k: v for k, v in form.data.items() if k not in ("submit", "csrf_token")}
        try:
            services.save_parameters(_actor(), park, values, ip=client_ip())
        except services.SettingsError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Parameters of %(park)s saved.", park=park.name), "success")
            return redirect(url_for("park_config.park_parameters", park_id=park.id))
    saved = db.session.scalar(select(ParkParameters.id).where(ParkParameters.park_id == park.id)) is not None
    return render_template("parks/parameters_form.html", form=form, park=park, saved=saved, can_edit=can_edit,
                           values=current), _form_status(form)


# --- city rules -------------------------------------------------------------------------------

@bp.route("/city-rules")
@permission_required("city_rules.view")
def list_city_rules():
    cities = current_scope().nodes(Level.CITY)
    return render_template("parks/city_rules_list.html", cities=cities)


@bp.route("/city-rules/<int:city_id>", methods=["GET", "POST"])
@permission_required("city_rules.view")
def city_rules(city_id):
    city = current_scope().get_or_404(City, city_id)
    can_edit = current_user.can("city_rules.edit")
    if request.method == "POST" and not can_edit:
        abort(403)
    form = CityRulesForm(obj=city)
    if form.validate_on_submit():
        values = {f: getattr(form, f).data for f in services.CITY_RULE_FIELDS}
        try:
            services.save_city_rules(_actor(), city, values, ip=client_ip())
        except services.SettingsError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Rules of %(city)s saved.", city=city.name), "success")
            return redirect(url_for("park_config.city_rules", city_id=city.id))
    return render_template("parks/city_rules_form.html", form=form, city=city, can_edit=can_edit), \
        _form_status(form)


# --- car types --------------------------------------------------------------------------------

@bp.route("/car-types")
@permission_required("park_settings.view")
def list_car_types():
    scope = current_scope()
    form = CarTypeFilterForm(request.args)
    form.park_id.choices = [("", _("Any park"))] + _park_choices(scope)
    stmt = scope.select(CarType).join(Park, Park.id == CarType.park_id).order_by(Park.name, CarType.code)
    if form.validate():
        if form.park_id.data:
            stmt = stmt.where(CarType.park_id == form.park_id.data)
        if form.q.data:
            stmt = stmt.where(CarType.name.ilike(f"%{form.q.data.strip()}%"))
    page = paginate(stmt)
    ids = [t.id for t in page.items]
    bound = dict(db.session.execute(select(PlateCarType.car_type_id, func.count(PlateCarType.id)).where(
        PlateCarType.car_type_id.in_(ids)).group_by(PlateCarType.car_type_id)).all()) if ids else {}
    return render_template("parks/car_types.html", page=page, form=form, parks=_parks_of(page.items), bound=bound)


def _car_type_form(car_type=None):
    scope = current_scope()
    form = CarTypeForm(obj=car_type)
    form.park_id.choices = _park_choices(scope, car_type.park_id if car_type else None)
    if request.method == "GET" and car_type is None and request.args.get("park_id", "").isdigit():
        form.park_id.data = int(request.args["park_id"])
    if form.validate_on_submit():
        park = scope.get(Park, form.park_id.data)
        try:
            saved = services.save_car_type(_actor(), car_type or CarType(), park=park, name=form.name.data,
                                           code=form.code.data, vehicle_class=form.vehicle_class.data,
                                           ip=client_ip())
        except services.SettingsError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Car type “%(name)s” saved.", name=saved.name), "success")
            return redirect(url_for("park_config.list_car_types", park_id=saved.park_id))
    return render_template("parks/simple_form.html", form=form, obj=car_type, form_id="car-type-form",
                           title=_("Car types"),
                           heading=_("Edit car type “%(name)s”", name=car_type.name) if car_type
                           else _("New car type"), back=url_for("park_config.list_car_types"),
                           intro=_("A class of vehicle the park prices apart (车型). The code is the car type's "
                                   "number in the on-site system.")), _form_status(form)


@bp.route("/car-types/new", methods=["GET", "POST"])
@permission_required("park_settings.edit")
def new_car_type():
    return _car_type_form()


@bp.route("/car-types/<int:car_type_id>/edit", methods=["GET", "POST"])
@permission_required("park_settings.edit")
def edit_car_type(car_type_id):
    return _car_type_form(current_scope().get_or_404(CarType, car_type_id))


@bp.route("/car-types/<int:car_type_id>/active", methods=["POST"])
@permission_required("park_settings.edit")
def toggle_car_type(car_type_id):
    car_type = current_scope().get_or_404(CarType, car_type_id)
    if FlaskForm().validate_on_submit():
        services.set_car_type_active(_actor(), car_type, not car_type.active, ip=client_ip())
        db.session.commit()
        flash(_("Car type “%(name)s” is now %(state)s.", name=car_type.name,
                state=_("active") if car_type.active else _("disabled")), "success")
    return redirect(url_for("park_config.list_car_types", park_id=car_type.park_id))


# --- plate bindings ---------------------------------------------------------------------------

def _car_type_choices(scope):
    types = db.session.scalars(scope.select(CarType).join(Park, Park.id == CarType.park_id)
                               .where(CarType.active.is_(True)).order_by(Park.name, CarType.name)).all()
    parks = _parks_of(types)
    return [(t.id, f"{parks[t.park_id].name} / {t.name}") for t in types]


@bp.route("/plate-car-types")
@permission_required("park_settings.view")
def list_bindings():
    scope = current_scope()
    form = PlateBindingFilterForm(request.args)
    form.park_id.choices = [("", _("Any park"))] + _park_choices(scope)
    form.car_type_id.choices = [("", _("Any car type"))] + _car_type_choices(scope)
    stmt = scope.select(PlateCarType).join(Park, Park.id == PlateCarType.park_id).order_by(Park.name,
                                                                                         PlateCarType.plate)
    if form.validate():
        if form.park_id.data:
            stmt = stmt.where(PlateCarType.park_id == form.park_id.data)
        if form.car_type_id.data:
            stmt = stmt.where(PlateCarType.car_type_id == form.car_type_id.data)
        if form.q.data:
            stmt = stmt.where(PlateCarType.plate.ilike(f"%{form.q.data.strip().upper()}%"))
    page = paginate(stmt)
    has_types = bool(form.car_type_id.choices[1:])
    return render_template("parks/bindings.html", page=page, form=form, parks=_parks_of(page.items),
                           has_types=has_types)


@bp.route("/plate-car-types/new", methods=["GET", "POST"])
@permission_required("park_settings.edit")
def new_bindings():
    scope = current_scope()
    form = PlateBindingForm()
    form.car_type_id.choices = _car_type_choices(scope)
    if form.validate_on_submit():
        car_type = scope.get(CarType, form.car_type_id.data)
        try:
            counts = services.bind_plates(_actor(), car_type, form.plates.data, form.note.data, ip=client_ip())
        except services.SettingsError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("%(added)d plates bound, %(moved)d moved from another car type, %(unchanged)d already bound.",
                    **counts), "success")
            return redirect(url_for("park_config.list_bindings", car_type_id=car_type.id))
    return render_template("parks/simple_form.html", form=form, obj=None, form_id="binding-form",
                           title=_("Plates and car types"), heading=_("Bind plates to a car type"),
                           back=url_for("park_config.list_bindings"),
                           intro=_("Paste plates from a spreadsheet; the whole paste is refused if one of them "
                                   "is not a plate.") if form.car_type_id.choices else
                           _("Plates are bound to a car type: add an active one under “Car types” first.")), \
        _form_status(form)


@bp.route("/plate-car-types/<int:binding_id>/delete", methods=["POST"])
@permission_required("park_settings.edit")
def delete_binding(binding_id):
    binding = current_scope().get_or_404(PlateCarType, binding_id)
    if FlaskForm().validate_on_submit():
        services.delete_binding(_actor(), binding, ip=client_ip())
        db.session.commit()
        flash(_("Plate %(plate)s is no longer bound to a car type.", plate=binding.plate), "success")
    return redirect(url_for("park_config.list_bindings"))
