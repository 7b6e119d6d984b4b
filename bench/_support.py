"""Shared pieces of the benchmarks: the bench database, a gunicorn server, HTTP clients, figures."""
from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/parkingos_bench")


def ensure_database(url: str = BENCH_URL) -> str:
    """Create the bench database if missing and empty its schema."""
    import psycopg2

    base, name = url.rsplit("/", 1)
    conn = psycopg2.connect(base + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    conn.close()
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app_spec: str, env: dict, workers: int = 4):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--log-level", "warning", app_spec],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


class Client:
    """A keep-alive HTTP/1.1 JSON client that times each request."""

    def __init__(self, port: int, token: str | None = None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.latencies: list[float] = []

    def call(self, method: str, path: str, body=None):
        started = time.perf_counter()
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        self.latencies.append(time.perf_counter() - started)
        return response.status, (json.loads(data) if data else None)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def result_line(name: str, value: float, unit: str, goal: str, baseline: float | None = None,
                ratio: float | None = None) -> str:
    parts = [f"RESULT {name} value={value:.4g} unit={unit}"]
    if baseline is not None:
        parts.append(f"baseline={baseline:.4g} ratio={ratio:.3f}")
    parts.append(f"goal={goal}")
    return " ".join(parts)


__all__ = ["statistics"]


def city_and_group(db):
    """The bench's city and one operating group, flushed (ids set)."""
    from app.tenancy.models import City, OperatingGroup

    city = City(name="Bench City")
    db.session.add(city)
    db.session.flush()
    group = OperatingGroup(city_id=city.id, name="Bench Group")
    db.session.add(group)
    db.session.flush()
    return city, group
