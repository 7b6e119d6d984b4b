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

# --- facts that may leave the platform (app/integrations turns them into outbox messages) ----------------
# Senders pass the park (a ParkRef: id, city_id, group_id) as the sender and these keywords:
#   order_opened / order_settled / order_escaped: order (an OrderView: id, park_id, plate, entered_at, ...),
#     at (when it happened); order_settled also `method` and `paid_fen` (money taken now, fen), `online`
#     (provider of an online payment or None); order_escaped `due_fen`.
#   arrear_recovered: arrear (id, order_id, plate, amount_fen), method, at.
#   pass_sold: pass_ (id, holder_name, plates), paid_fen, at; the sender is the selling park.
#   berth_occupancy: berth_id, state ("occupied" | "free"), at.
#   device_offline: kind ("sensor" | "station"), device_id, since.
#   park_changed: created (bool); the sender is the Park itself.
# Before sending on a hot path, check `signal.receivers` (empty: nothing to build).
_shared = Namespace()
order_opened = _shared.signal("order-opened")
order_settled = _shared.signal("order-settled")
order_escaped = _shared.signal("order-escaped")
arrear_recovered = _shared.signal("arrear-recovered")
pass_sold = _shared.signal("pass-sold")
berth_occupancy = _shared.signal("berth-occupancy")
device_offline = _shared.signal("device-offline")
park_changed = _shared.signal("park-changed")
