"""Admin pages of payments, all through the tenancy scope: payments and refunds (a manager with
payments.refund gives money back), merchant accounts per city or group (secrets entered, never shown),
reconciliations of the providers' daily statements, and the berths' printable pay signs."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.berths.models import Berth, BerthSegment
from app.core.errors import DomainError
from app.core.labels import register
from app.core.web import paginate, permission_required, show_refusal
from app.extensions import db
from app.payments import services as payments
from app.payments.forms import AccountForm, PaymentFilterForm, RefundForm, RunReconciliationForm
from app.payments.models import MerchantAccount, Payment, PaymentRefund, Reconciliation
from app.payments.providers import ProviderError
from app.payments.views import berth_sign_svg, berth_sign_url
from app.staff.permissions import ADD, EDIT, EXPORT, RECONCILE, REFUND, VIEW, PermissionArea, register_area
from app.tenancy.models import Level, Park
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope
from app.tenancy.web import node_choices, node_from_key

bp = Blueprint("payments", __name__, url_prefix="/payments")

register_area(PermissionArea("payments", _l("Payments by phone"), (VIEW, EXPORT, REFUND, RECONCILE)))
register_area(PermissionArea("merchant_accounts", _l("Merchant accounts"), (VIEW, ADD, EDIT), Level.GROUP))
add_nav("orders", _l("Payments by phone"), "payments.list_payments", "payments.view")
add_nav("reports", _l("Reconciliation"), "payments.list_reconciliations", "payments.view")
add_nav("system", _l("Merchant accounts"), "payments.list_accounts", "merchant_accounts.view")
add_nav("system", _l("Parks' payment accounts"), "payments.list_park_accounts", "merchant_accounts.view")
add_nav("street", _l("Berth pay signs"), "payments.list_sign_segments", "payments.view", requires="on_street")
register("payment_state", {"created": _l("Waiting"), "paid": _l("Paid"), "closed": _l("Closed"),
                           "refunded": _l("Refunded"), "failed": _l("Failed")})
register("payment_flag", {"amount_mismatch": _l("Amount differs from the one asked"),
                          "fee_changed": _l("Fee changed: refunded"),
                          "settled_already": _l("Paid otherwise: refunded")})
register("audit_action", {"refund": _l("Refund"), "reconcile": _l("Reconcile")})
register("object_type", {"MerchantAccount": _l("Merchant account"), "Payment": _l("Payment"),
                         "PaymentRefund": _l("Refund"), "PaymentNotice": _l("Payment notice"),
                         "SandboxTrade": _l("Sandbox trade"), "Reconciliation": _l("Reconciliation"),
                         "ParkPaymentAccount": _l("Park's payment account")})
register("refund_state", {"pending": _l("Pending"), "done": _l("Done"), "failed": _l("Failed")})
register("statement_source", {"fetched": _l("Fetched"), "uploaded": _l("Uploaded")})


def _yuan_to_fen(text: str) -> int:
    whole, _dot, part = text.strip().partition(".")
    return int(whole) * 100 + int((part + "00")[:2])


@bp.route("/")
@permission_required("payments.view")
def list_payments():
    scope = current_scope()
    form = PaymentFilterForm(request.args)
    stmt = scope.select(Payment).order_by(Payment.created_at.desc())
    if form.state.data == "flagged":
        stmt = stmt.where(Payment.flag.is_not(None))
    elif form.state.data:
        stmt = stmt.where(Payment.state == form.state.data)
    if form.plate.data:
        stmt = stmt.where(Payment.plate.contains(form.plate.data.strip().upper()))
    page = paginate(stmt)
    parks = {p.id: p for p in db.session.scalars(scope.select(Park))}
    return render_template("payments/list.html", page=page, form=form, parks=parks)


@bp.route("/<int:payment_id>")
@permission_required("payments.view")
def show_payment(payment_id):
    payment = current_scope().get_or_404(Payment, payment_id)
    refunds = db.session.scalars(select(PaymentRefund).where(PaymentRefund.payment_id == payment.id)
                                 .order_by(PaymentRefund.id)).all()
    form = RefundForm(amount=f"{(payment.amount_fen - payment.refunded_fen) / 100:.2f}")
    return render_template("payments/show.html", payment=payment, refunds=refunds, form=form,
                           park=db.session.get(Park, payment.park_id))


@bp.route("/<int:payment_id>/refund", methods=["POST"])
@permission_required("payments.refund")
def refund_payment(payment_id):
    payment = current_scope().get_or_404(Payment, payment_id)
    form = RefundForm()
    if form.validate_on_submit():
        try:
            row = payments.refund(payment, _yuan_to_fen(form.amount.data), form.reason.data, actor=current_user)
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            db.session.commit()
            flash(_("Refund done.") if row.state == "done" else _("Refund asked; the provider confirms it later.")
                  if row.state == "pending" else _("The provider refused the refund."),
                  "success" if row.state != "failed" else "danger")
            return redirect(url_for("payments.show_payment", payment_id=payment.id))
    refunds = db.session.scalars(select(PaymentRefund).where(PaymentRefund.payment_id == payment.id)).all()
    return render_template("payments/show.html", payment=payment, refunds=refunds, form=form,
                           park=db.session.get(Park, payment.park_id)), 422


# --- merchant accounts -------------------------------------------------------------------------------------

@bp.route("/accounts")
@permission_required("merchant_accounts.view")
def list_accounts():
    accounts = db.session.scalars(current_scope().select(MerchantAccount).order_by(MerchantAccount.id)).all()
    return render_template("payments/accounts.html", accounts=accounts)


def _account_form(account: MerchantAccount | None) -> AccountForm:
    form = AccountForm(obj=account)
    form.node.choices = node_choices(current_scope(), [Level.CITY, Level.GROUP])
    if account is not None and request.method == "GET":
        form.node.data = f"{account.level}:{account.group_id if account.level == 'group' else account.city_id}"
    return form


def _secrets(form: AccountForm) -> dict:
    public = (form.provider_public_key.data or "").strip()
    values = {"private_key": form.private_key.data, "api_v3_key": form.api_v3_key.data,
              "platform_public_key" if form.provider.data == "wechat" else "alipay_public_key": public,
              "hmac_key": form.hmac_key.data}
    return {k: v.strip() for k, v in values.items() if v and v.strip()}


@bp.route("/accounts/new", methods=["GET", "POST"])
@permission_required("merchant_accounts.add")
def new_account():
    return _save_account(None)


@bp.route("/accounts/<int:account_id>/edit", methods=["GET", "POST"])
@permission_required("merchant_accounts.edit")
def edit_account(account_id):
    return _save_account(current_scope().get_or_404(MerchantAccount, account_id))


def _save_account(account: MerchantAccount | None):
    form = _account_form(account)
    if form.validate_on_submit():
        node = node_from_key(current_scope(), form.node.data)
        try:
            saved = payments.save_account(
                current_user, node or None, provider=form.provider.data, name=form.name.data, secrets=_secrets(form),
                account=account, app_id=form.app_id.data, mch_id=form.mch_id.data, sub_mch_id=form.sub_mch_id.data,
                key_serial=form.key_serial.data)
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            db.session.commit()
            flash(_("Saved. The secrets are stored encrypted and are never shown again."), "success")
            return redirect(url_for("payments.list_accounts", saved=saved.id))
    return render_template("payments/account_form.html", form=form, account=account)


@bp.route("/parks")
@permission_required("merchant_accounts.view")
def list_park_accounts():
    """Each park of the scope with the account it takes payments with, and the choice of it."""
    return _park_accounts_page()


def _park_accounts_page(refused_park_id: int | None = None, status: int = 200):
    parks = db.session.scalars(current_scope().select(Park).order_by(Park.name)).all()
    rows = [(park, payments.accounts_open_to_park(park), payments.chosen_account_id(park.id),
             payments.account_for_park(park)) for park in parks]
    return render_template("payments/parks.html", rows=rows, refused_park_id=refused_park_id), status


@bp.route("/parks/<int:park_id>/account", methods=["POST"])
@permission_required("merchant_accounts.edit")
def choose_park_account(park_id):
    park = current_scope().get_or_404(Park, park_id)
    chosen = request.form.get("account_id", "")
    try:
        payments.choose_account(current_user, park, int(chosen) if chosen.isdigit() else None)
    except DomainError:
        db.session.rollback()
        return _park_accounts_page(refused_park_id=park.id, status=422)
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("payments.list_park_accounts"))


# --- reconciliation ----------------------------------------------------------------------------------------

@bp.route("/reconciliations", methods=["GET", "POST"])
@permission_required("payments.view")
def list_reconciliations():
    scope = current_scope()
    form = RunReconciliationForm()
    accounts = db.session.scalars(scope.select(MerchantAccount).where(MerchantAccount.active.is_(True))).all()
    form.account_id.choices = [(a.id, f"{a.name} ({a.provider})") for a in accounts]
    if request.method == "POST":
        if not current_user.can("payments.reconcile"):
            abort(403)
        if form.validate_on_submit():
            account = scope.get_or_404(MerchantAccount, form.account_id.data)
            upload = request.files.get("statement")
            try:
                if upload and upload.filename:
                    lines = payments.parse_uploaded_statement(upload.read().decode("utf-8-sig"))
                    result = payments.reconcile(account, form.day.data, lines, "uploaded", actor=current_user)
                else:
                    result = payments.fetch_and_reconcile(account, form.day.data)
            except DomainError as refusal:
                show_refusal(form, refusal)
            except (ProviderError, UnicodeDecodeError) as exc:
                db.session.rollback()
                flash(_("The statement could not be read: %(error)s", error=str(exc)), "danger")
            else:
                db.session.commit()
                return redirect(url_for("payments.show_reconciliation", reconciliation_id=result.id))
    page = paginate(scope.select(Reconciliation).order_by(Reconciliation.day.desc(), Reconciliation.id.desc()))
    return render_template("payments/reconciliations.html", page=page, form=form)


@bp.route("/reconciliations/<int:reconciliation_id>")
@permission_required("payments.view")
def show_reconciliation(reconciliation_id):
    result = current_scope().get_or_404(Reconciliation, reconciliation_id)
    parks = {p.id: p.name for p in db.session.scalars(current_scope().select(Park))}
    return render_template("payments/reconciliation.html", result=result, parks=parks)


@bp.route("/reconciliations/<int:reconciliation_id>/export")
@permission_required("payments.export")
def export_reconciliation(reconciliation_id):
    result = current_scope().get_or_404(Reconciliation, reconciliation_id)
    parks = {p.id: p.name for p in db.session.scalars(current_scope().select(Park))}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Park"), _("Statement (yuan)"), _("Ledger (yuan)")])
    for row in result.per_park:
        writer.writerow([parks.get(row["park_id"], "—"), row["statement_fen"] / 100, row["ledger_fen"] / 100])
    writer.writerow([])
    writer.writerow([_("Difference"), _("Trade number"), _("Payment number"), _("Park"), _("Statement (yuan)"),
                     _("Ledger (yuan)"), _("Flag")])
    for d in result.differences:
        writer.writerow([_difference_label(d["kind"]), d["trade_no"], d["out_trade_no"] or "",
                         parks.get(d["park_id"], "—"), "" if d["statement_fen"] is None else d["statement_fen"] / 100,
                         "" if d["ledger_fen"] is None else d["ledger_fen"] / 100, d["flag"] or ""])
    name = f"reconciliation-{result.account_id}-{result.day.isoformat()}.csv"
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


def _difference_label(kind: str) -> str:
    return {"paid_not_booked": _("Paid but not booked"), "booked_not_paid": _("Booked but not paid"),
            "amount_differs": _("Amount differs")}.get(kind, kind)


bp.add_app_template_global(_difference_label, "difference_label")


# --- berth signs -------------------------------------------------------------------------------------------

@bp.route("/signs/<int:segment_id>")
@permission_required("payments.view")
def berth_signs(segment_id):
    segment = current_scope().get_or_404(BerthSegment, segment_id)
    berths = db.session.scalars(select(Berth).where(Berth.segment_id == segment.id, Berth.active.is_(True))
                                .order_by(Berth.number)).all()
    signs = [(b, berth_sign_svg(b.id), berth_sign_url(b.id)) for b in berths]
    return render_template("payments/signs.html", segment=segment, signs=signs,
                           park=db.session.get(Park, segment.park_id))


@bp.route("/signs")
@permission_required("payments.view")
def list_sign_segments():
    segments = db.session.scalars(current_scope().select(BerthSegment).order_by(BerthSegment.park_id,
                                                                                 BerthSegment.name)).all()
    return render_template("payments/sign_segments.html", segments=segments)
