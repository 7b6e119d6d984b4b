"""Members: monthly products (月卡套餐), passes (月卡), renewals (续费记录), white and black lists.

Plain functions, no request objects. Each write adds its rows, its ledger row (when money moves)
and its audit row to the caller's transaction; the caller commits once or rolls back.

Pass arithmetic
---------------
* A period of N months starting on S ends on ``add_months(S, N) - 1 day``. Calendar months; when the
  target month is shorter, the day is clamped to its last day: Jan 31 + 1 month = Feb 28 (29 in a leap
  year), so the period Jan 31 .. Feb 27 (.. Feb 28 in a leap year). Mar 15 + 1 month ends Apr 14.
* A renewal starts the day after the current ``ends_on``; when the pass has lapsed (ends_on before
  today in the selling park's time zone) it starts today. Each sale and renewal is one ``PassRenewal``
  row; those rows are the truth about which days a pass covers (a lapsed pass has a gap).
* Receivable = months x product price; the amount paid may be lower (a discount), never negative and
  never above the receivable. Paid money is one ledger row (kind ``pass_sale``) at the selling park.
* A plate cannot hold two active passes whose periods overlap at the same park. A pass anchored at a
  park covers that park; one anchored at a group covers every park of the group.
"""
from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, bindparam, func, or_, select

from app.audit import services as audit
from app.core.errors import Invalid
from app.core.plates import clean_plate, normalize_plate
from app.core.refs import ParkRef
from app.core.signals import pass_sold
from app.core.types import utcnow
from app.extensions import db, on_postgresql
from app.ledger.models import LedgerKind
from app.ledger.services import LedgerPosting, post, post_many
from app.members.models import MonthlyPass, MonthlyProduct, PassPlate, PassRenewal, PlateListEntry, ProductKind
from app.tariffs.engine import PassCoverage
from app.tenancy.models import City, Level, OperatingGroup, Park

PAY_METHODS = ("cash", "electronic", "card")
PASS_SALE = LedgerKind.PASS_SALE.value
MAX_MONTHS = 36
MAX_PLATES = 5
MAX_FEN = 100_000_000  # one million yuan: a sanity bound for one sale
WINDOW_KINDS = (ProductKind.DAY_WINDOW.value, ProductKind.NIGHT_WINDOW.value, ProductKind.DISCOUNT.value)
PRODUCT_KINDS = tuple(k.value for k in ProductKind)
PRODUCT_FIELDS = ("name", "kind", "price_fen", "window_start", "window_end", "discount_percent", "free_hours",
                  "vehicle_class", "valid_until", "active", "level", "group_id", "park_id")
PASS_FIELDS = ("holder_name", "phone", "starts_on", "ends_on", "state", "note", "product_id")
LIST_FIELDS = ("park_id", "plate", "kind", "reason", "valid_from", "valid_until", "active")
EXPIRING_DAYS = 7


class MemberError(Invalid):
    """A refusal tied to one form field (or None for the whole form)."""

    def __init__(self, field: str | None, message: str):
        super().__init__("member_refused", message, {field or "form": message})
        self.field = field

    def __str__(self) -> str:
        return self.message


# --- dates and arithmetic ----------------------------------------------------------------------

def add_months(start: date, months: int) -> date:
    """Calendar months; the day is clamped to the last day of a shorter month."""
    years, month0 = divmod(start.month - 1 + months, 12)
    year, month = start.year + years, month0 + 1
    return date(year, month, min(start.day, monthrange(year, month)[1]))


def period_end(start: date, months: int) -> date:
    return add_months(start, months) - timedelta(days=1)


def receivable_fen(product: MonthlyProduct, months: int) -> int:
    return months * product.price_fen


def local_today(zone: str, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(zone)).date()


def node_timezone(node) -> str:
    """The zone of a park, or of the city above any other node (platform: the default)."""
    if isinstance(node, Park):
        return node.timezone
    city_id = getattr(node, "city_id", None)
    city = db.session.get(City, city_id) if city_id else None
    return city.timezone if city else current_app.config["DEFAULT_TIMEZONE"]


def pass_today(pass_: MonthlyPass, now: datetime | None = None) -> date:
    return local_today(node_timezone(pass_.anchor_node), now)


def parse_plates(raw) -> list[str]:
    """A comma/space separated list (or a list) of plates, normalised, without repeats."""
    items = raw if isinstance(raw, (list, tuple)) else re.split(r"[,，;；/\n]+", raw or "")
    plates: list[str] = []
    for item in items:
        if not item or not str(item).strip():
            continue
        try:
            plate = normalize_plate(str(item))
        except Invalid:
            raise MemberError("plates", f"“{str(item)[:20]}” is not a plate: 4 to 10 letters, digits or "
                                        f"Chinese characters.") from None
        if plate not in plates:
            plates.append(plate)
    if not plates:
        raise MemberError("plates", "Give at least one plate.")
    if len(plates) > MAX_PLATES:
        raise MemberError("plates", f"A pass holds at most {MAX_PLATES} plates.")
    return plates


# --- coverage and overlap ------------------------------------------------------------------------

def covered_parks(anchor_level: str, group_id: int | None, park_id: int | None):
    """Parks a product or pass anchored like this covers."""
    if anchor_level == Level.PARK.value:
        return select(Park.id).where(Park.id == park_id)
    return select(Park.id).where(Park.group_id == group_id)


def _passes_covering_park(park: ParkRef):
    return or_(MonthlyPass.park_id == park.id,
               and_(MonthlyPass.level == Level.GROUP.value, MonthlyPass.group_id == park.group_id))


def _passes_sharing_a_park(level: str, group_id: int | None, park_id: int | None):
    if level == Level.PARK.value:
        return or_(MonthlyPass.park_id == park_id,
                   and_(MonthlyPass.level == Level.GROUP.value, MonthlyPass.group_id == group_id))
    return MonthlyPass.group_id == group_id


