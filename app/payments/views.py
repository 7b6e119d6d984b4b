"""The public side of payments: the providers' notice URL (signed notices, no session), the sandbox's
"simulate paying" page that stands in for a wallet, and the driver's pages (a berth's sign, a plate's debts,
the e-receipt): phone-sized, zh_CN first, rate-limited, showing no other driver's data than a masked plate."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from sqlalchemy import select

from app.core.errors import DomainError
from app.core.types import utcnow
from app.extensions import csrf, db, limiter
from app.payments import driver
from app.payments import services as payments
from app.payments.models import MerchantAccount, Payment
from app.payments.providers.sandbox import SandboxProvider
from app.payments.qr import qr_svg
from app.payments.tasks import deliver
from app.tenancy.models import Park

bp = Blueprint("pay", __name__, url_prefix="/pay")
csrf.exempt(bp)  # providers sign their notices; the driver's forms carry no session worth forging
# every page a driver (or anyone) can open, one budget per address (PAY_PAGE_LIMITS)
per_address = limiter.shared_limit(lambda: current_app.config["PAY_PAGE_LIMITS"], scope="pay-pages")
LOCALE_KEY = "locale"


@bp.errorhandler(RateLimitExceeded)
def too_many(_exc):
    db.session.rollback()
    return render_template("pay/message.html", title=_("Please wait"),
                           message=_("Too many requests from your network. Try again in a minute.")), 429


@bp.route("/notify/<int:account_id>", methods=["POST"])
def notify(account_id):
    """A provider's asynchronous notice: verified, acted on once, answered as the provider expects."""
    body, status, content_type = payments.receive_notice(account_id, dict(request.headers), request.get_data())
    db.session.commit()
    return body, status, {"Content-Type": content_type}


@bp.route("/sandbox/<out_trade_no>", methods=["GET", "POST"])
@per_address
def sandbox_wallet(out_trade_no):
    """Stands in for WeChat or Alipay on the driver's phone when the park's account is the sandbox."""
    payment = db.session.scalar(select(Payment).where(Payment.out_trade_no == out_trade_no))
    if payment is None or payment.provider != "sandbox":
        abort(404)
    if request.method == "POST":
        provider = SandboxProvider(db.session.get_one(MerchantAccount, payment.account_id),
                                   payments.notify_url(payment.account))
        deliveries = provider.pay(out_trade_no, fail=request.form.get("outcome") == "fail" or None)
        db.session.commit()  # the provider's books first: its notices follow, as from another system
        for delivery in deliveries:
            deliver(payment.account_id, delivery)
        return redirect(url_for("pay.receipt", token=payment.receipt_token))
    return render_template("pay/sandbox.html", payment=payment, plate=driver.mask_plate(payment.plate))


def _zh_first():
    """The driver's pages speak Chinese unless the driver chose otherwise (the switch on each page)."""
    chosen = request.args.get("lang")
    if chosen in current_app.config["LANGUAGES"]:
        session[LOCALE_KEY] = chosen


bp.before_request(_zh_first)


@bp.route("/b/<token>")
@per_address
def berth(token):
    place = driver.berth_of_token(token)
    if place is None:
        abort(404)
    view = driver.berth_view(place, utcnow())
    return render_template("pay/berth.html", view=view, token=token,
                           plate=driver.mask_plate(view.order.plate) if view.order else None)


@bp.route("/b/<token>/pay", methods=["POST"])
@per_address
def pay_berth(token):
    place = driver.berth_of_token(token)
    if place is None:
        abort(404)
    view = driver.berth_view(place, utcnow())
    if view.order is None:
        return redirect(url_for("pay.berth", token=token))
    try:
        payment = payments.request_order_payment(park=view.park, order_id=view.order.id, staff_id=None,
                                                 channel="wap", source="driver")
    except DomainError as refusal:
        db.session.rollback()
        return render_template("pay/message.html", title=_("Cannot pay by phone"), message=_refusal(refusal)), 409
    db.session.commit()
    return redirect(_wallet(payment))


@bp.route("/arrears", methods=["GET", "POST"])
@per_address
def arrears():
    """A plate's debts: shown after the driver confirms the plate and the last entry's time, then paid."""
    found, wrong = None, False
    if request.method == "POST":
        try:
            entered = datetime.fromisoformat(request.form.get("entered_at", ""))
        except ValueError:
            entered = None
        found = driver.confirm_plate(request.form.get("plate", ""), entered) if entered else None
        wrong = found is None
    return render_template("pay/arrears.html", found=found, wrong=wrong,
                           plate=driver.mask_plate(found.plate) if found else None)


@bp.route("/arrears/pay", methods=["POST"])
@per_address
def pay_arrears():
    confirmed = driver.confirmed(request.form.get("token", ""))
    if confirmed is None:
        return redirect(url_for("pay.arrears"))
    try:
        payment = payments.request_arrears_payment(park=db.session.get_one(Park, confirmed["park_id"]),
                                                   plate=confirmed["plate"], arrear_ids=confirmed["arrear_ids"])
    except DomainError as refusal:
        db.session.rollback()
        return render_template("pay/message.html", title=_("Cannot pay by phone"), message=_refusal(refusal)), 409
    db.session.commit()
    return redirect(_wallet(payment))


@bp.route("/r/<token>")
@per_address
def receipt(token):
    """The e-receipt (or, until the notice came, a page that waits for it)."""
    payment = db.session.scalar(select(Payment).where(Payment.receipt_token == token))
    if payment is None:
        abort(404)
    park = db.session.get_one(Park, payment.park_id)
    return render_template("pay/receipt.html", payment=payment, park=park, plate=driver.mask_plate(payment.plate))


def _wallet(payment: Payment) -> str:
    """Where the phone's browser pays: the provider's page (its wap link), or the sandbox's page on this host."""
    if payment.provider == "sandbox":
        return url_for("pay.sandbox_wallet", out_trade_no=payment.out_trade_no)
    return payment.code_url or url_for("pay.receipt", token=payment.receipt_token)


def _refusal(refusal: DomainError) -> str:
    return {"no_merchant_account": _("This car park does not take payments by phone yet. Please pay the collector."),
            "payment_unavailable": _("The payment service cannot be reached. Please try again in a moment."),
            "nothing_due": _("Nothing is due."),
            "order_not_open": _("This stay is already paid or closed."),
            "no_arrears": _("Nothing to pay: the debts are paid.")}.get(refusal.code, _("Please pay the collector."))


def berth_sign_url(berth_id: int) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/pay/b/{driver.berth_token(berth_id)}"


def berth_sign_svg(berth_id: int) -> str:
    return qr_svg(berth_sign_url(berth_id), scale=5)
