"""The /pos/v1 contract: request and answer models, the error codes and the generated OpenAPI document.

Views declare themselves with `api.route(...)`; `GET /pos/v1/openapi.json` is `api.document()`."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from app.core.api.contract import Contract, ErrorCode, Operation
from app.core.api.models import (
    Answer,
    ClientRef,
    Currency,
    DeviceTime,
    Fen,
    Id,
    LocalTime,
    QueryModel,
    RequestModel,
    Text16,
    Text64,
    Text80,
    Text200,
    Text1000,
)
from pos_api import bp

VehicleClass = Literal["small", "large", "other"]  # app.parks.services.VEHICLE_CLASSES (a test holds them equal)
State = Literal["open", "settled", "unpaid", "recovered"]  # app.orders.models.OrderState
PayMethod = Literal["cash", "electronic", "card"]
Amount = Annotated[int, Field(ge=1, le=10_000_000, description="Money in integer fen (1/100 yuan).")]
Latitude = Annotated[float, Field(ge=-90, le=90, description="WGS-84 degrees.")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="WGS-84 degrees.")]
MAX_PAGE = 200


# --- requests ------------------------------------------------------------------------------------

class SignIn(RequestModel):
    username: Text64
    password: Annotated[str, Field(min_length=1, max_length=128)]
    device_serial: Text64
    device_key: Text200 | None = Field(None, description=(
        "device_key of this handheld's last sign-in to the account: a known device is not delayed by other "
        "people's wrong guesses."))


class Write(RequestModel):
    """Every write carries its client_ref."""
    client_ref: ClientRef


class StartShift(Write):
    segment_id: Id


class CloseShift(Write):
    password: Annotated[str, Field(min_length=1, max_length=128)] | None = None


class Prepay(RequestModel):
    amount_fen: Amount
    method: PayMethod


class CarIn(Write):
    berth_id: Id
    plate: Text16 = Field(description="The plate as read; normalized (upper case, no blanks).")
    vehicle_class: VehicleClass = Field("small", description="One of the sign-in's vehicle_classes: prices the stay.")
    entered_at: DeviceTime | None = Field(None, description="When the car arrived; the server's time if left out.")
    prepay: Prepay | None = None


class Settle(Write):
    left_at: DeviceTime
    method: Literal["cash", "electronic", "card", "free"]
    amount_fen: Annotated[int, Field(ge=0, le=10_000_000, description=(
        "Must equal the quote's due_fen for this left_at (0 for free); otherwise 409 fee_changed."))]
    free_reason: Text80 | None = Field(None, description="Required with method free: one of the park's reasons.")


class Escape(Write):
    left_at: DeviceTime


class Recover(Write):
    arrear_ids: Annotated[list[Id], Field(min_length=1, max_length=100)]
    method: PayMethod
    amount_fen: Annotated[int, Field(ge=1, le=100_000_000, description="Must equal the sum owed.")]


class OrderPhoto(RequestModel):
    client_ref: ClientRef
    kind: Literal["entry", "exit", "evidence"]
    photo: Annotated[bytes, Field(json_schema_extra={"format": "binary"}, description="JPEG or PNG, at most 5 MB.")]


class Photo(RequestModel):
    client_ref: ClientRef
    photo: Annotated[bytes, Field(json_schema_extra={"format": "binary"}, description="JPEG or PNG, at most 5 MB.")]


class PayByPhone(Write):
    channel: Literal["native"] = Field("native", description="native: a QR code the driver scans with WeChat or "
                                                             "Alipay (the park's merchant account decides which).")


class QuoteQuery(QueryModel):
    left_at: DeviceTime | None = Field(None, description="When the car leaves; now if left out.")


class DayQuery(QueryModel):
    date: str | None = Field(None, json_schema_extra={"format": "date"},
                             description="A day of the park's calendar (YYYY-MM-DD); today if left out.")


class OrdersQuery(DayQuery):
    state: Literal["open", "closed"] = Field("open", description=(
        "open: the open orders of my segment (of the park without a shift); closed: those I closed on `date`."))
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = Field(50, description="At most this many orders.")
    after: str | None = Field(None, max_length=200, description="The `next` cursor of the previous page.")


class MessagesQuery(QueryModel):
    after: Annotated[int, Field(ge=0, le=2**31 - 1)] = Field(0, description="The last message id seen.")
    limit: Annotated[int, Field(ge=1, le=100)] = 100


class NearbyQuery(QueryModel):
    lat: Latitude
    lng: Longitude


class TasksQuery(QueryModel):
    state: Literal["open", "resolved", "all"] = "open"
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = Field(MAX_PAGE, description="At most this many tasks.")
    after: str | None = Field(None, max_length=200, description="The `next` cursor of the previous page.")


class ResolveTask(Write):
    note: Text1000 | None = None
    outcome: Literal["done", "failed"] = "done"


class Report(Write):
    kind: Literal["violation", "anomaly"]
    note: Text1000 | None = None
    plate: Text16 | None = None
    segment_id: Id | None = None
    berth_id: Id | None = None
    observed_at: DeviceTime | None = None
    lat: Latitude | None = Field(None, description="Send lat and lng together.")
    lng: Longitude | None = None

    @model_validator(mode="after")
    def both_or_neither(self):
        if (self.lat is None) != (self.lng is None):
            raise ValueError("send lat and lng together")
        return self


class TrackPoint(BaseModel):
    """Checked one by one by the server: a wrong point is rejected, the batch is not."""
    lat: Latitude
    lng: Longitude
    recorded_at: Annotated[str, Field(json_schema_extra={"format": "date-time"})]
    accuracy_m: Annotated[float, Field(ge=0)] | None = None
    speed_mps: Annotated[float, Field(ge=0)] | None = None


class TrackUpload(Write):
    datum: Literal["wgs84", "gcj02"] = Field("wgs84", description="gcj02 points are converted to WGS-84.")
    # items are checked one by one by the service (a wrong point does not refuse the batch): typed for the document
    points: Annotated[list[object], Field(min_length=1, max_length=5000, json_schema_extra={
        "items": {"$ref": "#/components/schemas/TrackPoint"}})]


class SensorEvent(BaseModel):
    """Checked one by one by the server: a wrong event is `invalid` in the results, the batch is not refused."""
    client_ref: ClientRef | None = None
    sensor_serial: Annotated[str, Field(min_length=1, max_length=64)]
    kind: Literal["arrive", "depart", "heartbeat"]
    occurred_at: Annotated[str, Field(json_schema_extra={"format": "date-time"})]
    battery_mv: Annotated[int, Field(ge=0, le=10000)] | None = None
    magnet: bool | None = Field(None, description="true: a car is over the sensor")


class SensorEvents(RequestModel):
    events: Annotated[list[object], Field(min_length=1, max_length=1000, json_schema_extra={
        "items": {"$ref": "#/components/schemas/SensorEvent"}})]


class StationHeartbeat(RequestModel):
    voltage_mv: Annotated[int, Field(ge=0, le=100_000)] | None = None


# --- answers -------------------------------------------------------------------------------------

class User(Answer):
    id: int
    username: str
    name: str
    role: Literal["collector", "inspector"]


class ParkInfo(Answer):
    id: int
    name: str
    timezone: str = Field(description="IANA zone; every time the API sends is in its offset.")
    kind: str


class Segment(Answer):
    id: int
    name: str
    address: str | None
    latitude: float | None
    longitude: float | None


class CollectorSettings(Answer):
    photo_required_entry: bool
    photo_required_exit: bool
    prepay_allowed: bool
    prepay_presets_fen: list[int]
    receipt_header: str | None
    receipt_footer: str | None
    hide_amounts: bool
    signout_password_required: bool
    free_reasons: list[str] = Field(description="The names settle's `free_reason` accepts (免费原因).")


class CarType(Answer):
    code: str
    name: str
    vehicle_class: VehicleClass


class ShiftRef(Answer):
    id: int
    segment_id: int
    started_at: LocalTime
    late: bool


class Session(Answer):
    """Signed in"""
    token: str = Field(description="Send as Authorization: Bearer <token>; valid 14 hours.")
    expires_at: LocalTime
    device_key: str | None = Field(description="Keep it and send it with the next sign-in.")
    user: User
    park: ParkInfo
    segments: list[Segment]
    settings: CollectorSettings
    vehicle_classes: list[VehicleClass]
    car_types: list[CarType]
    open_shift: ShiftRef | None = Field(description="The shift still open from an earlier sign-in, if any.")


class SignedOut(Answer):
    """Signed out"""
    signed_out: bool


class Shift(Answer):
    id: int
    segment_id: int
    segment: str
    started_at: LocalTime
    ended_at: LocalTime | None
    late: bool
    left_early: bool | None


class ShiftStarted(Answer):
    """Shift started"""
    shift: Shift


class Summary(Answer):
    cars_in: int
    cars_out: int
    unpaid_count: int
    unpaid_fen: int
    fee_cash_fen: int
    fee_electronic_fen: int
    fee_card_fen: int
    prepay_cash_fen: int
    prepay_electronic_fen: int
    refund_cash_fen: int
    refund_electronic_fen: int
    recovery_cash_fen: int
    recovery_electronic_fen: int
    recovery_card_fen: int
    cash_to_hand_over_fen: int
    currency: Currency


class ShiftClosed(Answer):
    """Shift closed, with its summary"""
    shift: Shift
    summary: Summary
    collector: str
    park: str


class OrderBrief(Answer):
    id: int
    plate: str
    entered_at: LocalTime
    prepaid_fen: Fen
    fee_so_far_fen: Fen


class SensorInfo(Answer):
    serial: str
    state: Literal["occupied", "free"] | None
    online: bool
    low_battery: bool
    battery_mv: int | None
    since: LocalTime | None


class BerthState(Answer):
    id: int
    number: str
    occupied: bool = Field(description="An order is open on the berth.")
    order: OrderBrief | None
    sensor: SensorInfo | None = Field(description="What the berth's sensor (地磁) says now; null without one.")
    mismatch: bool = Field(description="The sensor is online and disagrees with the orders: a car present "
                                       "with no order, or an order open on an empty berth.")


class Berths(Answer):
    """The berths of my segment"""
    segment_id: int
    berths: list[BerthState]


class OpenOrderElsewhere(Answer):
    id: int
    park: str
    park_id: int
    berth: str | None
    entered_at: LocalTime


class ArrearInfo(Answer):
    id: int
    order_id: int
    park: str
    amount_fen: Fen
    entered_at: LocalTime
    left_at: LocalTime | None
    berth: str | None


class PlateStatus(Answer):
    """Open orders, arrears and black list status of a plate"""
    plate: str
    open_orders: list[OpenOrderElsewhere]
    arrears: list[ArrearInfo]
    arrears_total_fen: Fen
    blacklisted: bool
    blacklist_reason: str | None


class Order(Answer):
    id: int
    state: State
    plate: str
    vehicle_class: VehicleClass
    park_id: int
    segment_id: int | None
    berth_id: int | None
    berth: str | None = Field(description="The berth's number.")
    entered_at: LocalTime
    left_at: LocalTime | None
    prepaid_fen: Fen
    fee_fen: Fen
    paid_fen: Fen
    reduction_fen: Fen
    payment_method: Literal["cash", "electronic", "card", "pass", "free"] | None
    receipt_no: str | None
    currency: Currency


class OrderAnswer(Answer):
    """The order"""
    order: Order


class FeeLine(Answer):
    kind: str
    label: str
    start: LocalTime
    end: LocalTime
    minutes: int
    units: int
    unit_price_fen: Fen
    amount_fen: Fen


class Quote(Answer):
    fee_fen: Fen
    prepaid_fen: Fen
    due_fen: Fen = Field(description="What to collect now: the fee less the prepayment, at least 0.")
    refund_fen: Fen = Field(description="What to hand back: the prepayment beyond the fee.")
    left_at: LocalTime
    lines: list[FeeLine]
    tariff_version_id: int | None
    currency: Currency


class Quoted(Answer):
    """The order and its fee if it left at left_at"""
    order: Order
    quote: Quote


class Receipt(Answer):
    receipt_no: str | None
    header: str | None
    footer: str | None
    park: str
    segment: str | None
    berth: str | None
    plate: str
    entered_at: LocalTime
    left_at: LocalTime | None
    duration_minutes: int
    fee_fen: Fen
    prepaid_fen: Fen
    collected_fen: Fen
    refund_fen: Fen
    method: str | None
    free_reason: str | None
    lines: list[FeeLine] | None
    collector: str
    timezone: str
    currency: Currency


class Settled(Answer):
    """The closed order and its receipt"""
    order: Order
    receipt: Receipt


class Escaped(Answer):
    """The order, unpaid, and the arrear it opened"""
    order: Order
    arrear: ArrearInfo


class PhotoInfo(Answer):
    id: int
    kind: str
    size_bytes: int
    content_type: str


class PhotoStored(Answer):
    """Photo stored"""
    photo: PhotoInfo


class Recovered(Answer):
    """The arrears recovered"""
    recovered: list[ArrearInfo]
    total_fen: Fen
    method: PayMethod
    currency: Currency


class OrderPage(Answer):
    """A page of orders"""
    orders: list[Order]
    next: str | None = Field(description="Pass as `after` for the next page; null on the last page.")


class DayStats(Answer):
    """My figures of a day"""
    date: str = Field(json_schema_extra={"format": "date"})
    summary: Summary


class ServerTime(Answer):
    """The server's clock"""
    now: str = Field(json_schema_extra={"format": "date-time"}, description="UTC (no park is known here).")