def _lock_group(group_id: int | None) -> None:
    """Sales of one group are serialised on PostgreSQL (SQLite serialises writers anyway), so two
    concurrent sales cannot both pass the overlap check."""
    if group_id is not None and on_postgresql():
        db.session.execute(select(OperatingGroup.id).where(OperatingGroup.id == group_id).with_for_update())


def find_overlap(plates: list[str], level: str, group_id: int | None, park_id: int | None,
                 periods: list[tuple[date, date]], exclude_pass_id: int | None = None):
    """The first (plate, pass, renewal) of another active pass that shares a park and a day."""
    periods = [(s, e) for s, e in periods if s <= e]
    if not plates or not periods:
        return None
    stmt = (select(PassPlate.plate, MonthlyPass, PassRenewal)
            .join(MonthlyPass, PassPlate.pass_id == MonthlyPass.id)
            .join(PassRenewal, PassRenewal.pass_id == MonthlyPass.id)
            .where(PassPlate.plate.in_(plates), MonthlyPass.state == "active",
                   _passes_sharing_a_park(level, group_id, park_id),
                   or_(*(and_(PassRenewal.starts_on <= e, PassRenewal.ends_on >= s) for s, e in periods)))
            .order_by(PassRenewal.starts_on).limit(1))
    if exclude_pass_id is not None:
        stmt = stmt.where(MonthlyPass.id != exclude_pass_id)
    return db.session.execute(stmt).first()


def _refuse_overlap(plates, level, group_id, park_id, periods, exclude_pass_id=None) -> None:
    hit = find_overlap(plates, level, group_id, park_id, periods, exclude_pass_id)
    if hit is not None:
        plate, other, renewal = hit
        raise MemberError("plates", f"Plate {plate} already has an active pass at this park from "
                                    f"{renewal.starts_on.isoformat()} to {renewal.ends_on.isoformat()} "
                                    f"(pass #{other.id}, {other.holder_name}).")


# --- products ------------------------------------------------------------------------------------

@dataclass
class ProductValues:
    anchor: Park | OperatingGroup  # where the product is sold
    name: str
    kind: str
    price_fen: int
    window_start: time | None = None
    window_end: time | None = None
    discount_percent: int | None = None
    free_hours: int | None = None
    vehicle_class: str = "small"
    valid_until: date | None = None


def check_product(values: ProductValues) -> None:
    if not isinstance(values.anchor, (Park, OperatingGroup)):
        raise MemberError("anchor", "Sell the product at one park or at a whole operating group.")
    if values.kind not in PRODUCT_KINDS:
        raise MemberError("kind", "Unknown product kind.")
    if not 0 <= values.price_fen <= MAX_FEN:
        raise MemberError("price", "The price is out of range.")
    if values.kind in WINDOW_KINDS:
        if values.window_start is None:
            raise MemberError("window_start", "A window product needs the window's start.")
        if values.window_end is None:
            raise MemberError("window_end", "A window product needs the window's end.")
        if values.window_start == values.window_end:
            raise MemberError("window_end", "The window's end must differ from its start.")
        if values.kind == ProductKind.DAY_WINDOW.value and values.window_end < values.window_start:
            raise MemberError("window_end", "A day window ends after it starts; use a night window for a "
                                            "window across midnight.")
    if values.kind == ProductKind.DISCOUNT.value and not (values.discount_percent and
                                                          1 <= values.discount_percent <= 100):
        raise MemberError("discount_percent", "Give the percent off inside the window, 1 to 100.")
    if values.kind == ProductKind.FREE_HOURS.value and not (values.free_hours and 1 <= values.free_hours <= 24):
        raise MemberError("free_hours", "Give the free hours of each stay, 1 to 24.")


def _product_snapshot(product: MonthlyProduct) -> dict:
    data = audit.snapshot(product, PRODUCT_FIELDS)
    for key in ("window_start", "window_end"):
        data[key] = data[key].strftime("%H:%M") if data[key] is not None else None
    return data


def save_product(actor, product: MonthlyProduct | None, values: ProductValues, ip: str | None = None):
    check_product(values)
    creating = product is None
    product = product or MonthlyProduct()
    before = None if creating else _product_snapshot(product)
    anchor_changes = creating or (product.level, product.group_id, product.park_id) != (
        values.anchor.level.value, values.anchor.group_id, values.anchor.park_id)
    if not creating and anchor_changes and db.session.scalar(
            select(func.count()).select_from(MonthlyPass).where(MonthlyPass.product_id == product.id)):
        raise MemberError("anchor", "Passes were sold on this product: it stays where it is sold.")
    same_name = select(MonthlyProduct.id).where(
        func.lower(MonthlyProduct.name) == values.name.strip().lower(),
        MonthlyProduct.level == values.anchor.level.value,
        (MonthlyProduct.park_id == values.anchor.id) if isinstance(values.anchor, Park)
        else (MonthlyProduct.group_id == values.anchor.id))
    if product.id is not None:
        same_name = same_name.where(MonthlyProduct.id != product.id)
    if db.session.scalar(same_name.limit(1)) is not None:
        raise MemberError("name", "Another product here already has this name.")
    window = values.kind in WINDOW_KINDS
    product.anchor_at(values.anchor)
    product.name = values.name.strip()
    product.kind = values.kind
    product.price_fen = values.price_fen
    product.window_start = values.window_start if window else None
    product.window_end = values.window_end if window else None
    product.discount_percent = values.discount_percent if values.kind == ProductKind.DISCOUNT.value else None
    product.free_hours = values.free_hours if values.kind == ProductKind.FREE_HOURS.value else None
    product.vehicle_class = values.vehicle_class or "small"
    product.valid_until = values.valid_until
    if creating:
        product.active = True
        db.session.add(product)
    db.session.flush()
    audit.record(actor, "create" if creating else "update", product, before=before,
                 after=_product_snapshot(product), ip=ip)
    return product


def set_product_active(actor, product: MonthlyProduct, active: bool, ip: str | None = None) -> None:
    """A disabled product is no longer sold or renewed; passes already sold keep covering."""
    before = audit.snapshot(product, ("active",))
    product.active = active
    audit.record(actor, "enable" if active else "disable", product, before=before,
                 after=audit.snapshot(product, ("active",)), ip=ip)


