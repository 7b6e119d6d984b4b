"""The /sync/v1 contract: request and answer models, the error codes and the OpenAPI document generated from
them (app/core/api), served unsigned at GET /sync/v1/openapi.json.

Upload items are checked one by one by app/sync/uploads.py (a wrong item is refused, not the batch): their
models here describe them for the document. tests/sync/test_openapi.py fuzzes every operation against it."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from app.core.api.contract import ErrorCode, Operation
from app.core.api.models import Answer, Id, LocalTime, QueryModel, RequestModel
from app.core.types import storable_text
from app.sync.uploads import MAX_ITEMS, MAX_PHOTO_BYTES, SITE_REF

MAX_FEN = 10_000_000_00
MAX_PULL = 1000  # changes per GET /changes
DeviceKind = Literal["booth", "lane", "camera", "barrier", "led", "monitor"]  # app.sync.services.DEVICE_KINDS
Action = Literal["lift", "lower"]  # app.sync.services.ACTIONS
CommandState = Literal["queued", "delivered", "done", "failed"]  # app.sync.services.COMMAND_STATES
Entity = Literal["park_parameters", "lane", "car_type", "plate_car_type", "tariff", "product", "pass",
                 "plate_list"]  # app.sync.feed.SNAPSHOT_ENTITIES
PayMethod = Literal["cash", "electronic", "card"]
Seq = Annotated[int, Field(ge=0, le=10**12 - 1, description="A position in the park's change feed.")]
Fen = Annotated[int, Field(ge=0, le=MAX_FEN, description="Money in integer fen (1/100 yuan).")]
SiteId = Annotated[str, Field(pattern=SITE_REF.pattern, description=(
    "The site's own id of the item: (park, kind, site_id) is the idempotency key."))]
At = Annotated[str, Field(json_schema_extra={"format": "date-time"}, description=(
    "Device time, ISO 8601 with its UTC offset; at most 2 minutes ahead of the cloud and at most 7 days old."))]
Text = Annotated[str, Field(min_length=1, pattern=r"^[^\x00-\x1f]*\S[^\x00-\x1f]*$")]


def _storable(value: str) -> str:
    if not storable_text(value):
        raise ValueError("a text without NUL or invalid Unicode")
    return value


# --- requests ------------------------------------------------------------------------------------

class Heartbeat(RequestModel):
    version: Annotated[str, Field(max_length=40), AfterValidator(_storable)] | None = Field(
        None, description="The site software's version.")
    devices: dict[DeviceKind, Annotated[list[Id], Field(max_length=1000)]] | None = Field(
        None, description="{kind: [device ids]} that answered the site.")


class Ack(RequestModel):
    seq: Seq


class CommandResult(RequestModel):
    ok: bool
    message: Annotated[str, AfterValidator(_storable)] | None = None


class Upload(RequestModel):
    # items are checked one by one (a wrong one is refused, the others kept): typed for the document only
    items: Annotated[list[Any], Field(min_length=1, max_length=MAX_ITEMS, json_schema_extra={"items": {"oneOf": [
        {"$ref": f"#/components/schemas/{name}"} for name in
        ("EntryItem", "ExitItem", "SettlementItem", "LiftItem", "PassSaleItem")]}})]


class ChangesQuery(QueryModel):
    after: Seq = Field(0, description="The last position applied (0: a snapshot).")
    limit: Annotated[int, Field(ge=1, le=MAX_PULL)] = 200


class _Item(BaseModel):
    site_id: SiteId


class EntryItem(_Item):
    """A car in: opens an order (an open order of the same plate closes at no charge)."""
    kind: Literal["entry"]
    plate: Annotated[str, Field(max_length=16, description="Normalized to 4 to 10 letters, digits or Chinese.")]
    lane_id: Id
    at: At
    vehicle_class: Annotated[str, Field(max_length=32, description="Default small.")] | None = None
    photo: Annotated[str, Field(json_schema_extra={"format": "byte"}, description=(
        f"Base64 JPEG or PNG of at most {MAX_PHOTO_BYTES // 1024} KB."))] | None = None


class ExitItem(_Item):
    """A car out: sets left_at; an order nobody settled closes free."""
    kind: Literal["exit"]
    order_site_id: Annotated[str, Field(max_length=64, description="The site_id of the entry.")]
    lane_id: Id
    at: At
    photo: Annotated[str, Field(json_schema_extra={"format": "byte"})] | None = None


class Payment(BaseModel):
    method: PayMethod
    amount_fen: Fen


class SettlementItem(_Item):
    """A payment at the booth: payments plus reduction must equal the fee; several add up."""
    kind: Literal["settlement"]
    order_site_id: Annotated[str, Field(max_length=64)]
    at: At
    fee_fen: Fen
    payments: Annotated[list[Payment], Field(max_length=5)] | None = None
    reduction_fen: Fen | None = None
    free_reason: Annotated[str, Field(max_length=80, description="Required with a reduction.")] | None = None
    collector_name: Annotated[str, Field(max_length=80)] | None = None


class LiftItem(_Item):
    """手动抬杆: a barrier opened by hand (kept and audited)."""
    kind: Literal["lift"]
    lane_id: Id
    at: At
    reason: Annotated[str, Field(max_length=200)]
    operator_name: Annotated[str, Field(max_length=80)] | None = None
    plate: Annotated[str, Field(max_length=16)] | None = None


class PassSaleItem(_Item):
    """A monthly pass sold at the booth, as if sold in the admin."""
    kind: Literal["pass_sale"]
    product_id: Id
    holder_name: Annotated[str, Field(max_length=80)]
    phone: Annotated[str, Field(max_length=32)] | None = None
    plates: Annotated[list[str], Field(min_length=1)]
    starts_on: Annotated[str, Field(max_length=10, json_schema_extra={"format": "date"})]
    months: Annotated[int, Field(ge=1, le=36)]
    paid_fen: Fen | None = None
    method: PayMethod = Field("cash")
    at: At


# --- answers -------------------------------------------------------------------------------------

class SiteTime(Answer):
    """The cloud's time and the park's timezone"""
    now: LocalTime
    park_id: int
    timezone: str


class ErrorBody(Answer):
    code: str
    message: str
    fields: dict[str, str]


class OrderAccepted(Answer):
    kind: Literal["entry", "exit", "settlement"]
    site_id: str
    status: Literal["ok"]
    order_id: int


class LiftAccepted(Answer):
    kind: Literal["lift"]
    site_id: str
    status: Literal["ok"]
    order_id: None


class PassSaleAccepted(Answer):
    kind: Literal["pass_sale"]
    site_id: str
    status: Literal["ok"]
    order_id: None
    pass_id: int
    ends_on: str = Field(json_schema_extra={"format": "date"})


class ItemRefused(Answer):
    """The item changed nothing; correct it and send it again with the same site_id."""
    kind: str | None = Field(description="Echoed when it was a text.")
    site_id: str | None = Field(description="Echoed when it was a text.")
    status: Literal["refused"]
    error: ErrorBody


class Uploaded(Answer):
    """One result per item, in order (an accepted item sent again gets its first answer)"""
    results: list[OrderAccepted | LiftAccepted | PassSaleAccepted | ItemRefused]
    accepted: int
    refused: int


class Alive(Answer):
    """The site is alive; the devices listed answered it"""
    ok: Literal[True]
    server_time: LocalTime
    unknown_devices: dict[DeviceKind, list[int]] = Field(description="Ids the cloud does not know.")
    feed_seq: int


class Command(Answer):
    id: int
    lane_id: int
    action: Action
    reason: str | None
    state: CommandState
    requested_at: LocalTime
    result_message: str | None


class Change(Answer):
    seq: int | None = Field(None, description="Absent in a snapshot.")
    entity: Entity
    entity_id: int | None = Field(description="Null for the default parameters of a park that never saved them.")
    op: Literal["upsert", "delete"]
    payload: dict[str, Any] | None = Field(description="The row's columns (null for a delete).",
                                           json_schema_extra={"x-free-form": True})


class Changes(Answer):
    """Changes after the cursor, in order, and the barrier commands waiting"""
    snapshot: bool
    seq: int = Field(description="The new cursor.")
    more: bool
    changes: list[Change]
    commands: list[Command]


class Acked(Answer):
    """The position acknowledged"""
    acked_seq: int


class Commands(Answer):
    """Barrier commands not answered yet"""
    commands: list[Command]


class CommandAnswer(Answer):
    """The command with its result"""
    command: Command


class ServerTimeNow(BaseModel):
    server_time: int = Field(description="The cloud's Unix time.")


# --- errors and the document ---------------------------------------------------------------------

_CODES = [
    ErrorCode("malformed_json", 400, "the body is not a JSON object sent as application/json, or nests deeper "
                                     "than 32 levels; answered before the signature is checked"),
    ErrorCode("bad_input", 400, "the query contains a NUL character"),
    ErrorCode("signature_missing", 401, "a signing header is missing"),
    ErrorCode("signature_malformed", 401, "a signing header is not in its format"),
    ErrorCode("unknown_park", 401, "this park has no on-site server in the cloud"),
    ErrorCode("stale_timestamp", 401, "X-Timestamp is more than 300 s from the cloud's clock", ServerTimeNow),
    ErrorCode("bad_signature", 401, "the signature does not match (see docs/sync.md for the canonical string)"),
    ErrorCode("replayed_request", 401, "this X-Request-Id was used already"),
    ErrorCode("not_found", 404, "no such address"),
    ErrorCode("command_not_found", 404, "no such command for this park"),
    ErrorCode("command_finished", 409, "the command has another result already"),
    ErrorCode("payload_too_large", 413, "the body is larger than the operation takes (16 MB for /uploads, 1 MB "
                                        "otherwise); refused before the signature is checked"),
    ErrorCode("validation_failed", 422, "some fields are missing or wrong: see fields"),
    ErrorCode("ack_ahead", 422, "the position is beyond the feed"),
]

SIGNING = (
    "Every request carries X-Park-Id, X-Timestamp (Unix seconds, within 300 s of the cloud's clock), X-Request-Id "
    "(8 to 64 ASCII characters, unique per request) and X-Signature: the lower-case hex HMAC-SHA256 keyed with "
    "the UTF-8 bytes of the site's secret (the text shown once in the admin, used as it is) over the UTF-8 bytes "
    "of five lines joined by a single \\n, without a trailing newline: the method in upper case; the path from "
    "/sync/v1 on, followed by ? and the query string exactly as sent only when there is a query (no ? without "
    "one); X-Timestamp; X-Request-Id; the lower-case hex SHA-256 of the body bytes as sent (of no bytes for a "
    "GET). docs/sync.md gives a worked example.")


def _door(op: Operation) -> list[str]:
    codes = ["bad_input", "signature_missing", "signature_malformed", "unknown_park", "stale_timestamp",
             "bad_signature", "replayed_request"]
    if op.body is not None:
        codes += ["malformed_json", "payload_too_large", "validation_failed"]
    if op.query is not None:
        codes.append("validation_failed")
    if op.path_params:
        codes.append("not_found")
    return codes


# the document around the operations (app/sync/api.py declares them on its blueprint)
CONTRACT = dict(
    info={"title": "ParkingOS on-site link", "version": "1.1.0", "description": (
        "The API of an off-street park's on-site server (see docs/sync.md). Money in integer fen; every time the "
        "cloud sends is ISO 8601 in the park's local offset; every request signed; errors are "
        "{\"error\": {\"code\", \"message\", \"fields\", ...}}. One transaction per request.")},
    security_schemes={key: {"type": "apiKey", "in": "header", "name": name, "description": text}
                      for key, (name, text) in {
                          "parkId": ("X-Park-Id", "The park's id."),
                          "timestamp": ("X-Timestamp", "Unix seconds."),
                          "requestId": ("X-Request-Id", "Unique per request: a replay is refused."),
                          "signature": ("X-Signature", SIGNING)}.items()},
    security={"signed": [{"parkId": [], "timestamp": [], "requestId": [], "signature": []}]},
    codes={c.code: c for c in _CODES},
    door=_door,
    models=[EntryItem, ExitItem, SettlementItem, LiftItem, PassSaleItem],
)


def document() -> dict:
    from app.sync.api import api

    return api.document()
