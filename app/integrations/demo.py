"""Demo: the demo city is connected to the alliance simulator (`flask alliance-sim`, its defaults) and the
simulator's webhook receiver subscribes to the city's events; a few cross-platform records and a notice to
review fill the records page. Nothing is delivered until the worker and the simulator run."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.types import utcnow
from app.extensions import db
from app.integrations import alliance, webhooks
from app.integrations.events import EVENT_TYPES
from app.integrations.models import EXPENSE, INCOME, AllianceNotice, AllianceRecord, WebhookSubscription
from app.tenancy.models import City, Park

SIM_URL = "http://127.0.0.1:8765/"
VENDOR, KEY, WEBHOOK_SECRET = "demo-vendor", "demo-alliance-key", "whsec_demo-receiver"


def seed_alliance(city_name: str = "Demo City") -> None:
    city = db.session.scalar(select(City).where(City.name == city_name))
    if city is None or alliance.settings_of(city.id) is not None:
        return
    alliance.save_settings(None, city, alliance.SettingsValues(union_id=VENDOR, base_url=SIM_URL, enabled=True,
                                                               ukey=KEY, availability_seconds=30))
    if db.session.scalar(select(WebhookSubscription.id).where(WebhookSubscription.city_id == city.id)) is None:
        sub, _secret = webhooks.create(None, city, name="Alliance simulator receiver", url=SIM_URL + "_sim/webhook",
                                       events=list(EVENT_TYPES))
        sub.secret, sub.secret_hint = WEBHOOK_SECRET, WEBHOOK_SECRET[-4:]
    park = db.session.scalar(select(Park).where(Park.city_id == city.id).order_by(Park.id).limit(1))
    now, here = utcnow(), park.name if park else None
    for n, (direction, plate, amount, where) in enumerate([
            (INCOME, "沪B5D218", 800, here), (INCOME, "苏E7K903", 1200, here),
            (EXPENSE, "沪A3C771", 1500, "泊链 · 静安寺停车场"), (EXPENSE, "沪A9F020", 600, "泊链 · 虹桥枢纽P9")]):
        db.session.add(AllianceRecord(city_id=city.id, park_id=park.id if park and direction == INCOME else None,
                                      direction=direction, trade_no=f"BL-DEMO-{n + 1:04d}", plate=plate,
                                      park_name=where, amount_fen=amount, started_at=now - timedelta(hours=n + 3),
                                      ended_at=now - timedelta(hours=n + 1)))
    db.session.add(AllianceNotice(city_id=city.id, park_id=park.id if park else None, trade_no="BL-DEMO-9001",
                                  order_id=None, amount_fen=500, outcome="review", reason="order_not_found",
                                  body={"note": "demo: a notice for an order the platform does not know"}))
    db.session.flush()
