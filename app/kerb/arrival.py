"""The sensor's arrival time (地磁时间) for a car in: a berth with a sensor saw the car arrive, and a park
that uses sensor time takes that moment as the entry time (see app.orders.services.ArrivalSource)."""
from __future__ import annotations

from datetime import datetime

from app.sensors.services import arrival_time_for, link_order, open_session_id


class SensorArrival:
    def column(self, berth_id):
        return open_session_id(berth_id)

    def arrival(self, value, received_at: datetime, entered_at: datetime, use_sensor_time: bool):
        return arrival_time_for(value, received_at, entered_at, use_sensor_time)

    def link(self, token, order_id: int) -> None:
        link_order(token, order_id)


SENSOR_ARRIVAL = SensorArrival()
