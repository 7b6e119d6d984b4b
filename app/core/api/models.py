"""Typed request and answer models of the device APIs, and the reading of a request into them.

Requests are validated by pydantic (compiled code) in strict mode: a JSON number is not a text, `true` is not
a number. What is wrong comes back as 422 validation_failed with one message per field path ("prepay.method");
a body that is not a JSON object is 400 malformed_json before any model sees it (app/core/bodies.py keeps its
size and depth limits). Answer models are the contract the OpenAPI documents publish and the tests check."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from flask import request
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)

from app.core.bodies import json_object
from app.core.devicetime import AHEAD, MAX_AGE, NO_OFFSET, NOT_A_TIME, SITE_MAX_AGE, TOO_OLD, read_device_time
from app.core.errors import Invalid
from app.core.types import storable_text, utcnow

MAX_ID = 2**31 - 1  # ids are 32-bit in the database; anything larger cannot exist
CLIENT_REF_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
M = TypeVar("M", bound=BaseModel)


class RequestModel(BaseModel):
    """A JSON request body: strict types; fields the model does not name are ignored (older clients)."""
    model_config = ConfigDict(strict=True, extra="ignore")


class QueryModel(BaseModel):
    """Query parameters: texts in the URL, so numbers are read from their digits."""
    model_config = ConfigDict(extra="ignore")


class Answer(BaseModel):
    """A success answer; every field is sent, null where there is nothing."""
    model_config = ConfigDict(extra="forbid")


def _printable(value: str) -> str:
    if any(ord(ch) < 32 and ch != "\t" for ch in value) or not storable_text(value):
        raise ValueError("contains control characters or invalid Unicode")
    return value


# texts of 1 to N characters after trimming blanks, without control characters
Text16 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16),
                   AfterValidator(_printable)]
Text64 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
                   AfterValidator(_printable)]
Text80 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
                   AfterValidator(_printable)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                    AfterValidator(_printable)]
Text1000 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
                     AfterValidator(_printable)]


ClientRef = Annotated[str, Field(pattern=CLIENT_REF_PATTERN, description=(
    "A client-generated id (UUID) of this write, made before the first attempt. A retry of the same request "
    "with the same client_ref returns the first answer (header Idempotent-Replay: true) and changes nothing. The "
    "same request is the same method, path and body in canonical form (keys sorted, no blanks; for a photo the "
    "form's fields and the file's SHA-256); another request with the client_ref is 409 client_ref_reused and "
    "writes nothing."))]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Fen = Annotated[int, Field(ge=0, description="Money in integer fen (1/100 yuan).")]
LocalTime = Annotated[str, Field(json_schema_extra={"format": "date-time"}, description=(
    "ISO 8601 in the park's local offset, e.g. 2026-05-01T08:00:00+08:00."))]
Currency = Annotated[Literal["CNY"], Field(description="Always CNY: amounts are integer fen.")]

_TIME_PROBLEMS = {NOT_A_TIME: "an ISO 8601 time with offset",
                  NO_OFFSET: "a time with its UTC offset, e.g. 2026-05-01T08:00:00+08:00",
                  AHEAD: "more than 2 minutes in the future: check the device's clock (GET /time)",
                  TOO_OLD: "older than {age}"}


def _device_time(max_age: timedelta):
    """A time a device reports: ISO 8601 with its offset, inside the device-time window (app.core.devicetime)."""
    age = _age(max_age)

    def read(value):
        parsed = read_device_time(value, utcnow(), max_age)
        if isinstance(parsed, str):
            raise ValueError(_TIME_PROBLEMS[parsed].format(age=age))
        return parsed

    return BeforeValidator(read), WithJsonSchema({
        "type": "string", "format": "date-time",
        "description": f"ISO 8601 with its UTC offset; at most 2 minutes ahead of the server, at most {age} old."})


def _age(age: timedelta) -> str:
    hours = int(age.total_seconds() // 3600)
    return f"{hours} hours" if hours < 72 else f"{hours // 24} days"


_HANDHELD, _SITE = _device_time(MAX_AGE), _device_time(SITE_MAX_AGE)
DeviceTime = Annotated[datetime, _HANDHELD[0], _HANDHELD[1]]  # a handheld's or a base station's (48 hours)
SiteTime = Annotated[datetime, _SITE[0], _SITE[1]]  # an on-site system's, which uploads a longer backlog (7 days)


def parse(model: type[M], data: Any) -> M:
    """`data` validated into `model`, or 422 validation_failed with what is wrong per field path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid("validation_failed", "Some fields are missing or wrong.", problems(exc)) from None


def body(model: type[M]) -> M:
    """The request's JSON object (400 malformed_json if it is not one) validated into `model`."""
    return parse(model, json_object())


def query(model: type[M]) -> M:
    return parse(model, request.args.to_dict())


def problems(exc: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        # a union's member names its branch in the path ("function-after[...]"): only field names are kept
        path = ".".join(str(part) for part in error["loc"] if isinstance(part, int) or "[" not in str(part))
        message = "required" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
        found.setdefault(path or "body", message)
    return found
