"""Admin pages of the integrations: the alliance (泊链) per city and park, cross-platform records, webhook
subscriptions with their delivery log; and the alliance's payment-notice endpoint (public, signed)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from app.core.errors import DomainError
from app.core.web import client_ip, paginate, permission_required, show_refusal
from app.extensions import csrf, db
from app.integrations import alliance, outbox, webhooks
from app.integrations.events import TOPIC_LABELS
from app.integrations.forms import AllianceSettingsForm, SubscriptionForm
from app.integrations.models import (
    EXPENSE,
    INCOME,
    AllianceNotice,
    AlliancePark,
    AllianceRecord,
    OutboxMessage,
    WebhookSubscription,
)
from app.staff.permissions import EDIT, VIEW, PermissionArea, register_area
from app.tenancy.models import City, Level, OperatingGroup, Park
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope

bp = Blueprint("integrations", __name__, url_prefix="/integrations")
notices_bp = Blueprint("alliance_api", __name__, url_prefix="/alliance/v1")

register_area(PermissionArea("alliance", _l("Parking alliance (泊链)"), (VIEW, EDIT), Level.CITY))
register_area(PermissionArea("webhooks", _l("Webhooks"), (VIEW, EDIT), Level.GROUP))
add_nav("system", _l("Parking alliance (泊链)"), "integrations.alliance_home", "alliance.view")
add_nav("system", _l("Alliance records"), "integrations.alliance_records", "alliance.view")
add_nav("system", _l("Webhooks"), "integrations.list_subscriptions", "webhooks.view")

STATE_LABELS = {0: _l("not uploaded"), 1: _l("live"), 2: _l("pending review"), 3: _l("disabled")}


def _actor():
    return current_user._get_current_object()


# --- the alliance -------------------------------------------------------------------------------------

@bp.route("/alliance/")
@permission_required("alliance.view")
def alliance_home():
    scope = current_scope()
    cities = db.session.scalars(scope.select(City).order_by(City.name)).all()
    settings = {c.id: alliance.settings_of(c.id) for c in cities}
    return render_template("integrations/alliance_home.html", cities=cities, settings=settings)


def _city_page(city: City, form: AllianceSettingsForm, status: int = 200):
    settings = alliance.settings_of(city.id)
    parks = db.session.scalars(current_scope().select(Park).where(Park.city_id == city.id).order_by(Park.name)).all()
    states = {r.park_id: r for r in db.session.scalars(select(AlliancePark).where(
        AlliancePark.park_id.in_([p.id for p in parks])))} if parks else {}
    messages = db.session.scalars(current_scope().select(OutboxMessage).where(
        OutboxMessage.city_id == city.id, OutboxMessage.subscription_id.is_(None))
        .order_by(OutboxMessage.id.desc()).limit(30)).all()
    return render_template("integrations/alliance_city.html", city=city, form=form, settings=settings, parks=parks,
                           states=states, messages=messages, labels=STATE_LABELS, topics=TOPIC_LABELS), status


@bp.route("/alliance/city/<int:city_id>", methods=["GET", "POST"])
@permission_required("alliance.view")
def alliance_city(city_id):
    city = current_scope().get_or_404(City, city_id)
    settings = alliance.settings_of(city.id)
    form = AllianceSettingsForm(obj=settings) if request.method == "GET" else AllianceSettingsForm()
    if request.method == "POST":
        if not current_user.can("alliance.edit"):
            abort(403)
        if form.validate_on_submit():
            try:
                alliance.save_settings(_actor(), city, alliance.SettingsValues(
                    union_id=form.union_id.data, base_url=form.base_url.data, enabled=form.enabled.data,
                    server_id=form.server_id.data, ukey=form.ukey.data or None,
                    availability_seconds=form.availability_seconds.data), ip=client_ip())
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                db.session.commit()
                flash(_("Saved. The vendor key is stored encrypted and not shown again."), "success")
                return redirect(url_for("integrations.alliance_city", city_id=city.id))
        return _city_page(city, form, 400)
    return _city_page(city, form)


@bp.route("/alliance/city/<int:city_id>/upload", methods=["POST"])
@permission_required("alliance.edit")
def alliance_upload(city_id):
    city = current_scope().get_or_404(City, city_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    settings = alliance.settings_of(city.id)
    if settings is None or not settings.enabled:
        flash(_("Connect the alliance first."), "warning")
    else:
        count = alliance.upload_parks(city.id)
        db.session.commit()
        flash(_("%(n)d parks queued for upload.", n=count), "success")
    return redirect(url_for("integrations.alliance_city", city_id=city.id))


@bp.route("/alliance/park/<int:park_id>/state", methods=["POST"])
@permission_required("alliance.edit")
def alliance_park_state(park_id):
    park = current_scope().get_or_404(Park, park_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    alliance.set_park_disabled(_actor(), park, request.form.get("disabled") == "1", ip=client_ip())
    db.session.commit()
    return redirect(url_for("integrations.alliance_city", city_id=park.city_id))


@bp.route("/alliance/records")
@permission_required("alliance.view")
def alliance_records():
    scope = current_scope()
    direction = request.args.get("direction") if request.args.get("direction") in (INCOME, EXPENSE) else None
    stmt = scope.select(AllianceRecord)
    if direction:
        stmt = stmt.where(AllianceRecord.direction == direction)
    page = paginate(stmt.order_by(AllianceRecord.id.desc()))
    totals = dict(db.session.execute(select(AllianceRecord.direction, func.sum(AllianceRecord.amount_fen))
                                     .where(AllianceRecord.scope_clause(scope)).group_by(AllianceRecord.direction)).all())
    review = db.session.scalars(scope.select(AllianceNotice).where(AllianceNotice.outcome == "review")
                                .order_by(AllianceNotice.id.desc()).limit(50)).all()
    return render_template("integrations/alliance_records.html", page=page, totals=totals, review=review,
                           direction=direction)


@notices_bp.route("/notify", methods=["POST"])
@csrf.exempt
def alliance_notify():
    """The alliance's payment notice: JSON (or a form) of the parameters and `sign`; answered as the alliance
    expects, `{"state": 1}` when received, `{"state": 0, "errmsg": ...}` when refused."""
    params = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if not isinstance(params, dict):
        return jsonify({"state": 0, "errmsg": "bad request"}), 400
    answer = alliance.receive_notice(params)
    if answer.state:
        db.session.commit()
    else:
        db.session.rollback()
    return jsonify(answer.body()), 200 if answer.state else 401 if answer.reason == "bad sign" else 400


# --- webhooks -------------------------------------------------------------------------------------------

def _nodes() -> list:
    """Where the viewer may hang a subscription: their city and its groups, or their group."""
    scope = current_scope()
    if scope.level == Level.PLATFORM:
        cities = db.session.scalars(select(City).order_by(City.name)).all()
        return cities + db.session.scalars(select(OperatingGroup).order_by(OperatingGroup.name)).all()
    if scope.level == Level.CITY:
        return [scope.node] + db.session.scalars(scope.select(OperatingGroup).order_by(OperatingGroup.name)).all()
    if scope.level == Level.GROUP:
        return [scope.node]
    return []


def _node_choices(nodes) -> list:
    return [(f"{n.level.value}:{n.id}", f"{n.name}") for n in nodes]


@bp.route("/webhooks/", methods=["GET", "POST"])
@permission_required("webhooks.view")
def list_subscriptions():
    scope = current_scope()
    nodes = _nodes()
    form = SubscriptionForm()
    form.node.choices = _node_choices(nodes)
    secret = None
    status = 200
    if request.method == "POST":
        if not current_user.can("webhooks.edit"):
            abort(403)
        node = {f"{n.level.value}:{n.id}": n for n in nodes}.get(form.node.data or "")
        if form.validate_on_submit() and node is not None:
            try:
                sub, secret = webhooks.create(_actor(), node, name=form.name.data, url=form.url.data,
                                              events=form.events.data, ip=client_ip())
            except DomainError as exc:
                show_refusal(form, exc)
                status = 400
            else:
                db.session.commit()
                flash(_("Copy the secret now: it is not shown again."), "warning")
                form = SubscriptionForm(formdata=None)
                form.node.choices = _node_choices(nodes)
        else:
            status = 400
    subs = db.session.scalars(scope.select(WebhookSubscription).order_by(WebhookSubscription.id)).all()
    counts = dict(db.session.execute(select(OutboxMessage.subscription_id, func.count()).where(
        OutboxMessage.subscription_id.in_([s.id for s in subs]), OutboxMessage.state == outbox.DEAD)
        .group_by(OutboxMessage.subscription_id)).all()) if subs else {}
    return render_template("integrations/webhooks.html", subs=subs, form=form, secret=secret, dead=counts,
                           may_add=bool(nodes), topics=TOPIC_LABELS), status, (
                               {"Cache-Control": "no-store"} if secret else {})


@bp.route("/webhooks/<int:subscription_id>", methods=["GET", "POST"])
@permission_required("webhooks.view")
def subscription(subscription_id):
    sub = current_scope().get_or_404(WebhookSubscription, subscription_id)
    form = SubscriptionForm(obj=sub) if request.method == "GET" else SubscriptionForm()
    form.node.choices = []
    status = 200
    if request.method == "POST":
        if not current_user.can("webhooks.edit"):
            abort(403)
        if form.validate_on_submit():
            try:
                webhooks.update(_actor(), sub, name=form.name.data, url=form.url.data, events=form.events.data,
                                active=form.active.data, ip=client_ip())
            except DomainError as exc:
                show_refusal(form, exc)
                status = 400
            else:
                db.session.commit()
                flash(_("Saved."), "success")
                return redirect(url_for("integrations.subscription", subscription_id=sub.id))
        else:
            status = 400
    return _subscription_page(sub, form, status=status)


def _subscription_page(sub, form, secret=None, status=200):
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.subscription_id == sub.id)
                                  .order_by(OutboxMessage.id.desc()).limit(100)).all()
    return render_template("integrations/subscription.html", sub=sub, form=form, messages=messages,
                           secret=secret, topics=TOPIC_LABELS), status


@bp.route("/webhooks/<int:subscription_id>/secret", methods=["POST"])
@permission_required("webhooks.edit")
def rotate_subscription_secret(subscription_id):
    sub = current_scope().get_or_404(WebhookSubscription, subscription_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    secret = webhooks.rotate_secret(_actor(), sub, ip=client_ip())
    db.session.commit()
    flash(_("Copy the secret now: it is not shown again."), "warning")
    form = SubscriptionForm(obj=sub)
    form.node.choices = []
    body, status = _subscription_page(sub, form, secret=secret)
    return body, status, {"Cache-Control": "no-store"}


@bp.route("/webhooks/<int:subscription_id>/deliveries/<int:message_id>/resend", methods=["POST"])
@permission_required("webhooks.edit")
def resend(subscription_id, message_id):
    sub = current_scope().get_or_404(WebhookSubscription, subscription_id)
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id,
                                                            OutboxMessage.subscription_id == sub.id))
    if message is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    outbox.resend(message)
    from app.audit.services import record

    record(_actor(), "resend", sub, label=f"{sub.name} · {message.topic} {message.event_id}", ip=client_ip())
    db.session.commit()
    flash(_("The event is sent again at the next delivery run."), "success")
    return redirect(url_for("integrations.subscription", subscription_id=sub.id))
