"""The device JSON API (/pos/v1): collectors and inspectors on handhelds.

Every write carries a client-generated `client_ref`; a retry gets the first answer back.
Errors are {"error": {"code", "message", "fields"}} with a 4xx status."""
from flask import Blueprint

bp = Blueprint("pos_api", __name__, url_prefix="/pos/v1")

from pos_api import collector, contract, inspector, payments, sensors, session, support, tracks  # noqa: E402,F401
