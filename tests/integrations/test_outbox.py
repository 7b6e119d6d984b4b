"""The outbox: written in the change's transaction, delivered in order per park, retried with backoff,
dead-lettered, and delivered again (same event id) when a worker died before recording the delivery."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.types import utcnow
from app.integrations import outbox, webhooks
from app.integrations.delivery import HttpDispatcher
from app.integrations.models import OutboxMessage
from app.integrations.tasks import deliver_outbox_periodic
from app.kerb.online import settle_paid_online
from app.orders.services import OnlinePayment
from tests.pos_api.conftest import ago, ref
from tests.worker_schedule import due_at_minutes


def _subscribe(tree, receiver, events=("order.opened", "order.settled"), node=None):
    sub, secret = webhooks.create(tree.staff["citya"], node or tree.city_a, name="Receiver", url=receiver.url,
                                  events=list(events))
    return sub, secret


def _messages(db):
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_a_rolled_back_change_leaves_no_message(street, tree, db, receiver):
    _subscribe(tree, receiver)
    db.session.commit()
    token = street.signed_in()
    order_id = street.car_in(token, "A001", "沪A00001", entered_at=ago(hours=1)).get_json()["order"]["id"]
    assert [m.topic for m in _messages(db)] == ["order.opened"]
    now = utcnow()
    settle_paid_online(park=tree.p1, order_id=order_id, received_at=now,
                       payment=OnlinePayment("sandbox", "T-1", 200, now - timedelta(seconds=1)))
    assert [m.topic for m in _messages_in_transaction(db)] == ["order.opened", "order.settled"]
    db.session.rollback()  # the settlement is undone: so is its message
    assert [m.topic for m in _messages(db)] == ["order.opened"]


def _messages_in_transaction(db):
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_a_device_writes_messages_with_its_answer_once_and_none_for_a_refused_write(street, tree, db, receiver,
                                                                                   app):
    """The kerb's messages travel in the statement that keeps the first answer (one round trip less on
    PostgreSQL): a refused car in writes none, a retry of an accepted one none again."""
    from tests.pos_api.test_request_budget import counted

    _subscribe(tree, receiver)
    db.session.commit()
    token = street.signed_in()
    with app.app_context():
        from app.integrations.events import targets

        targets(tree.p1.id)  # cached, as on a running server
    same = {"entered_at": ago(hours=1), "client_ref": ref()}
    with counted(app) as statements:
        first = street.car_in(token, "A001", "沪A00001", **same)
    assert first.status_code == 201
    replay = street.car_in(token, "A001", "沪A00001", **same)
    assert replay.headers.get("Idempotent-Replay") == "true"
    taken = street.car_in(token, "A001", "沪A00002", entered_at=ago(minutes=5))
    assert taken.status_code in (409, 422)  # the berth's car is still there: refused, nothing to share
    messages = _messages(db)
    assert [(m.topic, m.payload["data"]["plate"]) for m in messages] == [("order.opened", "沪A00001")]
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "WITH"))]
    assert len(writes) == (2 if db.engine.dialect.name == "postgresql" else 3), writes  # order, answer (+ message)


def test_delivery_in_order_per_park_with_retries(street, tree, db, receiver):
    sub, _secret = _subscribe(tree, receiver)
    db.session.commit()
    token = street.signed_in()
    for number, plate in (("A001", "沪A00001"), ("A002", "沪A00002"), ("A003", "沪A00003")):
        assert street.car_in(token, number, plate).status_code == 201
    receiver.fail_next = 1
    now = utcnow()
    counts = outbox.deliver_due(HttpDispatcher(), now)
    db.session.commit()
    assert counts["failed"] == 1 and counts["sent"] == 0  # the first failed: the two behind it wait
    first = _messages(db)[0]
    assert first.attempts == 1 and first.next_attempt_at > now and first.last_error == "HTTP 503"
    assert outbox.deliver_due(HttpDispatcher(), now + timedelta(seconds=1))["sent"] == 0  # still backing off
    db.session.commit()
    outbox.deliver_due(HttpDispatcher(), now + timedelta(minutes=1))
    db.session.commit()
    plates = [e["data"]["plate"] for e in receiver.events()]
    assert plates == ["沪A00001", "沪A00002", "沪A00003"]
    assert {m.state for m in _messages(db)} == {"sent"} and _messages(db)[0].response_code == 200
    assert outbox.prune(now + timedelta(days=29)) == 0 and outbox.prune(now + timedelta(days=31)) == 3


def test_a_message_that_keeps_failing_goes_to_dead_letter_and_frees_its_lane(street, tree, db, receiver,
                                                                             monkeypatch):
    _subscribe(tree, receiver)
    db.session.commit()
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 2)
    token = street.signed_in()
    assert street.car_in(token, "A001", "沪A00001").status_code == 201
    assert street.car_in(token, "A002", "沪A00002").status_code == 201
    receiver.fail_next = 2
    at = utcnow()
    for minutes in (0, 2, 4):
        outbox.deliver_due(HttpDispatcher(), at + timedelta(minutes=minutes))
        db.session.commit()
    first, second = _messages(db)
    assert (first.state, first.attempts, first.last_error) == ("dead", 2, "HTTP 503")
    assert second.state == "sent" and [e["data"]["plate"] for e in receiver.events()] == ["沪A00002"]


def test_a_worker_killed_mid_delivery_delivers_again_and_the_receiver_sees_each_event_once(
        street, tree, db, receiver):
    _subscribe(tree, receiver)
    db.session.commit()
    token = street.signed_in()
    assert street.car_in(token, "A001", "沪A00001").status_code == 201

    class Killed(HttpDispatcher):
        def finish(self, lanes, results, at):
            raise SystemExit("killed after sending, before recording")

    with pytest.raises(SystemExit):
        outbox.deliver_due(Killed(), utcnow())
    db.session.rollback()  # the worker died before its commit: the message is still pending
    assert _messages(db)[0].state == "pending"
    deliver_outbox_periodic.call_local()  # the worker's next run
    assert len(receiver.requests) == 2 and len(receiver.seen) == 1
    assert receiver.requests[0][0]["X-Parkingos-Event-Id"] == receiver.requests[1][0]["X-Parkingos-Event-Id"]
    assert _messages(db)[0].state == "sent"


def test_a_city_without_subscriptions_writes_nothing(street, tree, db):
    token = street.signed_in()
    response = street.car_in(token, "A001", "沪A00001", entered_at=ago(minutes=30))
    assert response.status_code == 201
    assert _messages(db) == []


def test_the_worker_delivers_the_outbox_every_minute(tmp_path):
    due = due_at_minutes(tmp_path, [0, 31])
    assert all("app.integrations.tasks.deliver_outbox_periodic" in names for names in due)
