"""Demo street operations: segments, berths, handhelds, free reasons and 30 days of history
(orders, prepayments, settlements, escapes and recoveries) written in bulk, so the product
looks alive on first start. Idempotent: a park that already has orders keeps them."""
from __future__ import annotations

import functools
import io
import random
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from app.berths.models import Berth, BerthSegment
from app.core.types import utcnow
from app.devices.models import Handheld, HandheldStatus
from app.extensions import db
from app.ledger.models import LedgerEntry
from app.orders.models import Arrear, OrderPhoto, ParkingOrder
from app.orders.photos import photo_root
from app.parks.models import FreeReason
from app.parks.settings import collector_settings
from app.shifts.models import Shift
from app.staff.models import RoleKind, Staff
from app.staff.services import builtin_role
from app.tariffs.services import applicable_version, quote_stay
from app.tenancy.models import Park

# park name -> [(segment name, berth prefix, count)]
STREETS = {
    "Central Street": [("Central North", "A", 30), ("Central South", "B", 30)],
    "Market Road": [("Market East", "M", 40)],
    "Harbor Pier Street": [("Harbor Pier Front", "H", 20)],
}
HANDHELDS = [("DEMO-POS-0001", "Central Street", HandheldStatus.APPROVED), ("DEMO-POS-0002", "Central Street",
                                                                           HandheldStatus.APPROVED),
             ("DEMO-POS-0003", "Market Road", HandheldStatus.APPROVED),
             ("DEMO-POS-0099", "Central Street", HandheldStatus.PENDING),
             ("HARBOR-POS-0001", "Harbor Pier Street", HandheldStatus.APPROVED)]
FREE_REASONS = ["Police on duty", "Ambulance", "Disabled driver"]
EXTRA_COLLECTORS = [("collector2", "Zhao Collector", "Central Street"), ("collector3", "Sun Collector",
                                                                          "Market Road")]
HISTORY_DAYS = 30
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
PROVINCES = "沪京苏浙粤"
PROVINCE_LATIN = {"沪": "HU", "京": "JING", "苏": "SU", "浙": "ZHE", "粤": "YUE"}  # without a CJK font
PHOTO_DAYS = 2          # photos on orders of the last days only: enough to look at, fast to write
PHOTO_SHARE = 0.15      # of those orders, the share a collector photographed (all unpaid ones: evidence)
# a font with Chinese glyphs where the system has one, so the plate's province shows as written
FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
         "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
SEGMENT_SPACING = 0.0007  # degrees of latitude between the segments of one street (about 80 m)


def _park(name: str) -> Park | None:
    return db.session.scalar(select(Park).where(Park.name == name))


def seed_street(password: str, history_days: int = HISTORY_DAYS) -> None:
    for park_name, segments in STREETS.items():
        park = _park(park_name)
        for index, (seg_name, prefix, count) in enumerate(segments):
            seg = db.session.scalar(select(BerthSegment).where(BerthSegment.park_id == park.id,
                                                               BerthSegment.name == seg_name))
            if seg is None:
                offset = SEGMENT_SPACING * (index - (len(segments) - 1) / 2)  # the segments of a street side by side
                seg = BerthSegment(park_id=park.id, name=seg_name, address=f"{seg_name}, {park.address}",
                                   latitude=park.latitude + offset if park.latitude else None,
                                   longitude=park.longitude)
                db.session.add(seg)
                db.session.flush()
                db.session.add_all(Berth(park_id=park.id, segment_id=seg.id, number=f"{prefix}{n:03d}")
                                   for n in range(1, count + 1))
        db.session.flush()
        # on-street, the capacity is the number of berths (also repairs a demo seeded before this rule)
        park.capacity = db.session.scalar(select(func.count()).select_from(Berth).where(
            Berth.park_id == park.id, Berth.active.is_(True)))
        for reason in FREE_REASONS if "Harbor" not in park_name else []:
            if not db.session.scalar(select(FreeReason).where(FreeReason.park_id == park.id,
                                                              FreeReason.name == reason)):
                db.session.add(FreeReason(park_id=park.id, name=reason))
    for username, name, park_name in EXTRA_COLLECTORS:
        if not db.session.scalar(select(Staff).where(Staff.username == username)):
            staff = Staff(username=username, display_name=name, role=builtin_role(_park(park_name).level,
                                                                                 RoleKind.COLLECTOR))
            staff.anchor_at(_park(park_name))
            staff.set_password(password)
            db.session.add(staff)
    db.session.flush()
    for serial, park_name, status in HANDHELDS:
        if not db.session.scalar(select(Handheld).where(Handheld.serial == serial)):
            db.session.add(_handheld(serial, _park(park_name), status))
    db.session.flush()
    for park_name in STREETS:
        seed_history(_park(park_name), history_days)


