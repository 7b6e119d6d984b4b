"""Which periodic tasks the worker's module (`huey_consumer app.exports.worker.huey`) finds due at given
minutes, asked in a fresh interpreter as the consumer would import it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def due_at_minutes(tmp_path, minutes: list[int]) -> list[set[str]]:
    code = ("import json, sys; from datetime import datetime; from app.exports.worker import huey; "
            "print(json.dumps([sorted(type(t).__module__ + '.' + t.name for t in "
            "huey.read_periodic(datetime(2026, 5, 1, 8, m))) for m in json.loads(sys.argv[1])]))")
    env = {**os.environ, "DATABASE_URL": "sqlite://", "SECRET_KEY": "test", "HUEY_SQLITE_PATH": str(tmp_path / "h.db"),
           "PARKINGOS_INSTANCE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code, json.dumps(minutes)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return [set(names) for names in json.loads(out.stdout.strip().splitlines()[-1])]
