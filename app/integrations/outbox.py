"""The transactional outbox (DESIGN.md §8): an event that must leave the platform is written as rows of
`outbox_messages` in the transaction of the change that caused it (so a rolled-back change sends nothing),
one row per destination; the worker delivers them (`deliver_due`).

Delivery order: a *lane* is one park's messages for one destination (the alliance, or one webhook
subscription); a lane's messages go out in id order, and a message waiting for a retry holds back the
messages behind it. A failed message is retried with exponential backoff and moves to dead-letter (state
`dead`) after `MAX_ATTEMPTS`; a dead message no longer holds its lane. A message is marked sent only after
its receiver answered, so a worker killed mid-delivery sends it again: the event id travels with every
request and receivers keep the ids they have seen."""
from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.orm import Session

from app.core import bulk
from app.core.types import utcnow
from app.extensions import db, execute_core, on_postgresql
from app.integrations.models import OutboxMessage

MAX_ATTEMPTS = 8
BACKOFF_SECONDS = (5, 30, 120, 600, 1800, 3600, 3600)
BATCH = 1000
DELIVERY_LOCK = 7_210_021  # pg advisory lock: one delivery run at a time
PENDING, SENT, DEAD = "pending", "sent", "dead"
_INSERT = insert(OutboxMessage.__table__).inline()  # no RETURNING: nothing reads the ids back


def new_event_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Message:
    """A row to write: the event for one destination (`subscription_id` None: the alliance)."""
    city_id: int
    park_id: int | None
    topic: str
    event_id: str
    payload: dict
    subscription_id: int | None = None
    delay_seconds: int = 0


def write(messages: Iterable[Message], now: datetime | None = None) -> None:
    """Write messages in the caller's transaction (one INSERT, or riding on a device write's closing one:
    app.core.bulk.ride); the commit kicks the worker."""
    now = now or utcnow()
    rows = [{"city_id": m.city_id, "park_id": m.park_id, "topic": m.topic, "event_id": m.event_id,
             "payload": m.payload, "subscription_id": m.subscription_id, "created": now, "state": PENDING,
             "attempts": 0, "next_attempt_at": now + timedelta(seconds=m.delay_seconds) if m.delay_seconds else now}
            for m in messages]
    if not rows:
        return
    if not bulk.ride(OutboxMessage.__table__, rows):
        execute_core(_INSERT, rows)
    info = db.session.info
    delay = min(m["next_attempt_at"] for m in rows) - now
    info["outbox_kick"] = min(info.get("outbox_kick", delay), delay)


@event.listens_for(Session, "after_commit")
def _kick_after_commit(session) -> None:
    delay = session.info.pop("outbox_kick", None)
    if delay is not None and _kicker is not None:
        _kicker(delay.total_seconds())


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session) -> None:
    session.info.pop("outbox_kick", None)


_kicker: Callable[[float], None] | None = None


def set_kicker(kicker: Callable[[float], None] | None) -> None:
    """What a commit that wrote messages calls (the worker's task, queued); None in tests."""
    global _kicker
    _kicker = kicker


# --- delivery -------------------------------------------------------------------------------------

@dataclass(slots=True)
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None
    latency_ms: int | None = None
    answer: dict | None = None
    final: bool = False                     # a failure no retry can mend: dead-letter at once
    postpone_until: datetime | None = None  # not tried: due again then (no attempt counted)


class Dispatcher(Protocol):
    """How the messages of a batch reach their destinations. `prepare` runs first, in the worker's
    transaction (it reads secrets and settings, and may coalesce a lane); `send` delivers one lane's
    messages in order, in a thread of its own and without the database, returning one outcome per message
    it tried and stopping at the first failure; `finish` runs after, in the transaction, with what was
    sent (e.g. the alliance's answer to a park upload)."""

    def prepare(self, lanes: list[list[OutboxMessage]], at: datetime) -> None: ...

    def send(self, lane: list[OutboxMessage]) -> list[Outcome]: ...

    def finish(self, lanes: list[list[OutboxMessage]], results: list[list[Outcome]], at: datetime) -> None: ...


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