class Message(Answer):
    id: int
    kind: str
    title: str
    body: str | None
    payload: dict[str, int | float | str | bool | None] | None
    created_at: LocalTime


class Messages(Answer):
    """My messages after `after`, oldest first"""
    messages: list[Message]
    last_id: int = Field(description="Pass as `after` next time.")


class NearbySegment(Segment):
    distance_m: float


class NearbySegments(Answer):
    """Segments near the point, nearest first"""
    radius_m: int
    segments: list[NearbySegment]


class SegmentRef(Answer):
    id: int
    name: str


class BoardOrder(Answer):
    id: int
    plate: str
    entered_at: LocalTime


class BoardBerth(Answer):
    id: int
    number: str
    sensor: SensorInfo | None
    order: BoardOrder | None
    mismatch: bool


class SegmentBoard(Answer):
    """Berths of a segment: sensor next to order"""
    segment: SegmentRef
    collectors_on_duty: list[str]
    berths: list[BoardBerth]


class Task(Answer):
    id: int
    kind: str
    label: str
    state: Literal["open", "assigned", "resolved"]
    outcome: str | None
    segment_id: int | None
    segment: str | None
    berth_id: int | None
    berth: str | None
    order_id: int | None
    assigned_to_me: bool
    note: str | None
    has_photo: bool
    created_at: LocalTime
    resolved_at: LocalTime | None


