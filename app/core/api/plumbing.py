"""One error answer and one transaction finish for every device API blueprint."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from app.core.errors import DomainError
from app.extensions import db


def install(bp: Blueprint) -> None:
    """Refusals answer {"error": {code, message, fields, ...}} with their status and headers; one transaction
    per request, kept when the answer is a success and dropped otherwise."""
    bp.register_error_handler(DomainError, domain_error)
    bp.after_request(finish_transaction)


def domain_error(exc: DomainError):
    db.session.rollback()
    return jsonify(exc.to_dict()), exc.status, exc.headers


def finish_transaction(response):
    if response.status_code < 400:
        session = db.session()
        # nothing to do when an idempotent write committed already (with its first answer), or for a read in
        # autocommit (app/core/autocommit.py)
        if not g.get("autocommit") and (session.in_transaction() or session.new or session.dirty
                                        or session.deleted):
            session.commit()
    else:
        db.session.rollback()
    return response
