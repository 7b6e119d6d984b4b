from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.core.web import permission_required
from app.extensions import db
from app.staff.models import Staff
from app.tenancy.models import Area, City, Level, OperatingGroup, Park
from app.tenancy.scope import current_scope

bp = Blueprint("dashboard", __name__)


def _count(scope, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(scope.clause(model), *where))


@bp.route("/")
@permission_required("dashboard.view")
def index():
    scope = current_scope()
    cards = []
    if scope.level == Level.PLATFORM:
        cards.append((_l("Cities"), _count(scope, City), "tenancy.list_cities", "cities.view"))
    if scope.level.depth <= Level.CITY.depth:
        cards.append((_l("Operating groups"), _count(scope, OperatingGroup), "tenancy.list_groups", "groups.view"))
    if scope.level.depth <= Level.GROUP.depth:
        cards.append((_l("Areas"), _count(scope, Area), "tenancy.list_areas", "areas.view"))
    cards.append((_l("Parks"), _count(scope, Park, Park.active.is_(True)), "tenancy.list_parks", "parks.view"))
    spaces = db.session.scalar(select(func.coalesce(func.sum(Park.capacity), 0))
                               .where(scope.clause(Park), Park.active.is_(True)))
    cards.append((_l("Spaces"), spaces, "tenancy.list_parks", "parks.view"))
    cards.append((_l("Staff"), _count(scope, Staff, Staff.active.is_(True)), "staff.list_staff", "staff.view"))
    parks = db.session.scalars(scope.select(Park).order_by(Park.name).limit(50)).all()
    return render_template("dashboard/index.html", cards=cards, parks=parks, node=scope.node)