def product_parks(product: MonthlyProduct, scope=None) -> list[Park]:
    """Parks where the product's passes are valid (and so may be sold), inside `scope` if given."""
    stmt = select(Park).where(Park.id.in_(covered_parks(product.level, product.group_id, product.park_id)),
                              Park.active.is_(True))
    if scope is not None:
        stmt = stmt.where(scope.clause(Park))
    return list(db.session.scalars(stmt.order_by(Park.name)))


def product_covers(product: MonthlyProduct, park: Park) -> bool:
    if product.level == Level.PARK.value:
        return product.park_id == park.id
    return product.level == Level.GROUP.value and product.group_id == park.group_id


# --- passes --------------------------------------------------------------------------------------

def _check_sale(product: MonthlyProduct, selling_park: Park | None, months, paid_fen, method) -> int:
    if product is None or not product.active:
        raise MemberError("product_id", "This product is disabled; it is no longer sold.")
    if selling_park is None:
        raise MemberError("selling_park_id", "Choose the park that takes the money.")
    if not product_covers(product, selling_park):
        raise MemberError("selling_park_id", "The product is not valid at that park.")
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= MAX_MONTHS:
        raise MemberError("months", f"Sell 1 to {MAX_MONTHS} months.")
    receivable = receivable_fen(product, months)
    if paid_fen is None:
        paid_fen = receivable
    if not isinstance(paid_fen, int) or paid_fen < 0:
        raise MemberError("paid", "The amount paid cannot be negative.")
    if paid_fen > receivable:
        raise MemberError("paid", "The amount paid cannot be more than the amount receivable.")
    if method not in PAY_METHODS:
        raise MemberError("method", "Pay by cash, electronic payment or card.")
    return paid_fen


def _check_valid_until(product: MonthlyProduct, ends_on: date) -> None:
    if product.valid_until is not None and ends_on > product.valid_until:
        raise MemberError("months", f"The product is sold only for periods ending by "
                                    f"{product.valid_until.isoformat()}; this one would end on "
                                    f"{ends_on.isoformat()}.")


def _book(actor, pass_: MonthlyPass, kind: str, park: Park, months: int, starts_on: date, ends_on: date,
          receivable: int, paid: int, method: str, at: datetime) -> tuple[PassRenewal, LedgerPosting | None]:
    """The sale record, added to the session, and the ledger posting of its money (None when nothing was
    paid), for the caller to post."""
    renewal = PassRenewal(pass_id=pass_.id, park_id=park.id, kind=kind, months=months, starts_on=starts_on,
                          ends_on=ends_on, receivable_fen=receivable, paid_fen=paid, method=method,
                          sold_by_id=getattr(actor, "id", None), at=at)
    db.session.add(renewal)
    money = LedgerPosting(park_id=park.id, kind=PASS_SALE, method=method, amount_fen=paid, occurred_at=at,
                          collector_id=getattr(actor, "id", None)) if paid > 0 else None
    return renewal, money


def _post(money: LedgerPosting | None) -> None:
    if money is not None:
        post(money)


def sell_pass(actor, *, product: MonthlyProduct, selling_park: Park | None, holder_name: str,
              phone: str | None, plates, starts_on: date, months: int, paid_fen: int | None = None,
              method: str = "cash", note: str | None = None, now: datetime | None = None,
              ip: str | None = None) -> MonthlyPass:
    """注册会员: a new pass, its sale record and its ledger row."""
    paid_fen = _check_sale(product, selling_park, months, paid_fen, method)
    holder_name = (holder_name or "").strip()
    if not holder_name:
        raise MemberError("holder_name", "Give the holder's name.")
    if starts_on is None:
        raise MemberError("starts_on", "Give the start date.")
    plates = parse_plates(plates)
    ends_on = period_end(starts_on, months)
    _check_valid_until(product, ends_on)
    _lock_group(product.group_id)
    _refuse_overlap(plates, product.level, product.group_id, product.park_id, [(starts_on, ends_on)])
    at = now or utcnow()
    pass_ = MonthlyPass(product_id=product.id, holder_name=holder_name[:80], phone=(phone or "").strip() or None,
                        starts_on=starts_on, ends_on=ends_on, state="active", note=(note or "").strip() or None)
    pass_.anchor_at(product.anchor_node)
    pass_.plates = [PassPlate(plate=p) for p in plates]
    db.session.add(pass_)
    db.session.flush()
    receivable = receivable_fen(product, months)
    _post(_book(actor, pass_, "sale", selling_park, months, starts_on, ends_on, receivable, paid_fen, method, at)[1])
    audit.record(actor, "create", pass_, label=f"{pass_.holder_name} ({', '.join(plates)})",
                 after={**audit.snapshot(pass_, PASS_FIELDS), "plates": plates, "months": months,
                        "receivable_fen": receivable, "paid_fen": paid_fen, "method": method,
                        "selling_park_id": selling_park.id}, ip=ip)
    pass_sold.send(selling_park.id if selling_park else None, pass_=pass_, plates=plates, paid_fen=paid_fen, at=at)
    return pass_


def renewal_start(pass_: MonthlyPass, today: date) -> date:
    """The day after the current end, or today when the pass has lapsed."""
    return max(pass_.ends_on + timedelta(days=1), today)


