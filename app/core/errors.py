"""Refusals raised by services; the API turns them into {"error": {code, message, fields}}."""
from __future__ import annotations


class DomainError(Exception):
    status = 422

    def __init__(self, code: str, message: str, fields: dict | None = None, extra: dict | None = None):
        super().__init__(message)
        self.code, self.message, self.fields, self.extra = code, message, fields or {}, extra or {}

    @property
    def headers(self) -> dict:
        return {}

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields, **self.extra}}


class Invalid(DomainError):
    status = 422


class Conflict(DomainError):
    status = 409


class Refused(Invalid):
    """A change a service refused, said on one form field (`field`; None: the whole form). Each domain
    subclasses it with its own stable `code`; the admin pages show it with `show_refusal`."""
    code = "refused"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(type(self).code, message, {field: message} if field else {})
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Unauthorized(DomainError):
    status = 401


class BadRequest(DomainError):
    status = 400


class TooManyRequests(DomainError):
    """Wait before trying again: `retry_after` seconds, in the body and in the Retry-After header."""
    status = 429

    def __init__(self, code: str, message: str, retry_after: int):
        super().__init__(code, message, extra={"retry_after": retry_after})

    @property
    def headers(self) -> dict:
        return {"Retry-After": str(self.extra["retry_after"])}
