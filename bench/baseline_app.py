"""The baseline endpoint: the same stack (Flask, Flask-SQLAlchemy, psycopg2 with the app's prepared
statements, gunicorn) doing one insert and one commit per request, nothing else."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, jsonify, request  # noqa: E402
from flask_sqlalchemy import SQLAlchemy  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app.core import prepared  # noqa: E402
from config import normalize_database_url  # noqa: E402

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(os.environ["DATABASE_URL"])
db = SQLAlchemy(app)
with app.app_context():
    prepared.enable(db.engine)


@app.post("/insert")
def insert():
    payload = request.get_json(silent=True) or {}
    db.session.execute(text("INSERT INTO bench_baseline (payload) VALUES (:p)"), {"p": str(payload)[:200]})
    db.session.commit()
    return jsonify({"ok": True}), 201
