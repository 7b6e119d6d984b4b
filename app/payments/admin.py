"""Admin pages of payments (filled in below)."""
from flask import Blueprint

bp = Blueprint("payments", __name__, url_prefix="/payments")