def _handheld(serial: str, park: Park, status: HandheldStatus) -> Handheld:
    """An approved handheld of the park, or (pending) the unknown one a collector just tried to sign in on,
    as the device API registers it: first seen by that collector, waiting for a manager."""
    handheld = Handheld(serial=serial, status=status.value)
    handheld.anchor_at(park)
    if status == HandheldStatus.PENDING:
        collector = db.session.scalar(select(Staff).where(Staff.park_id == park.id, Staff.role.has(kind="collector"))
                                      .order_by(Staff.id.desc()))
        handheld.first_seen_by_id = collector.id if collector else None
        handheld.last_seen_at = handheld.created_at = utcnow() - timedelta(minutes=35)
    else:
        handheld.label = f"{park.name} handheld"
    return handheld


def seed_history(park: Park, days: int = HISTORY_DAYS, seed: int = 7) -> None:
    if db.session.scalar(select(func.count()).select_from(ParkingOrder).where(ParkingOrder.park_id == park.id)):
        return
    rng = random.Random(f"{seed}-{park.id}")
    tz = ZoneInfo(park.timezone)
    collectors = db.session.scalars(select(Staff).where(Staff.park_id == park.id, Staff.role.has(kind="collector"))
                                    .order_by(Staff.id)).all()
    segments = db.session.scalars(select(BerthSegment).where(BerthSegment.park_id == park.id)
                                  .order_by(BerthSegment.id)).all()
    if not collectors or not segments:
        return
    berths = {s.id: db.session.scalars(select(Berth).where(Berth.segment_id == s.id)).all() for s in segments}
    now = utcnow()
    today = now.astimezone(tz).date()
    debts: list[tuple[ParkingOrder, Arrear]] = []
    for back in range(days, -1, -1):
        day = today - timedelta(days=back)
        start_day = datetime.combine(day, time(7, 0), tzinfo=tz)
        if start_day >= now:
            continue
        version = applicable_version(park.id, "small", start_day)  # demo tariffs do not change mid-day
        for index, segment in enumerate(segments):
            collector = collectors[index % len(collectors)]
            end = min(datetime.combine(day, time(21, 0), tzinfo=tz), now)
            shift = Shift(park_id=park.id, segment_id=segment.id, collector_id=collector.id, started_at=start_day,
                          ended_at=end if back else None, late=rng.random() < 0.05)
            db.session.add(shift)
            stays = [stay for berth in berths[segment.id]
                     for stay in _berth_day(park, berth, version, collector, start_day, end, now, rng)]
            db.session.flush()  # one flush per segment-day gives every order its id
            for order, left in stays:
                order.entry_shift_id = shift.id
                if order.prepaid_fen:
                    _ledger(order, shift, collector, "cash", "prepay", order.prepaid_fen, order.entered_at)
                if left is not None:
                    _finish(order, shift, collector, quote_stay(park, version, order.entered_at, left, "small"),
                            left, rng, debts)
        db.session.flush()
    _recover_some(park, debts, rng, now)
    _parked_now(park, [b for bs in berths.values() for b in bs], collectors[0], rng, now)
    seed_order_photos(park, rng, now)