def lane_of(message: OutboxMessage) -> tuple:
    return (message.park_id, message.subscription_id, message.topic == "alliance.availability")


def _lock() -> bool:
    if not on_postgresql():
        return True
    return bool(db.session.scalar(select(func.pg_try_advisory_xact_lock(DELIVERY_LOCK))))


def deliver_due(dispatcher: Dispatcher, now: datetime | None = None, *, batch: int = BATCH, threads: int = 8,
                max_seconds: float = 50.0) -> dict:
    """Deliver every message that is due, batch by batch, committing each batch; lanes of one batch go out
    in parallel (one thread per lane at a time), each lane in order."""
    counts = {"sent": 0, "failed": 0, "dead": 0, "batches": 0}
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        while time.monotonic() - started < max_seconds:
            at = now or utcnow()
            if not _lock():
                db.session.rollback()
                counts["skipped"] = 1
                break
            rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.state == PENDING)
                                      .order_by(OutboxMessage.id).limit(batch)).all()
            lanes: dict[tuple, list[OutboxMessage]] = defaultdict(list)
            held: set[tuple] = set()
            for row in rows:
                lane = lane_of(row)
                if lane in held:
                    continue
                if row.next_attempt_at > at:
                    held.add(lane)  # waits for its retry: nothing behind it goes first
                    continue
                lanes[lane].append(row)
            if not lanes:
                db.session.rollback()
                break
            lane_lists = list(lanes.values())
            dispatcher.prepare(lane_lists, at)
            results = list(pool.map(dispatcher.send, lane_lists))
            dispatcher.finish(lane_lists, results, at)
            _record(lane_lists, results, at, counts)
            db.session.commit()
            counts["batches"] += 1
            if len(rows) < batch or now is not None:
                break
    return counts


def _record(lanes: list[list[OutboxMessage]], results: list[list[Outcome]], at: datetime, counts: dict) -> None:
    db.session.flush()  # what the dispatcher changed, before the rows are expired
    updates = []
    for messages, outcomes in zip(lanes, results):
        for message, outcome in zip(messages, outcomes):
            attempts = message.attempts + 1
            if outcome.postpone_until is not None:
                updates.append({"id": message.id, "state": PENDING, "attempts": message.attempts,
                                "next_attempt_at": outcome.postpone_until, "last_error": None, "response_code": None,
                                "latency_ms": None, "delivered_at": None})
                continue
            if outcome.ok:
                state, next_at, delivered = SENT, message.next_attempt_at, at
                counts["sent"] += 1
            else:
                state = DEAD if attempts >= MAX_ATTEMPTS or outcome.final else PENDING
                next_at, delivered = at + backoff(attempts), None
                counts["dead" if state == DEAD else "failed"] += 1
            updates.append({"id": message.id, "state": state, "attempts": attempts, "next_attempt_at": next_at,
                            "last_error": (outcome.error or "")[:300] or None, "response_code": outcome.status,
                            "latency_ms": outcome.latency_ms, "delivered_at": delivered})
    bulk.update_rows(OutboxMessage.__table__, updates)  # one statement for the batch
    db.session.expire_all()


KEEP_DAYS = 30


def prune(now: datetime | None = None, keep_days: int = KEEP_DAYS) -> int:
    """Forget delivered messages older than `keep_days` (the delivery log shows a month); dead letters stay
    until someone resends them. The caller commits."""
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    result = db.session.execute(delete(OutboxMessage).where(OutboxMessage.state == SENT,
                                                            OutboxMessage.created < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def resend(message: OutboxMessage, now: datetime | None = None) -> None:
    """Deliver the message again (a sent or dead one too), with the same event id, at the next run."""
    message.state, message.next_attempt_at, message.attempts = PENDING, now or utcnow(), 0
    message.last_error = None
    db.session.info["outbox_kick"] = timedelta(0)