def renew_pass(actor, pass_: MonthlyPass, *, months: int, selling_park: Park | None, paid_fen: int | None = None,
               method: str = "cash", now: datetime | None = None, ip: str | None = None) -> PassRenewal:
    """续费: extend the pass by `months` from its current end (or from today if it lapsed)."""
    if pass_.state != "active":
        raise MemberError(None, "A cancelled pass cannot be renewed.")
    product = pass_.product
    paid_fen = _check_sale(product, selling_park, months, paid_fen, method)
    today = local_today(selling_park.timezone, now)
    starts_on = renewal_start(pass_, today)
    ends_on = period_end(starts_on, months)
    _check_valid_until(product, ends_on)
    _lock_group(pass_.group_id)
    _refuse_overlap([p.plate for p in pass_.plates], pass_.level, pass_.group_id, pass_.park_id,
                    [(starts_on, ends_on)], exclude_pass_id=pass_.id)
    before = audit.snapshot(pass_, ("ends_on",))
    pass_.ends_on = ends_on
    receivable = receivable_fen(product, months)
    renewal, money = _book(actor, pass_, "renewal", selling_park, months, starts_on, ends_on, receivable, paid_fen,
                           method, now or utcnow())
    _post(money)
    audit.record(actor, "renew", pass_, label=_pass_label(pass_), before=before,
                 after={**audit.snapshot(pass_, ("ends_on",)), "months": months, "starts_on": starts_on.isoformat(),
                        "receivable_fen": receivable, "paid_fen": paid_fen, "method": method,
                        "selling_park_id": selling_park.id}, ip=ip)
    return renewal


def pass_periods(pass_: MonthlyPass) -> list[tuple[date, date]]:
    return [(r.starts_on, r.ends_on) for r in db.session.scalars(
        select(PassRenewal).where(PassRenewal.pass_id == pass_.id).order_by(PassRenewal.starts_on))]


def change_plates(actor, pass_: MonthlyPass, plates, now: datetime | None = None, ip: str | None = None) -> None:
    """修改车牌: the new plates must not overlap another active pass from today on."""
    if pass_.state != "active":
        raise MemberError("plates", "The plates of a cancelled pass cannot change.")
    plates = parse_plates(plates)
    today = pass_today(pass_, now)
    periods = [(max(s, today), e) for s, e in pass_periods(pass_) or [(pass_.starts_on, pass_.ends_on)]]
    _lock_group(pass_.group_id)
    _refuse_overlap(plates, pass_.level, pass_.group_id, pass_.park_id, periods, exclude_pass_id=pass_.id)
    before = [p.plate for p in pass_.plates]
    if before == plates:
        return
    keep = {p.plate: p for p in pass_.plates}
    pass_.plates = [keep.get(p) or PassPlate(plate=p) for p in plates]
    audit.record(actor, "change_plates", pass_, label=_pass_label(pass_), before={"plates": before},
                 after={"plates": plates}, ip=ip)


def update_pass(actor, pass_: MonthlyPass, *, holder_name: str, phone: str | None, note: str | None,
                ip: str | None = None) -> None:
    holder_name = (holder_name or "").strip()
    if not holder_name:
        raise MemberError("holder_name", "Give the holder's name.")
    before = audit.snapshot(pass_, PASS_FIELDS)
    pass_.holder_name = holder_name[:80]
    pass_.phone = (phone or "").strip() or None
    pass_.note = (note or "").strip()[:200] or None
    audit.record(actor, "update", pass_, label=_pass_label(pass_), before=before,
                 after=audit.snapshot(pass_, PASS_FIELDS), ip=ip)


def cancel_pass(actor, pass_: MonthlyPass, reason: str, ip: str | None = None) -> None:
    """Cancel with a reason; no money moves (a refund, if any, is outside this system)."""
    reason = (reason or "").strip()
    if not reason:
        raise MemberError("reason", "Say why the pass is cancelled.")
    if pass_.state != "active":
        raise MemberError("reason", "The pass is already cancelled.")
    before = audit.snapshot(pass_, ("state", "note"))
    pass_.state = "cancelled"
    pass_.note = f"{(pass_.note + ' | ') if pass_.note else ''}cancelled: {reason}"[:200]
    audit.record(actor, "cancel", pass_, label=_pass_label(pass_), before=before,
                 after={**audit.snapshot(pass_, ("state", "note")), "reason": reason}, ip=ip)


def _pass_label(pass_: MonthlyPass) -> str:
    return f"{pass_.holder_name} ({', '.join(p.plate for p in pass_.plates)})"[:200]


def pass_state(pass_: MonthlyPass, today: date) -> str:
    if pass_.state != "active":
        return "cancelled"
    if pass_.ends_on < today:
        return "expired"
    if pass_.ends_on <= today + timedelta(days=EXPIRING_DAYS):
        return "expiring"
    if pass_.starts_on > today:
        return "future"
    return "active"


# --- what covers a plate: lists and passes, as the fee computation asks ----------------------------

def on_plate_list(kind: str, park_id, plate, at):
    """The plate is on the park's black or white list (黑名单/白名单), its entry active and in force at `at`:
    values or another query's columns."""
    entry = PlateListEntry
    return and_(entry.park_id == park_id, entry.plate == plate, entry.kind == kind, entry.active.is_(True),
                entry.valid_from.is_(None) | (entry.valid_from <= at),
                entry.valid_until.is_(None) | (entry.valid_until > at))


_LIST, _PASS_PLATES = PlateListEntry.__table__.c, PassPlate.__table__.c


def black_listed_column(park_id, plate, at):
    """Whether the plate is black-listed: a flag for bound values or another query's columns."""
    return select(_LIST.id).where(on_plate_list("black", park_id, plate, at)).exists().label("blacklisted")


def white_or_pass_columns(park_id, plate, at) -> tuple:
    """Is the plate white-listed at the park at `at`, has it any monthly pass: two flags for bound
    values or for another query's columns (an order's), so they come along with its row."""
    return (select(_LIST.id).where(on_plate_list("white", park_id, plate, at)).exists().label("white_listed"),
            select(_PASS_PLATES.id).where(_PASS_PLATES.plate == plate).exists().label("any_pass"))


_BLACKLISTED = select(PlateListEntry).where(
    on_plate_list("black", bindparam("park_id"), bindparam("plate"), bindparam("at"))).limit(1)


def blacklisted(park_id: int, plate: str, at: datetime) -> PlateListEntry | None:
    """The black-list entry of the plate at the park in force at `at`, if any."""
    return db.session.scalar(_BLACKLISTED, {"park_id": park_id, "plate": plate, "at": at})