class TaskPage(Answer):
    """My tasks, newest first"""
    tasks: list[Task]
    next: str | None = Field(description="Pass as `after` for the next page; null on the last page.")


class TaskAnswer(Answer):
    """The task"""
    task: Task


class TaskPhoto(Answer):
    """Photo stored"""
    task_id: int
    photo: bool


class ReportInfo(Answer):
    id: int
    kind: str
    plate: str | None
    segment_id: int | None
    berth_id: int | None
    latitude: float | None
    longitude: float | None
    observed_at: LocalTime


class ReportAnswer(Answer):
    """Report recorded"""
    report: ReportInfo


class ReportPhoto(Answer):
    """Photo stored"""
    report_id: int
    photo: bool


class PointProblem(Answer):
    index: int
    fields: dict[str, str]


class TrackStored(Answer):
    """What the batch added"""
    received: int
    added: int
    already_stored: int
    rejected: list[PointProblem] = Field(description="The first 100 rejected points and what is wrong.")
    rejected_count: int


class TrackPointOut(Answer):
    lat: float
    lng: float
    recorded_at: LocalTime
    accuracy_m: float | None
    speed_mps: float | None


class DayTrack(Answer):
    """My points of a day with distance, duration and stops"""
    date: str = Field(json_schema_extra={"format": "date"})
    points: list[TrackPointOut]
    distance_m: float
    duration_s: int
    stops: int
    near_segment_share: float | None


