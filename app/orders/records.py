"""Orders as the handheld's car cycle reads them: plain records built from one row (loading the order
with its berth and segment as ORM entities costs more than the round trip), and the Protocol that both
they and a ParkingOrder satisfy, so that signatures say what a function reads of an order."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class OrderView(Protocol):
    """What the quote, the settlement and the device answers read of an order (a ParkingOrder or an
    OrderRecord); read-only, as a record cannot be changed."""

    @property
    def id(self) -> int: ...

    @property
    def park_id(self) -> int: ...

    @property
    def segment_id(self) -> int | None: ...

    @property
    def berth_id(self) -> int | None: ...

    @property
    def plate(self) -> str: ...

    @property
    def vehicle_class(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def entered_at(self) -> datetime: ...

    @property
    def left_at(self) -> datetime | None: ...

    @property
    def tariff_version_id(self) -> int | None: ...

    @property
    def fee_fen(self) -> int: ...

    @property
    def prepaid_fen(self) -> int: ...

    @property
    def paid_fen(self) -> int: ...

    @property
    def reduction_fen(self) -> int: ...

    @property
    def payment_method(self) -> str | None: ...

    @property
    def free_reason(self) -> str | None: ...

    @property
    def fee_lines(self) -> list | None: ...

    @property
    def receipt_no(self) -> str | None: ...

    @property
    def berth_number(self) -> str | None: ...

    @property
    def segment_name(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class QuoteInputs:
    """What a quote needs beyond the order's columns, read with the order in the same round trip: its tariff
    version's document, and whether the plate is white-listed or has any pass (see members.coverage)."""
    document: dict | None
    white_listed: bool
    any_pass: bool

    @property
    def flags(self) -> tuple[bool, bool]:
        return self.white_listed, self.any_pass


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order as one row of parking_orders with its berth's number and segment's name (None where the
    order has none, or where the reader did not ask: car in reads no segment name). Immutable: a change
    is written by the service and answered as a new record (dataclasses.replace)."""
    id: int
    park_id: int
    segment_id: int | None
    berth_id: int | None
    plate: str
    vehicle_class: str
    state: str
    entry_method: str
    entered_at: datetime
    entry_received_at: datetime
    left_at: datetime | None
    exit_received_at: datetime | None
    tariff_version_id: int | None
    fee_fen: int
    prepaid_fen: int
    paid_fen: int
    reduction_fen: int
    payment_method: str | None
    free_reason: str | None
    fee_lines: list | None
    entry_collector_id: int | None
    exit_collector_id: int | None
    entry_shift_id: int | None
    exit_shift_id: int | None
    receipt_no: str | None
    created_at: datetime
    berth_number: str | None = None
    segment_name: str | None = None
    quote_inputs: QuoteInputs | None = None
