"""Webhooks: the signature recipe, subscriptions that never receive another city's events, the pages
(secret shown once, audited), the delivery log and the resend button."""
from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.types import utcnow
from app.integrations import outbox, webhooks
from app.integrations.delivery import HttpDispatcher
from app.integrations.models import OutboxMessage, WebhookSubscription


def test_signature_test_vector():
    body = b'{"id":"e1","type":"order.opened"}'
    expected = "sha256=6617383185b91ce8cde2949bd9cb2978e4f577e130e302c9cd3c1dfedeb1ad3b"
    assert webhooks.signature("whsec_test", "1700000000", body) == expected  # docs/alliance.md
    assert webhooks.verify("whsec_test", "1700000000", body, expected)
    assert not webhooks.verify("whsec_test", "1700000001", body, expected)


def test_events_reach_only_their_own_city_and_group_signed(street, tree, db, receiver):
    mine, secret = webhooks.create(tree.staff["citya"], tree.a1, name="Group one", url=receiver.url,
                                   events=["order.opened"])
    webhooks.create(tree.staff["citya"], tree.a2, name="Group two", url=receiver.url, events=["order.opened"])
    webhooks.create(tree.staff["harborcity"], tree.city_h, name="Harbor", url=receiver.url,
                    events=["order.opened", "order.settled"])
    db.session.commit()
    token = street.signed_in()
    assert street.car_in(token, "A001", "沪A00001").status_code == 201
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.subscription_id, m.city_id) for m in rows] == [(mine.id, tree.city_a.id)]
    outbox.deliver_due(HttpDispatcher(), utcnow())
    db.session.commit()
    [(headers, body)] = receiver.requests
    assert webhooks.verify(secret, headers["X-Parkingos-Timestamp"], body, headers["X-Parkingos-Signature"])
    assert receiver.events()[0]["city_id"] == tree.city_a.id and receiver.events()[0]["type"] == "order.opened"


def test_subscription_pages_show_the_secret_once_log_deliveries_and_resend(street, tree, db, receiver,
                                                                           client_as):
    client = client_as("citya")
    response = client.post("/integrations/webhooks/", data={
        "node": f"city:{tree.city_a.id}", "name": "Our receiver", "url": receiver.url,
        "events": ["order.opened"], "active": "y"})
    assert response.status_code == 200
    sub = db.session.scalar(select(WebhookSubscription))
    page = response.get_data(as_text=True)
    secret = page.split('id="new-secret"')[1].split("<code")[1].split(">")[1].split("<")[0].strip()
    assert secret.startswith("whsec_") and secret.endswith(sub.secret_hint) and sub.secret == secret
    assert secret not in client.get(f"/integrations/webhooks/{sub.id}").get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "WebhookSubscription")) \
        == "create"
    token = street.signed_in()
    assert street.car_in(token, "A001", "沪A00001").status_code == 201
    outbox.deliver_due(HttpDispatcher(), utcnow())
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage))
    log = client.get(f"/integrations/webhooks/{sub.id}").get_data(as_text=True)
    assert message.event_id in log and 'data-state="sent"' in log
    assert client.post(f"/integrations/webhooks/{sub.id}/deliveries/{message.id}/resend").status_code == 302
    outbox.deliver_due(HttpDispatcher(), utcnow())
    db.session.commit()
    assert len(receiver.requests) == 2 and receiver.seen == [message.event_id]
    # a group manager sees neither the city's subscription nor its log
    assert client_as("groupa1").get(f"/integrations/webhooks/{sub.id}").status_code == 404