def _coverage_kind(product: MonthlyProduct, valid_from: date, valid_until: date) -> PassCoverage:
    def hhmm(t):
        return t.strftime("%H:%M") if t is not None else None

    kind = product.kind
    if kind == ProductKind.DISCOUNT.value:
        return PassCoverage("discount", hhmm(product.window_start), hhmm(product.window_end),
                            percent=product.discount_percent or 100, valid_from=valid_from, valid_until=valid_until)
    if kind in (ProductKind.DAY_WINDOW.value, ProductKind.NIGHT_WINDOW.value):
        return PassCoverage(kind, hhmm(product.window_start), hhmm(product.window_end),
                            valid_from=valid_from, valid_until=valid_until)
    if kind == ProductKind.FREE_HOURS.value:
        return PassCoverage("free_hours", hours=product.free_hours or 1, valid_from=valid_from,
                            valid_until=valid_until)
    return PassCoverage("all_day", valid_from=valid_from, valid_until=valid_until)


def pass_for(park: ParkRef, plate: str, at: datetime) -> PassCoverage | None:
    """The coverage of the plate's active pass valid at `park` on the park-local day of `at`, or None.
    Validity runs over the renewal periods around that day that follow one another without a gap."""
    try:
        plate = normalize_plate(plate)
    except Invalid:
        return None
    day = at.astimezone(ZoneInfo(park.timezone)).date()
    row = db.session.execute(
        select(MonthlyPass, PassRenewal)
        .join(PassPlate, PassPlate.pass_id == MonthlyPass.id)
        .join(PassRenewal, PassRenewal.pass_id == MonthlyPass.id)
        .where(PassPlate.plate == plate, MonthlyPass.state == "active", _passes_covering_park(park),
               PassRenewal.starts_on <= day, PassRenewal.ends_on >= day)
        .order_by(MonthlyPass.id).limit(1)).first()
    if row is None:
        return None
    pass_ = row[0]
    low, high = row[1].starts_on, row[1].ends_on
    periods = pass_periods(pass_)
    changed = True
    while changed:
        changed = False
        for s, e in periods:
            if s < low <= e + timedelta(days=1):
                low, changed = s, True
            if s <= high + timedelta(days=1) and e > high:
                high, changed = e, True
    return _coverage_kind(pass_.product, low, high)


def white_listed(park_id: int, plate: str, at: datetime) -> bool:
    try:
        plate = normalize_plate(plate)
    except Invalid:
        return False
    return db.session.scalar(select(PlateListEntry.id).where(
        on_plate_list("white", park_id, plate, at)).limit(1)) is not None


_WHITE_OR_PASS = select(*white_or_pass_columns(bindparam("park_id"), bindparam("plate"), bindparam("at")))


def white_listed_or_pass(park: ParkRef, plate: str, at: datetime, flags: tuple | None = None
                         ) -> tuple[bool, PassCoverage | None]:
    """(`white_listed`, `pass_for`) in one cheap query for the plate that has neither, as most have;
    `flags` are the two already read with `white_or_pass_columns`."""
    try:
        plate = normalize_plate(plate)
    except Invalid:
        return False, None
    white, any_pass = flags or db.session.execute(
        _WHITE_OR_PASS, {"park_id": park.id, "plate": plate, "at": at}).one()
    if white:
        return True, None
    return False, pass_for(park, plate, at) if any_pass else None


WHITE_LIST_COVERAGE = PassCoverage(kind="all_day")


def coverage(park: ParkRef, plate: str, at: datetime, flags: tuple | None = None) -> PassCoverage | None:
    """What covers the plate's stay from `at`: a white-listed plate parks free, a monthly pass covers what
    its product says, else None. `flags`: see white_listed_or_pass."""
    white, pass_ = white_listed_or_pass(park, plate, at, flags)
    return WHITE_LIST_COVERAGE if white else pass_


# --- white and black lists -----------------------------------------------------------------------

def local_day_start(zone: str, day: date | None) -> datetime | None:
    """Midnight of a park-local day, as an aware datetime (stored in UTC)."""
    if day is None:
        return None
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))


def entry_dates(entry: PlateListEntry, zone: str) -> tuple[date | None, date | None]:
    """The inclusive local dates of an entry (valid_until is stored as the next midnight)."""
    tz = ZoneInfo(zone)
    start = entry.valid_from.astimezone(tz).date() if entry.valid_from else None
    end = (entry.valid_until - timedelta(seconds=1)).astimezone(tz).date() if entry.valid_until else None
    return start, end


def save_list_entry(actor, entry: PlateListEntry | None, *, kind: str, park: Park, plate: str,
                    reason: str | None, valid_from: date | None, valid_until: date | None,
                    ip: str | None = None) -> PlateListEntry:
    if kind not in ("white", "black"):
        raise MemberError(None, "Unknown list.")
    if park is None:
        raise MemberError("park_id", "Choose the park.")
    try:
        plate = normalize_plate(plate)
    except Invalid:
        raise MemberError("plate", "A plate is 4 to 10 letters, digits or Chinese characters.") from None
    reason = (reason or "").strip() or None
    if kind == "black" and not reason:
        raise MemberError("reason", "Say why the plate is on the black list.")
    if valid_from and valid_until and valid_until < valid_from:
        raise MemberError("valid_until", "The end date is before the start date.")
    start = local_day_start(park.timezone, valid_from)
    stop = local_day_start(park.timezone, valid_until + timedelta(days=1)) if valid_until else None
    clash = select(PlateListEntry.id).where(
        PlateListEntry.park_id == park.id, PlateListEntry.plate == plate, PlateListEntry.kind == kind,
        PlateListEntry.active.is_(True))
    if stop is not None:  # intervals [from, until) overlap; None is open-ended
        clash = clash.where(PlateListEntry.valid_from.is_(None) | (PlateListEntry.valid_from < stop))
    if start is not None:
        clash = clash.where(PlateListEntry.valid_until.is_(None) | (PlateListEntry.valid_until > start))
    if entry is not None and entry.id is not None:
        clash = clash.where(PlateListEntry.id != entry.id)
    if db.session.scalar(clash.limit(1)) is not None:
        raise MemberError("plate", "This plate is already on the list at this park for these dates.")
    creating = entry is None
    before = None if creating else audit.snapshot(entry, LIST_FIELDS)
    entry = entry or PlateListEntry(kind=kind, active=True)
    entry.park_id, entry.plate, entry.reason = park.id, plate, reason
    entry.valid_from, entry.valid_until = start, stop
    if creating:
        db.session.add(entry)
    db.session.flush()
    audit.record(actor, "create" if creating else "update", entry, anchor=park,
                 label=f"{kind} list {plate}", before=before, after=audit.snapshot(entry, LIST_FIELDS), ip=ip)
    return entry