class EventCounts(Answer):
    accepted: int
    duplicate: int
    unknown_sensor: int
    invalid: int


class EventResult(Answer):
    index: int
    client_ref: str | None = None
    status: Literal["accepted", "duplicate", "unknown_sensor", "invalid"]
    fields: dict[str, str] | None = Field(None, description="What is wrong with an invalid event.")


class EventsTaken(Answer):
    """One result per event, in order"""
    station: str
    counts: EventCounts
    results: list[EventResult]


class StationAlive(Answer):
    """The station's state"""
    station: str
    online: bool
    last_heartbeat_at: LocalTime | None
    now: LocalTime


class PaymentInfo(Answer):
    id: int
    order_id: int | None
    state: Literal["created", "paid", "closed", "refunded", "failed"] = Field(description=(
        "created: waiting for the driver; paid: the provider's verified notice came (settled tells whether it "
        "settled the order); closed: expired unpaid; refunded; failed."))
    settled: bool = Field(description="The payment settled its order (booked as electronic income).")
    flag: Literal["amount_mismatch", "fee_changed", "settled_already"] | None = Field(description=(
        "Why a paid payment settled nothing: fee_changed and settled_already are refunded automatically."))
    amount_fen: Fen
    provider: str = Field(description="sandbox, wechat or alipay.")
    code_url: str | None = Field(description="What the QR code holds.")
    qr_svg: str | None = Field(description="The QR code as an SVG element, to show as it is.")
    expires_at: LocalTime
    paid_at: LocalTime | None
    currency: Currency


