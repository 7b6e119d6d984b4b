"""Signals: how a lower layer tells a higher one that something happened without importing it
(blinker, as Indico and netbox do). The sender names the fact; the receivers, connected by the higher
layer when the app is built, decide what follows. Receivers run at once, in the sender's transaction."""
from __future__ import annotations

from blinker import Namespace

_street = Namespace()

# A sensor session is overdue: a car has stood in its berth past the park's wait without an order
# (`car_without_order`), or left while its order is still open (`car_left_order_open`). Sender: the
# OccupancySession; keywords: now, settings (the park's SensorSettings). The kerb acts on it.
car_without_order = _street.signal("car-without-order")
car_left_order_open = _street.signal("car-left-order-open")
