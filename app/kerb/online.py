"""A kerbside order paid online (扫码支付 / the alliance's member payment): settled through the orders'
rule, and the collectors on duty on its segment are told, so nobody asks the driver for the fee again."""
from __future__ import annotations

from datetime import datetime

from app.core.refs import ParkRef
from app.inbox.models import send
from app.orders import services as orders
from app.orders.services import OnlinePayment, Settlement
from app.sensors.services import on_duty


def settle_paid_online(*, park: ParkRef, order_id: int, payment: OnlinePayment,
                       received_at: datetime) -> Settlement:
    """Settle the order with the verified payment and tell the segment's collectors; a refusal
    (`fee_changed`, `order_not_open`, `order_not_found`) leaves everything as it was."""
    settlement = orders.settle_online(park=park, order_id=order_id, payment=payment, received_at=received_at)
    order = settlement.order
    yuan = f"{settlement.collected_fen / 100:.2f}"
    segment_id = order.segment_id
    on_segment = on_duty([segment_id]).get(segment_id, []) if segment_id is not None else []
    for collector_id in on_segment:
        send(collector_id, "paid_online", f"{order.plate} paid {yuan} online",
             f"The driver of {order.plate} paid {yuan} yuan online ({payment.provider}); the order is settled.",
             {"order_id": order.id, "berth_id": order.berth_id, "plate": order.plate,
              "amount_fen": settlement.collected_fen, "provider": payment.provider, "trade_no": payment.trade_no})
    return settlement