def _parked_now(park, berths, collector, rng, now) -> None:
    """Cars standing in about a third of the berths right now, whatever the hour of the demo."""
    occupied = set(db.session.scalars(select(ParkingOrder.berth_id).where(ParkingOrder.park_id == park.id,
                                                                          ParkingOrder.state == "open")))
    last_left = dict(db.session.execute(select(ParkingOrder.berth_id, func.max(ParkingOrder.left_at))
                                        .where(ParkingOrder.park_id == park.id).group_by(ParkingOrder.berth_id)).all())
    for berth in berths:
        entered = now - timedelta(minutes=rng.randint(10, 200))
        if berth.id in occupied or rng.random() > 0.35 or (last_left.get(berth.id) or entered) > entered:
            continue
        version = applicable_version(park.id, "small", entered)
        db.session.add(ParkingOrder(
            park_id=park.id, segment_id=berth.segment_id, berth_id=berth.id,
            plate=f"{rng.choice(PROVINCES)}{rng.choice(PLATE_LETTERS)}{berth.id % 100000:05d}",
            entered_at=entered, entry_received_at=entered, entry_collector_id=collector.id,
            tariff_version_id=version.id if version else None))
    db.session.flush()


def _berth_day(park, berth, version, collector, start, end, now, rng):
    """The cars of one berth in one day: (order, left_at or None while still parked)."""
    moment = start + timedelta(minutes=rng.randint(0, 90))
    while moment < end - timedelta(minutes=20):
        left = moment + timedelta(minutes=rng.choice([18, 25, 40, 55, 75, 95, 130, 180, 240]))
        plate = f"{rng.choice(PROVINCES)}{rng.choice(PLATE_LETTERS)}{rng.randint(10000, 99999)}"
        prepay = rng.choice([0, 500, 1000]) if rng.random() < 0.3 else 0
        still_parked = left >= now
        if still_parked:  # plates of parked cars must differ within the park
            plate = f"{plate[:2]}{berth.id % 100000:05d}"
        order = ParkingOrder(park_id=park.id, segment_id=berth.segment_id, berth_id=berth.id, plate=plate,
                             state="open" if still_parked else "settled", entered_at=moment,
                             entry_received_at=moment, entry_collector_id=collector.id,
                             tariff_version_id=version.id if version else None, prepaid_fen=prepay)
        db.session.add(order)
        if still_parked:
            yield order, None
            return
        yield order, left
        moment = left + timedelta(minutes=rng.randint(10, 120))


def _finish(order, shift, collector, fee, left, rng, debts) -> None:
    order.state = "settled"
    order.left_at, order.exit_received_at, order.exit_collector_id = left, left, collector.id
    order.exit_shift_id, order.fee_fen = shift.id, fee.total_fen
    due = fee.total_fen - order.prepaid_fen
    if due > 0 and rng.random() < 0.08:
        order.state, order.paid_fen = "unpaid", order.prepaid_fen
        arrear = Arrear(park_id=order.park_id, order_id=order.id, plate=order.plate, amount_fen=due,
                        created_at=left)
        db.session.add(arrear)
        debts.append((order, arrear))
        return
    method = rng.choice(["cash", "cash", "electronic", "electronic", "card"])
    order.payment_method, order.paid_fen = method, fee.total_fen
    order.receipt_no = f"{order.park_id:04d}-{order.id:08d}"
    if due > 0:
        _ledger(order, shift, collector, method, "fee", due, left)
    elif due < 0:
        _ledger(order, shift, collector, "cash", "prepay_refund", due, left)


def _recover_some(park, debts, rng, now) -> None:
    db.session.flush()
    for order, arrear in debts:
        if rng.random() < 0.45:
            when = min(order.left_at + timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 6)), now)
            arrear.state, arrear.recovered_at = "recovered", when
            arrear.recovered_by_id, arrear.recovered_park_id = order.exit_collector_id, park.id
            arrear.recovered_method = "cash"
            order.state, order.paid_fen = "recovered", order.paid_fen + arrear.amount_fen
            db.session.add(LedgerEntry(park_id=park.id, order_id=order.id, arrear_id=arrear.id,
                                       collector_id=order.exit_collector_id, segment_id=order.segment_id,
                                       method="cash", kind="recovery", amount_fen=arrear.amount_fen,
                                       occurred_at=when))


