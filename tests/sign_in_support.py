"""Helpers of the sign-in throttling tests: a real password hash cost, and timing two kinds of refusal."""
from __future__ import annotations

import statistics
import time

from tests.factories import PASSWORD

SLOW_HASH = "pbkdf2:sha256:100000"  # ~20 ms here: the hash, not the request around it, must dominate


def hash_slowly(app, monkeypatch, db, *staff):
    """Hash as a production setting would (the suite's default hash is almost free), for the app's new
    hashes (and so its dummy hash) and for these accounts' passwords."""
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", SLOW_HASH)
    monkeypatch.setitem(app.config, "LOGIN_DELAY_AFTER_FAILURES", 10_000)  # time the hashing, not the delay
    for person in staff:
        person.set_password(PASSWORD)
    db.session.commit()


def median_times(attempts: dict, rounds: int = 20) -> dict:
    """Median seconds of each kind of attempt, the kinds interleaved so that drift hits them alike."""
    seconds = {kind: [] for kind in attempts}
    for _ in range(rounds):
        for kind, attempt in attempts.items():
            start = time.perf_counter()
            attempt()
            seconds[kind].append(time.perf_counter() - start)
    return {kind: statistics.median(values) for kind, values in seconds.items()}
