"""Refusals raised by services; the API turns them into {"error": {code, message, fields}}."""
from __future__ import annotations


class DomainError(Exception):
    status = 422

    def __init__(self, code: str, message: str, fields: dict | None = None, extra: dict | None = None):
        super().__init__(message)
        self.code, self.message, self.fields, self.extra = code, message, fields or {}, extra or {}

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields, **self.extra}}


class Invalid(DomainError):
    status = 422


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Unauthorized(DomainError):
    status = 401


class TooManyRequests(DomainError):
    status = 429