class PaymentAnswer(Answer):
    """The payment"""
    payment: PaymentInfo


# --- errors --------------------------------------------------------------------------------------

class RetryAfter(BaseModel):
    retry_after: int = Field(description="Seconds to wait; also in the Retry-After header.")


class FeeChanged(BaseModel):
    quote: Quote = Field(description="The new quote: show it and settle again with its due_fen.")


class ArrearsChanged(BaseModel):
    due_fen: Fen = Field(description="The total owed now.")
    arrears: list[ArrearOwed]


class ArrearOwed(BaseModel):
    id: int
    amount_fen: Fen


class AlreadyRecovered(BaseModel):
    arrear_ids: list[int] = Field(description="The debts paid meanwhile.")


class NotOpen(BaseModel):
    state: State = Field(description="The order's state now.")
    order: Order | None = Field(None, description="The order as it is now (sent by the quote).")


ArrearsChanged.model_rebuild()

_CODES = [
    ErrorCode("malformed_json", 400, "the body is not a JSON object sent as application/json, or nests deeper "
                                     "than 32 levels"),
    ErrorCode("bad_input", 400, "the query or form contains a NUL character"),
    ErrorCode("invalid_token", 401, "sign in again: the token is missing, expired or revoked"),
    ErrorCode("bad_credentials", 401, "wrong username or password (the same answer for an unknown name)"),
    ErrorCode("invalid_station_key", 401, "unknown, rotated or disabled base-station key"),
    ErrorCode("device_pending", 403, "this handheld waits for a manager's approval"),
    ErrorCode("device_revoked", 403, "this handheld was revoked"),
    ErrorCode("device_other_park", 403, "this handheld belongs to another park"),
    ErrorCode("account_disabled", 403, "the account is disabled"),
    ErrorCode("not_field_staff", 403, "only collectors and inspectors sign in on a handheld"),
    ErrorCode("wrong_role", 403, "your role cannot use this endpoint"),
    ErrorCode("not_signed_in", 403, "sign in to a berth segment first (POST /shifts)"),
    ErrorCode("not_on_segment", 403, "the berth is not on your segment"),
    ErrorCode("free_release_forbidden", 403, "your role may not release free"),
    ErrorCode("free_release_disabled", 403, "the park does not release free"),
    ErrorCode("bad_signout_password", 403, "the sign-out password is wrong"),
    ErrorCode("not_found", 404, "no such object (an id past the range of ids, or no such address)"),
    ErrorCode("order_not_found", 404, "no such order in your park"),
    ErrorCode("berth_not_found", 404, "no such berth in your park"),
    ErrorCode("segment_not_found", 404, "no such segment in your park"),
    ErrorCode("arrear_not_found", 404, "no such debt you may recover"),
    ErrorCode("task_not_found", 404, "no such task of yours"),
    ErrorCode("report_not_found", 404, "no such report of yours"),
    ErrorCode("payment_not_found", 404, "no such payment in your park"),
    ErrorCode("no_merchant_account", 409, "the park takes no payments by phone: take the fee otherwise"),
    ErrorCode("client_ref_reused", 409, "the client_ref was used for another request (another endpoint, order "
                                        "or body); nothing was written"),
    ErrorCode("too_many_pending_devices", 409, "too many handhelds wait for approval at the park"),
    ErrorCode("shift_open", 409, "a shift is open already: close it first"),
    ErrorCode("no_open_shift", 409, "there is no open shift to close"),
    ErrorCode("berth_occupied", 409, "the berth has an open order"),
    ErrorCode("plate_parked", 409, "the plate has an open order in the park"),
    ErrorCode("plate_blacklisted", 409, "the plate is on the park's black list"),
    ErrorCode("order_not_open", 409, "the order is closed already", NotOpen),
    ErrorCode("fee_changed", 409, "amount_fen is not what is due for left_at", FeeChanged),
    ErrorCode("arrears_changed", 409, "amount_fen is not the total owed: due_fen is", ArrearsChanged),
    ErrorCode("arrear_already_recovered", 409, "some of the debts were paid meanwhile", AlreadyRecovered),
    ErrorCode("prepay_covers_fee", 409, "the prepayment covers the fee: settle instead", FeeChanged),
    ErrorCode("task_resolved", 409, "the task is resolved already"),
    ErrorCode("payload_too_large", 413, "the body is larger than the endpoint takes (1 MB; a photo upload 5 MB "
                                        "and its form); answered before the token is checked"),
    ErrorCode("validation_failed", 422, "some fields are missing or wrong: see fields"),
    ErrorCode("left_before_entry", 422, "left_at is before the order's entered_at"),
    ErrorCode("prepay_not_allowed", 422, "the park does not take prepayments"),
    ErrorCode("bad_method", 422, "not a payment method of this operation"),
    ErrorCode("bad_amount", 422, "the amount is not possible"),
    ErrorCode("bad_free_reason", 422, "not one of the park's free reasons"),
    ErrorCode("bad_plate", 422, "not a plate"),
    ErrorCode("no_arrears", 422, "nothing to recover"),
    ErrorCode("nothing_due", 422, "nothing is due (the prepayment covers the fee): settle instead"),
    ErrorCode("bad_photo", 422, "not a JPEG or PNG"),
    ErrorCode("photo_too_large", 422, "the photo is larger than 5 MB"),
    ErrorCode("payment_unavailable", 503, "the payment provider cannot be reached: try again or take the fee "
                                          "otherwise"),
    ErrorCode("too_many_requests", 429, "too many failed sign-ins: wait retry_after seconds", RetryAfter),
    ErrorCode("too_many_new_devices", 429, "too many new handhelds today: wait retry_after seconds", RetryAfter),
]


