"""The search box's results (/search) and the plate page (/plates/<plate>), both through the manager's scope."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.core.web import permission_required
from app.members import services as members
from app.members.views import LIST_TITLES
from app.members.views import STATE_LABELS as PASS_STATES
from app.orders.forms import STATE_LABELS as ORDER_STATES
from app.search import services
from app.tenancy.models import Level
from app.tenancy.scope import current_scope

bp = Blueprint("search", __name__)

KIND_LABELS = {"plate": _l("Plate"), "order": _l("Order no."), "receipt": _l("Receipt no."),
               "staff": _l("Staff"), "handheld": _l("Handheld")}
ARREAR_STATES = {"open": _l("Owed"), "recovered": _l("Recovered"), "waived": _l("Waived")}


def hit_url(hit: services.Hit) -> str:
    if hit.kind == "plate":
        return url_for("search.plate_page", plate=hit.key)
    if hit.kind in ("order", "receipt"):
        return url_for("orders.order_detail", order_id=hit.key)
    if hit.kind == "staff":
        return url_for("staff.list_staff", q=hit.detail)  # the list is where every viewer's actions are
    return url_for("devices.list_handhelds", q=hit.label)


@bp.route("/search")
@permission_required("dashboard.view")
def search():
    text = request.args.get("q", "").strip()
    kinds = {kind for kind, code in services.KIND_PERMISSIONS.items() if current_user.can(code)}
    hits = services.find(current_scope(), text, kinds)
    if len(hits) == 1:
        return redirect(hit_url(hits[0]))
    return render_template("search/results.html", q=text, hits=hits, labels=KIND_LABELS, hit_url=hit_url)


@bp.route("/plates/<plate>")
@permission_required("dashboard.view")
def plate_page(plate):
    scope = current_scope()
    found = services.plate_file(scope, plate, orders=current_user.can("orders.view"),
                                passes=current_user.can("members.view"), lists=current_user.can("plate_lists.view"))
    if found.empty:
        abort(404)  # nothing of this plate in the scope: the same answer as a plate never seen
    parks = {p.id: p.name for p in scope.nodes(Level.PARK, active_only=False)}
    return render_template("search/plate.html", f=found, parks=parks, order_states=ORDER_STATES,
                           arrear_states=ARREAR_STATES, list_kinds=LIST_TITLES, pass_state=_pass_state)


def _pass_state(pass_) -> str:
    return str(PASS_STATES[members.pass_state(pass_, members.pass_today(pass_))])
