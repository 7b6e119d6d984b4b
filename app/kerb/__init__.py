"""The kerb (路边): the policy where sensors, orders and inspections meet. Sensors know when a car came and
went, orders know who parked and paid, inspections send someone to look; the kerb decides what follows
from one for the others: the alerts of an overdue sensor session, the unattended escape (逃单) a sensor
proves, the inspector's board of a segment, and the sensor's arrival time a car-in takes.

Sensors announce overdue sessions through signals (app.core.signals); `init_app` connects the kerb's
receivers when the app is built. Nothing below this package imports it."""
from __future__ import annotations


def init_app(app) -> None:
    from app.kerb import alerts  # noqa: F401  (connects the receivers of the sensors' signals)
