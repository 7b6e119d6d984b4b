"""Integrations: what leaves the platform (the transactional outbox, signed webhooks, the 泊链 alliance)
and what the alliance sends back (payment notices). The domains never import this package: they send the
signals of app/core/signals.py, and `init_app` connects the receivers that turn them into outbox messages
in the sender's transaction (see docs/alliance.md)."""
from __future__ import annotations


def init_app(app) -> None:
    from app.integrations import events, outbox, tasks

    events.connect()
    outbox.set_kicker(tasks.kick)  # per process; whether an app kicks is its own config (tasks.kick)