def _ledger(order, shift, collector, method, kind, amount, at) -> None:
    db.session.add(LedgerEntry(park_id=order.park_id, order_id=order.id, collector_id=collector.id,
                               shift_id=shift.id, segment_id=order.segment_id, berth_id=order.berth_id,
                               method=method, kind=kind, amount_fen=amount, occurred_at=at))


# ------------------------------------------------------------------------------------------------- photos

@functools.cache
def _font(size: int):
    from PIL import ImageFont

    for path in FONTS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size), "CJK" in path or "wqy" in path
    return ImageFont.load_default(size), False


def demo_photo(plate: str, berth: str, when: datetime, caption: str = "") -> bytes:
    """A small JPEG as a handheld would take it: a car in its berth, the plate readable, the berth number
    and local time stamped in the corner."""
    from PIL import Image, ImageDraw

    big, cjk = _font(26)
    small, _cjk = _font(16)
    seed = sum(map(ord, plate))
    img = Image.new("RGB", (480, 320), (118, 124, 130))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 200, 480, 320), fill=(58, 61, 66))                          # the road
    draw.line((40, 200, 40, 320), fill=(235, 235, 235), width=4)                 # berth markings
    draw.line((440, 200, 440, 320), fill=(235, 235, 235), width=4)
    body = ((seed * 37) % 200 + 30, (seed * 53) % 200 + 30, (seed * 71) % 200 + 30)
    draw.rounded_rectangle((70, 80, 410, 260), radius=36, fill=body)
    draw.rectangle((110, 100, 370, 150), fill=(40, 48, 60))                      # windscreen
    if plate:
        draw.rectangle((140, 188, 340, 236), fill=(20, 64, 168), outline=(255, 255, 255), width=3)
        text = plate if cjk or plate[:1].isascii() else f"{PROVINCE_LATIN.get(plate[0], '?')}·{plate[1:]}"
        draw.text((240, 212), text, fill=(255, 255, 255), font=big if len(text) <= 10 else small, anchor="mm")
    draw.rectangle((0, 0, 480, 26), fill=(0, 0, 0))
    draw.text((8, 4), f"{berth}  {when:%Y-%m-%d %H:%M:%S}  {caption}".strip(), fill=(255, 214, 0), font=small)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=70)
    return out.getvalue()


def seed_order_photos(park: Park, rng: random.Random, now: datetime) -> None:
    """Photos on a share of the park's recent orders (entry photos; unpaid ones also get the evidence a
    collector takes when a car leaves without paying), written as files under the photo root."""
    tz = ZoneInfo(park.timezone)
    rows = db.session.execute(select(ParkingOrder.id, ParkingOrder.plate, ParkingOrder.state, ParkingOrder.entered_at,
                                     ParkingOrder.left_at, ParkingOrder.entry_collector_id, Berth.number)
                              .join(Berth, Berth.id == ParkingOrder.berth_id)
                              .where(ParkingOrder.park_id == park.id,
                                     ParkingOrder.entered_at >= now - timedelta(days=PHOTO_DAYS))
                              .order_by(ParkingOrder.id)).all()
    retention = timedelta(days=collector_settings(park).photo_retention_days)
    folder = Path("demo") / str(park.id)
    (photo_root() / folder).mkdir(parents=True, exist_ok=True)
    photos = []
    for order_id, plate, state, entered, left, collector_id, number in rows:
        shots = [("entry", entered)] if rng.random() < PHOTO_SHARE else []
        if state == "unpaid" and left is not None:
            shots.append(("evidence", left))
        for kind, taken in shots:
            relative = folder / f"order-{order_id}-{kind}.jpg"
            data = demo_photo(plate, number, taken.astimezone(tz))
            (photo_root() / relative).write_bytes(data)
            photos.append({"park_id": park.id, "order_id": order_id, "kind": kind, "path": str(relative),
                           "content_type": "image/jpeg", "size_bytes": len(data), "taken_by_id": collector_id,
                           "created_at": taken, "delete_after": taken + retention})
    if photos:
        db.session.execute(insert(OrderPhoto), photos)
