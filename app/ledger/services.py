"""The one writer of the ledger. A money path describes each movement as a `LedgerPosting` and hands it
to `post` (one row: a plain INSERT, as cheap as the handheld's car cycle needs) or `post_many` (a batch:
one set-based INSERT, for lane uploads and bulk pass sales). Nothing else inserts ledger rows, so what a
row holds is checked in one place."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert

from app.core import bulk
from app.extensions import execute_core
from app.ledger.models import LedgerEntry, LedgerKind

KINDS = frozenset(kind.value for kind in LedgerKind)
_TABLE = LedgerEntry.__table__
_INSERT = insert(_TABLE)


@dataclass(frozen=True, slots=True)
class LedgerPosting:
    """One movement of money in integer fen, booked at `park_id` (and the segment and berth, if any);
    refunds are negative. Where a recovery is booked (where the money was taken) is the caller's rule."""
    park_id: int
    kind: str  # a LedgerKind value
    method: str
    amount_fen: int
    occurred_at: datetime
    order_id: int | None = None
    arrear_id: int | None = None
    collector_id: int | None = None
    shift_id: int | None = None
    segment_id: int | None = None
    berth_id: int | None = None
    provider: str | None = None  # an online payment's provider and trade number, booked once per kind
    trade_no: str | None = None

    def row(self) -> dict:
        if self.kind not in KINDS or self.occurred_at.tzinfo is None:
            raise ValueError(f"not a ledger posting: {self!r}")
        return {name: getattr(self, name) for name in _COLUMNS}


_COLUMNS = LedgerPosting.__slots__


def post(posting: LedgerPosting) -> None:
    """Write one movement in the caller's transaction: a plain INSERT, as nothing reads the row back as an
    object (the ORM's unit of work costs a handheld's request more than the statement does). In a device
    write, a movement without a provider's trade rides on the write's closing insert (app.core.bulk): one
    statement less on the kerb's settlement. A trade is written at once, where its unique rule may refuse it."""
    row = posting.row()
    if posting.trade_no is None and bulk.ride(_TABLE, [row]):
        return
    execute_core(_INSERT, row)


def post_many(postings: list[LedgerPosting]) -> None:
    """Write a batch of movements in one set-based INSERT (app.core.bulk)."""
    bulk.insert_rows(_TABLE, [posting.row() for posting in postings], columns=list(_COLUMNS))
