"""车场总体概况: the overview of the manager's node for its local today, at every level."""
from flask import Blueprint, current_app, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from app.core.templating import money
from app.core.web import permission_required
from app.dashboard import alerts
from app.extensions import db
from app.reports import figures as fg
from app.reports import queries as q
from app.staff.models import Staff
from app.tenancy.models import Area, City, Level, OperatingGroup, Park
from app.tenancy.scope import current_scope

bp = Blueprint("dashboard", __name__)
bp.add_app_template_global(alerts.panel, "overview_alerts")


def _count(scope, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(scope.clause(model), *where))


def _link(endpoint, permission, **args):
    """A link to the list behind a figure, when that list exists and the viewer may open it."""
    if endpoint not in current_app.view_functions or (permission and not current_user.can(permission)):
        return None
    return url_for(endpoint, **args)


def _org_cards(scope):
    cards = []
    if scope.level == Level.PLATFORM:
        cards.append((_l("Cities"), _count(scope, City), "tenancy.list_cities", "cities.view"))
    if scope.level.depth <= Level.CITY.depth:
        cards.append((_l("Operating groups"), _count(scope, OperatingGroup), "tenancy.list_groups", "groups.view"))
    if scope.level.depth <= Level.GROUP.depth:
        cards.append((_l("Areas"), _count(scope, Area), "tenancy.list_areas", "areas.view"))
    cards.append((_l("Parks"), _count(scope, Park, Park.active.is_(True)), "tenancy.list_parks", "parks.view"))
    spaces = sum(fg.spaces(list(db.session.scalars(select(Park.id).where(scope.clause(Park),
                                                                       Park.active.is_(True))))).values())
    cards.append((_l("Spaces"), spaces, "tenancy.list_parks", "parks.view"))
    cards.append((_l("Staff"), _count(scope, Staff, Staff.active.is_(True)), "staff.list_staff", "staff.view"))
    return [(label, value, _link(endpoint, permission)) for label, value, endpoint, permission in cards]


def _chart_payloads(t: q.Today, ranking_label):
    methods = [m for m in (*q.METHODS, *sorted(k for k in t.by_method if k not in q.METHODS))]
    hours = [f"{s['hour']:02d}:00" for s in t.hours]
    return {
        "income-chart": {"type": "pie", "labels": [str(q.METHOD_LABELS.get(m, m)) for m in methods],
                         "values": [round(t.by_method.get(m, 0) / 100, 2) for m in methods], "money": True},
        "ranking-chart": {"type": "bar", "horizontal": True, "x": [r["label"] for r in reversed(t.ranking)],
                          "series": [{"name": str(ranking_label), "values": [round(r["amount"] / 100, 2)
                                                                             for r in reversed(t.ranking)]}]},
        "traffic-chart": {"type": "bar", "x": hours,
                          "series": [{"name": str(_l("Cars in")), "values": [s["in"] for s in t.hours]},
                                     {"name": str(_l("Cars out")), "values": [s["out"] for s in t.hours]}]},
        "occupancy-chart": {"type": "line", "x": hours, "series": [{
            "name": str(_l("Occupancy")), "percent": True,
            "values": [round(100 * fg.occupancy(s["parked"], t.spaces), 1) for s in t.hours]}]},
    }


@bp.route("/")
@permission_required("dashboard.view")
def index():
    scope = current_scope()
    ranking_by = "collector" if scope.level == Level.PARK else "park"
    t = q.dashboard_today(scope, with_parks=scope.level != Level.PARK, ranking_by=ranking_by)
    today = {"date_from": t.day.isoformat(), "date_to": t.day.isoformat()}
    kpis = [
        ("kpi-income", _l("Income today incl. pass sales"), money(t.income),
         _link("reports.daily", "reports.view", **today)),
        ("kpi-cars-in", _l("Cars in today"), t.cars_in, _link("reports.occupancy", "reports.view", **today)),
        ("kpi-parked", _l("Cars parked now"), t.parked, _link("orders.parked", "orders.view")),
        ("kpi-free", _l("Free spaces now"), t.free_spaces, _link("berths.list_berths", "berths.view")),
        ("kpi-occupancy", _l("Occupancy now"), f"{t.occupancy * 100:.1f}%",
         _link("reports.occupancy", "reports.view", **today)),
        ("kpi-passes", _l("Active pass holders"), t.pass_holders, _link("reports.passes", "reports.view")),
        ("kpi-unpaid", _l("Unpaid today"), money(t.unpaid), _link("reports.arrears", "reports.view", **today)),
        ("kpi-handhelds", _l("Handhelds seen (30 min)"), t.handhelds_online,
         _link("devices.list_handhelds", "devices.view")),
    ]
    ranking_label = _l("Collectors") if ranking_by == "collector" else _l("Parks")
    return render_template("dashboard/index.html", cards=_org_cards(scope), kpis=kpis, t=t, node=scope.node,
                           charts=_chart_payloads(t, ranking_label), ranking_label=ranking_label, today=today,
                           show_parks=scope.level != Level.PARK)
