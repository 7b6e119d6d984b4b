"""Pages of the tree: cities (platform), groups and areas (city), parks (group and city)."""
from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from app.core.web import client_ip, paginate, permission_required
from app.extensions import db
from app.staff.models import Staff
from app.tenancy import services
from app.tenancy.forms import SITE_TYPES, AreaForm, CityForm, GroupForm, NodeFilterForm, ParkForm
from app.tenancy.models import Area, City, Level, OperatingGroup, Park
from app.tenancy.scope import current_scope, node_label

bp = Blueprint("tenancy", __name__, url_prefix="/org")


@dataclass(frozen=True)
class NodeKind:
    model: type
    slug: str          # URL part and permission area
    id_arg: str
    form: type
    title: str
    singular: str
    columns: tuple     # (header, attribute or callable)


def _yes_no(v):
    return _("yes") if v else _("no")


def _hours(park):
    if park.opens_at is None:
        return _("all day")
    return f"{park.opens_at:%H:%M}–{park.closes_at:%H:%M}"


KINDS = {
    "cities": NodeKind(City, "cities", "city_id", CityForm, _l("Cities"), _l("city"),
                       ((_l("Name"), "name"), (_l("Code"), "code"), (_l("Time zone"), "timezone"))),
    "groups": NodeKind(OperatingGroup, "groups", "group_id", GroupForm, _l("Operating groups"), _l("operating group"),
                       ((_l("Name"), "name"), (_l("City"), lambda o: o.city.name), (_l("Contact"), "contact"),
                        (_l("Phone"), "phone"))),
    "areas": NodeKind(Area, "areas", "area_id", AreaForm, _l("Areas"), _l("area"),
                      ((_l("Name"), "name"), (_l("Operating group"), lambda o: o.group.name))),
    "parks": NodeKind(Park, "parks", "park_id", ParkForm, _l("Parks"), _l("park"),
                      ((_l("Name"), "name"), (_l("Kind"), lambda o: _("On-street") if o.kind == "on_street"
                                                                   else _("Off-street")),
                       (_l("Operating group"), lambda o: o.group.name),
                       (_l("Area"), lambda o: o.area.name if o.area else "—"),
                       (_l("Spaces"), "capacity"), (_l("Hours"), _hours), (_l("Time zone"), "timezone"))),
}


def _actor():
    return current_user._get_current_object()


def _fill_choices(kind: NodeKind, form, scope):
    if kind.model is OperatingGroup:
        form.city_id.choices = [(c.id, c.name) for c in scope.nodes(Level.CITY)]
    elif kind.model is Area:
        form.group_id.choices = [(g.id, f"{g.city.name} / {g.name}") for g in scope.nodes(Level.GROUP)]
    elif kind.model is Park:
        form.group_id.choices = [(g.id, f"{g.city.name} / {g.name}") for g in scope.nodes(Level.GROUP)]
        areas = scope.nodes(Level.AREA)
        form.area_id.choices = [("", _("— none —"))] + [(a.id, node_label(a)) for a in areas]
        form.area_groups = {a.id: a.group_id for a in areas}


def _list(kind: NodeKind):
    scope = current_scope()
    form = NodeFilterForm(request.args)
    stmt = scope.select(kind.model).order_by(kind.model.name)
    if form.validate():
        if form.q.data:
            stmt = stmt.where(kind.model.name.ilike(f"%{form.q.data.strip()}%"))
        if form.status.data:
            stmt = stmt.where(kind.model.active.is_(form.status.data == "active"))
    return render_template("tenancy/list.html", kind=kind, page=paginate(stmt), form=form)


def _form(kind: NodeKind, object_id=None):
    scope = current_scope()
    obj = scope.get_or_404(kind.model, object_id) if object_id is not None else None
    form = kind.form(obj=obj)
    _fill_choices(kind, form, scope)
    if form.validate_on_submit():
        values = {k: v for k, v in form.data.items() if k not in ("submit", "csrf_token")}
        try:
            saved = services.save_node(_actor(), obj or kind.model(), values, ip=client_ip())
        except services.DuplicateName as exc:
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("%(what)s “%(name)s” saved.", what=kind.singular.capitalize(), name=saved.name), "success")
            return redirect(url_for(f"tenancy.list_{kind.slug}"))
    return render_template("tenancy/form.html", kind=kind, form=form, obj=obj), 400 if form.errors else 200


def _toggle(kind: NodeKind, object_id):
    obj = current_scope().get_or_404(kind.model, object_id)
    if FlaskForm().validate_on_submit():
        if obj is current_scope().node:
            flash(_("You cannot disable the node you work at."), "danger")
        else:
            services.set_active(_actor(), obj, not obj.active, ip=client_ip())
            db.session.commit()
    return redirect(url_for(f"tenancy.list_{kind.slug}"))


def _register(kind: NodeKind):
    area = kind.slug
    arg = kind.id_arg
    bp.add_url_rule(f"/{area}", f"list_{area}", permission_required(f"{area}.view")(lambda: _list(kind)))
    bp.add_url_rule(f"/{area}/new", f"new_{area}", permission_required(f"{area}.add")(lambda: _form(kind)),
                    methods=["GET", "POST"])
    bp.add_url_rule(f"/{area}/<int:{arg}>/edit", f"edit_{area}",
                    permission_required(f"{area}.edit")(lambda **kw: _form(kind, kw[arg])), methods=["GET", "POST"])
    bp.add_url_rule(f"/{area}/<int:{arg}>/active", f"toggle_{area}",
                    permission_required(f"{area}.delete")(lambda **kw: _toggle(kind, kw[arg])), methods=["POST"])


for _kind in KINDS.values():
    _register(_kind)


@bp.route("/parks/<int:park_id>")
@permission_required("parks.view")
def park_detail(park_id):
    scope = current_scope()
    park = scope.get_or_404(Park, park_id)
    staff = db.session.scalars(scope.select(Staff).where(Staff.park_id == park.id).order_by(Staff.username)).all()
    return render_template("tenancy/park.html", park=park, staff=staff,
                           site_type=dict(SITE_TYPES).get(park.site_type) if park.site_type else None)