def deactivate_list_entry(actor, entry: PlateListEntry, reason: str, ip: str | None = None) -> None:
    """漂白 (black list) or removal (white list): the entry stays, inactive, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise MemberError("reason", "Say why the entry is lifted.")
    if not entry.active:
        raise MemberError("reason", "The entry is already inactive.")
    before = audit.snapshot(entry, ("active", "reason"))
    entry.active = False
    word = "whitewashed" if entry.kind == "black" else "removed"
    entry.reason = f"{(entry.reason + ' · ') if entry.reason else ''}{word}: {reason}"[:200]
    audit.record(actor, "whitewash" if entry.kind == "black" else "deactivate", entry,
                 anchor=db.session.get(Park, entry.park_id), label=f"{entry.kind} list {entry.plate}",
                 before=before, after={**audit.snapshot(entry, ("active", "reason")), "why": reason}, ip=ip)


# --- list queries (pages and exports share them) -----------------------------------------------

def _text(params, key: str, limit: int = 80) -> str:
    value = params.get(key) if params else None
    return str(value).strip()[:limit] if value not in (None, "") else ""


def _int(params, key: str) -> int | None:
    value = _text(params, key, 12)
    return int(value) if value.isdigit() else None


def _day(params, key: str) -> date | None:
    try:
        return date.fromisoformat(_text(params, key, 10)) if _text(params, key) else None
    except ValueError:
        return None


def filter_node(scope, key: str):
    """A 'level:id' key resolved inside the scope; None when absent or outside."""
    from app.tenancy.web import node_from_key  # (keeps services importable without the web layer loaded)

    if not key or key == "platform":
        return None
    return node_from_key(scope, key) or None


def scope_timezone(scope) -> str:
    return node_timezone(scope.node) if scope.node is not None else current_app.config["DEFAULT_TIMEZONE"]


def _like(value: str) -> str:
    return "%" + value.replace("\\", "").replace("%", "").replace("_", "") + "%"


def _plate_like(value: str) -> str:
    return _like(clean_plate(value))


def _node_passes(node):
    if isinstance(node, Park):
        return _passes_covering_park(node)
    if isinstance(node, OperatingGroup):
        return MonthlyPass.group_id == node.id
    if isinstance(node, City):
        return MonthlyPass.city_id == node.id
    # an area: passes of its parks and group passes of its group
    return or_(MonthlyPass.area_id == node.id,
               and_(MonthlyPass.level == Level.GROUP.value, MonthlyPass.group_id == node.group_id))


def pass_query(scope, params, today: date | None = None):
    today = today or local_today(scope_timezone(scope))
    stmt = scope.select(MonthlyPass)
    node = filter_node(scope, _text(params, "node"))
    if node is not None:
        stmt = stmt.where(_node_passes(node))
    if plate := _text(params, "plate", 16):
        stmt = stmt.where(MonthlyPass.id.in_(select(PassPlate.pass_id).where(PassPlate.plate.like(_plate_like(plate)))))
    if holder := _text(params, "holder"):
        stmt = stmt.where(or_(MonthlyPass.holder_name.ilike(_like(holder)), MonthlyPass.phone.ilike(_like(holder))))
    if (product_id := _int(params, "product_id")) is not None:
        stmt = stmt.where(MonthlyPass.product_id == product_id)
    state = _text(params, "state", 16)
    active = MonthlyPass.state == "active"
    if state == "active":
        stmt = stmt.where(active, MonthlyPass.ends_on >= today)
    elif state == "expiring":
        stmt = stmt.where(active, MonthlyPass.ends_on >= today,
                          MonthlyPass.ends_on <= today + timedelta(days=EXPIRING_DAYS))
    elif state == "expired":
        stmt = stmt.where(active, MonthlyPass.ends_on < today)
    elif state == "cancelled":
        stmt = stmt.where(MonthlyPass.state == "cancelled")
    return stmt.order_by(MonthlyPass.ends_on.desc(), MonthlyPass.id.desc())


def _utc_day_bounds(zone: str, start: date | None, end: date | None):
    return local_day_start(zone, start), local_day_start(zone, end + timedelta(days=1)) if end else None


def renewal_query(scope, params, *entities):
    stmt = scope.select(PassRenewal, *entities).join(MonthlyPass, MonthlyPass.id == PassRenewal.pass_id)
    node = filter_node(scope, _text(params, "node"))
    if node is not None:
        stmt = stmt.where(PassRenewal.park_id.in_(select(Park.id).where(
            Park.id == node.id if isinstance(node, Park) else getattr(Park, f"{node.level.value}_id") == node.id)))
    if plate := _text(params, "plate", 16):
        stmt = stmt.where(MonthlyPass.id.in_(select(PassPlate.pass_id).where(PassPlate.plate.like(_plate_like(plate)))))
    if holder := _text(params, "holder"):
        stmt = stmt.where(MonthlyPass.holder_name.ilike(_like(holder)))
    if (pass_id := _int(params, "pass_no")) is not None:
        stmt = stmt.where(PassRenewal.pass_id == pass_id)
    if (kind := _text(params, "kind", 16)) in ("sale", "renewal"):
        stmt = stmt.where(PassRenewal.kind == kind)
    if (method := _text(params, "method", 16)) in PAY_METHODS:
        stmt = stmt.where(PassRenewal.method == method)
    low, high = _utc_day_bounds(scope_timezone(scope), _day(params, "date_from"), _day(params, "date_to"))
    if low is not None:
        stmt = stmt.where(PassRenewal.at >= low)
    if high is not None:
        stmt = stmt.where(PassRenewal.at < high)
    return stmt


def renewal_totals(scope, params) -> dict:
    base = renewal_query(scope, params).with_only_columns(
        func.count(PassRenewal.id), func.coalesce(func.sum(PassRenewal.receivable_fen), 0),
        func.coalesce(func.sum(PassRenewal.paid_fen), 0), func.coalesce(func.sum(PassRenewal.months), 0))
    count, receivable, paid, months = db.session.execute(base).one()
    return {"count": count, "receivable_fen": int(receivable), "paid_fen": int(paid), "months": int(months)}


def list_entry_query(scope, kind: str, params):
    stmt = scope.select(PlateListEntry).where(PlateListEntry.kind == kind)
    node = filter_node(scope, _text(params, "node"))
    if node is not None:
        stmt = stmt.where(PlateListEntry.park_id.in_(select(Park.id).where(
            Park.id == node.id if isinstance(node, Park) else getattr(Park, f"{node.level.value}_id") == node.id)))
    if plate := _text(params, "plate", 16):
        stmt = stmt.where(PlateListEntry.plate.like(_plate_like(plate)))
    if reason := _text(params, "reason"):
        stmt = stmt.where(PlateListEntry.reason.ilike(_like(reason)))
    if (status := _text(params, "status", 16)) in ("active", "inactive"):
        stmt = stmt.where(PlateListEntry.active.is_(status == "active"))
    return stmt.order_by(PlateListEntry.created_at.desc(), PlateListEntry.id.desc())


def product_query(scope, params):
    stmt = scope.select(MonthlyProduct)
    node = filter_node(scope, _text(params, "node"))
    if isinstance(node, Park):
        stmt = stmt.where(or_(MonthlyProduct.park_id == node.id, and_(MonthlyProduct.level == Level.GROUP.value,
                                                                       MonthlyProduct.group_id == node.group_id)))
    elif node is not None:
        stmt = stmt.where(getattr(MonthlyProduct, f"{node.level.value}_id") == node.id)
    if name := _text(params, "q"):
        stmt = stmt.where(MonthlyProduct.name.ilike(_like(name)))
    if (status := _text(params, "status", 16)) in ("active", "inactive"):
        stmt = stmt.where(MonthlyProduct.active.is_(status == "active"))
    return stmt.order_by(MonthlyProduct.name, MonthlyProduct.id)


def sellable_products(scope) -> list[MonthlyProduct]:
    return list(db.session.scalars(scope.select(MonthlyProduct).where(MonthlyProduct.active.is_(True))
                                   .order_by(MonthlyProduct.name)))


def anchor_label(obj) -> str:
    node = obj.anchor_node
    if node is None:
        return "—"
    if isinstance(node, OperatingGroup):
        return f"{node.name} (all parks)"
    return node.name


def selling_park_of(pass_: MonthlyPass) -> Park | None:
    first = db.session.scalar(select(PassRenewal).where(PassRenewal.pass_id == pass_.id)
                              .order_by(PassRenewal.at, PassRenewal.id).limit(1))
    return first.park if first else None


# --- bulk writes (Excel imports) ------------------------------------------------------------------
# The same checks and rows as sell_pass / save_list_entry, for thousands of rows at once: the
# lookups are one query per 500 plates instead of one per row, and the rows go in one flush.

BULK_CHUNK = 500


def _chunks(items: list, size: int = BULK_CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass
class PassSale:
    """One pass of a bulk sale; `key` tells the caller which of its rows it was."""
    key: object
    product: MonthlyProduct | None
    selling_park: Park | None
    holder_name: str
    phone: str | None
    plates: object
    starts_on: date | None
    months: int
    paid_fen: int | None = None
    method: str = "cash"
    note: str | None = None


def _active_pass_periods(plates: set[str]) -> dict[str, list]:
    """plate -> [(starts_on, ends_on, level, group_id, park_id, pass id, holder)] of active passes."""
    found: dict[str, list] = {}
    for chunk in _chunks(sorted(plates)):
        for row in db.session.execute(
                select(PassPlate.plate, PassRenewal.starts_on, PassRenewal.ends_on, MonthlyPass.level,
                       MonthlyPass.group_id, MonthlyPass.park_id, MonthlyPass.id, MonthlyPass.holder_name)
                .join(MonthlyPass, PassPlate.pass_id == MonthlyPass.id)
                .join(PassRenewal, PassRenewal.pass_id == MonthlyPass.id)
                .where(PassPlate.plate.in_(chunk), MonthlyPass.state == "active")):
            found.setdefault(row[0], []).append(tuple(row[1:]))
    return found


def _shares_a_park(level: str, group_id, park_id, other_level: str, other_group_id, other_park_id) -> bool:
    """_passes_sharing_a_park, for one pair already in memory."""
    if level == Level.PARK.value:
        return other_park_id == park_id or (other_level == Level.GROUP.value and other_group_id == group_id)
    return other_group_id == group_id


def sell_passes(actor, sales: list[PassSale], now: datetime | None = None,
                ip: str | None = None) -> list[tuple[object, MemberError]]:
    """注册会员 in bulk: for each sale what sell_pass writes (pass, plates, sale record, ledger row,
    audit entry). Returns the refusals as (key, error); when there is one, nothing was added."""
    refusals, ready = [], []
    for sale in sales:
        try:
            paid = _check_sale(sale.product, sale.selling_park, sale.months, sale.paid_fen, sale.method)
            holder = (sale.holder_name or "").strip()
            if not holder:
                raise MemberError("holder_name", "Give the holder's name.")
            if sale.starts_on is None:
                raise MemberError("starts_on", "Give the start date.")
            plates = parse_plates(sale.plates)
            ends_on = period_end(sale.starts_on, sale.months)
            _check_valid_until(sale.product, ends_on)
        except MemberError as exc:
            refusals.append((sale.key, exc))
        else:
            ready.append((sale, holder, plates, paid, ends_on))
    for group_id in sorted({sale.product.group_id for sale, *_rest in ready if sale.product.group_id}):
        _lock_group(group_id)
    taken = _active_pass_periods({plate for _s, _h, plates, _p, _e in ready for plate in plates})
    for sale, holder, plates, _paid, ends_on in ready:
        p = sale.product
        hits = [(s, e, plate, other_id, other_holder) for plate in plates
                for s, e, level, group_id, park_id, other_id, other_holder in taken.get(plate, ())
                if s <= ends_on and e >= sale.starts_on
                and _shares_a_park(p.level, p.group_id, p.park_id, level, group_id, park_id)]
        if hits:
            s, e, plate, other_id, other_holder = min(hits, key=lambda h: h[0])
            refusals.append((sale.key, MemberError(
                "plates", f"Plate {plate} already has an active pass at this park from {s.isoformat()} to "
                          f"{e.isoformat()} (pass #{other_id or '?'}, {other_holder}).")))
            continue
        for plate in plates:  # later sales of the batch must not overlap this one either
            taken.setdefault(plate, []).append((sale.starts_on, ends_on, p.level, p.group_id, p.park_id, None,
                                                holder))
    if refusals:
        return refusals
    at = now or utcnow()
    passes = []
    for sale, holder, plates, _paid, ends_on in ready:
        pass_ = MonthlyPass(product_id=sale.product.id, holder_name=holder[:80],
                            phone=(sale.phone or "").strip() or None, starts_on=sale.starts_on, ends_on=ends_on,
                            state="active", note=(sale.note or "").strip() or None)
        pass_.anchor_at(sale.product.anchor_node)
        pass_.plates = [PassPlate(plate=plate) for plate in plates]
        passes.append(pass_)
    db.session.add_all(passes)
    db.session.flush()  # one batched insert; the sale records need the ids
    money = []
    for pass_, (sale, _holder, plates, paid, ends_on) in zip(passes, ready):
        receivable = receivable_fen(sale.product, sale.months)
        money.append(_book(actor, pass_, "sale", sale.selling_park, sale.months, sale.starts_on, ends_on,
                           receivable, paid, sale.method, at)[1])
        audit.record(actor, "create", pass_, label=f"{pass_.holder_name} ({', '.join(plates)})",
                     after={**audit.snapshot(pass_, PASS_FIELDS), "plates": plates, "months": sale.months,
                            "receivable_fen": receivable, "paid_fen": paid, "method": sale.method,
                            "selling_park_id": sale.selling_park.id}, ip=ip)
    post_many([posting for posting in money if posting is not None])
    return []


@dataclass
class ListEntryValues:
    """One white or black list entry of a bulk import; `key` tells the caller which row it was."""
    key: object
    park: Park | None
    plate: str
    reason: str | None
    valid_from: date | None
    valid_until: date | None


def add_list_entries(actor, kind: str, items: list[ListEntryValues],
                     ip: str | None = None) -> list[tuple[object, MemberError]]:
    """save_list_entry (new entries) in bulk. Returns the refusals as (key, error); when there is
    one, nothing was added."""
    if kind not in ("white", "black"):
        raise MemberError(None, "Unknown list.")
    refusals, ready = [], []
    for item in items:
        try:
            if item.park is None:
                raise MemberError("park_id", "Choose the park.")
            try:
                plate = normalize_plate(item.plate)
            except Invalid:
                raise MemberError("plate", "A plate is 4 to 10 letters, digits or Chinese characters.") from None
            reason = (item.reason or "").strip() or None
            if kind == "black" and not reason:
                raise MemberError("reason", "Say why the plate is on the black list.")
            if item.valid_from and item.valid_until and item.valid_until < item.valid_from:
                raise MemberError("valid_until", "The end date is before the start date.")
        except MemberError as exc:
            refusals.append((item.key, exc))
            continue
        start = local_day_start(item.park.timezone, item.valid_from)
        stop = local_day_start(item.park.timezone, item.valid_until + timedelta(days=1)) if item.valid_until else None
        ready.append((item, plate, reason, start, stop))
    existing: dict[tuple[int, str], list] = {}
    park_ids = sorted({item.park.id for item, *_rest in ready})
    for chunk in _chunks(sorted({plate for _i, plate, *_rest in ready})):
        for park_id, plate, start, stop in db.session.execute(
                select(PlateListEntry.park_id, PlateListEntry.plate, PlateListEntry.valid_from,
                       PlateListEntry.valid_until)
                .where(PlateListEntry.plate.in_(chunk), PlateListEntry.park_id.in_(park_ids),
                       PlateListEntry.kind == kind, PlateListEntry.active.is_(True))):
            existing.setdefault((park_id, plate), []).append((start, stop))
    for item, plate, _reason, start, stop in ready:
        # intervals [from, until) overlap; None is open-ended
        if any((stop is None or s is None or s < stop) and (start is None or e is None or e > start)
               for s, e in existing.get((item.park.id, plate), ())):
            refusals.append((item.key, MemberError(
                "plate", "This plate is already on the list at this park for these dates.")))
        else:
            existing.setdefault((item.park.id, plate), []).append((start, stop))
    if refusals:
        return refusals
    entries = [PlateListEntry(kind=kind, active=True, park_id=item.park.id, plate=plate, reason=reason,
                              valid_from=start, valid_until=stop) for item, plate, reason, start, stop in ready]
    db.session.add_all(entries)
    db.session.flush()
    for entry, (item, plate, *_rest) in zip(entries, ready):
        audit.record(actor, "create", entry, anchor=item.park, label=f"{kind} list {plate}",
                     after=audit.snapshot(entry, LIST_FIELDS), ip=ip)
    return []
