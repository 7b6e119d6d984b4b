"""The payments' background work (`huey_consumer app.worker.huey`): the sandbox's notices on their way (with
their delay), refunds the providers have not confirmed yet, unpaid QR codes past their time, and every
account's statement of yesterday reconciled each morning."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from huey import crontab

from app.core.worker import huey, run_now, task_context


def deliver(account_id: int, delivery) -> None:
    """A sandbox notice sent as a provider sends it: at once, or after its delay through the queue."""
    if delivery.delay_seconds and not run_now():
        deliver_notice.schedule(args=(account_id, delivery.headers, delivery.body.decode()),
                                delay=delivery.delay_seconds)
    else:
        deliver_notice.call_local(account_id, delivery.headers, delivery.body.decode())


@huey.task(retries=3, retry_delay=30)
def deliver_notice(account_id: int, headers: dict, body: str) -> str:
    from app.extensions import db
    from app.payments.services import receive_notice

    with task_context():
        answer = receive_notice(account_id, headers, body.encode())
        db.session.commit()
    return answer[0]


@huey.periodic_task(crontab(minute="*/5"), retries=0)
def payments_housekeeping() -> dict:
    from sqlalchemy import select

    from app.core.types import utcnow
    from app.extensions import db
    from app.payments.models import Payment, PaymentState
    from app.payments.services import check_pending_refunds, refresh

    with task_context():
        now = utcnow()
        expired = db.session.scalars(select(Payment).where(Payment.state == PaymentState.CREATED.value,
                                                           Payment.expires_at < now).limit(500)).all()
        for payment in expired:
            refresh(payment, now)
        counts = {"expired": len(expired), "refunds_done": check_pending_refunds(now)}
        db.session.commit()
    return counts


@huey.periodic_task(crontab(hour="2", minute="30"), retries=1)
def daily_reconciliation() -> int:
    """Yesterday's statement of every active account (China time: the providers' day), at 02:30 UTC."""
    from sqlalchemy import select

    from app.core.types import utcnow
    from app.extensions import db
    from app.payments.models import MerchantAccount
    from app.payments.providers import ProviderError
    from app.payments.services import fetch_and_reconcile

    with task_context():
        day = (utcnow().astimezone(ZoneInfo("Asia/Shanghai")) - timedelta(days=1)).date()
        done = 0
        for account in db.session.scalars(select(MerchantAccount).where(MerchantAccount.active.is_(True))).all():
            try:
                fetch_and_reconcile(account, day)
                db.session.commit()
                done += 1
            except ProviderError:
                db.session.rollback()
    return done