def _door(op: Operation) -> list[str]:
    """What an operation may answer before its view runs: 400 for a NUL in its query or a malformed body, 413
    for a body too large, 401 without a valid token or key, 404 for an id past the range."""
    codes = ["bad_input"]
    if op.body is not None:
        codes += ["malformed_json", "payload_too_large", "validation_failed"]
    if op.form is not None:
        codes += ["payload_too_large", "validation_failed"]
    if op.query is not None:
        codes.append("validation_failed")
    if op.security == "bearer":
        codes.append("invalid_token")
    elif op.security == "station":
        codes.append("invalid_station_key")
    if op.path_params:
        codes.append("not_found")
    if op.idempotent:
        codes.append("client_ref_reused")
    return codes


api = Contract(
    bp=bp,
    info={"title": "ParkingOS device API", "version": "1.1.0", "description": (
        "Handheld collectors and inspectors, and base stations of kerb sensors. Money is integer fen with "
        "currency CNY; every time the API sends is ISO 8601 in the park's local offset (GET /time: UTC). Every "
        "write carries client_ref; errors are {\"error\": {\"code\", \"message\", \"fields\", ...}} with the "
        "codes listed per operation. Guide: docs/device-api.md.")},
    security_schemes={
        "bearer": {"type": "http", "scheme": "bearer", "description": "The token of POST /session."},
        "stationKey": {"type": "apiKey", "in": "header", "name": "X-Station-Key",
                       "description": "A base station's key."},
        "stationBearer": {"type": "http", "scheme": "bearer",
                          "description": "A base station's key sent as Authorization: Bearer <key> instead."}},
    security={"bearer": [{"bearer": []}], "station": [{"stationKey": []}, {"stationBearer": []}]},
    codes={c.code: c for c in _CODES},
    door=_door,
    models=[TrackPoint, SensorEvent],
)
api.serve()


def document() -> dict:
    return api.document()
