"""Demo members: monthly products, passes with a few months of renewals (and their ledger rows at the
selling park), some expiring soon or lapsed, and a few white- and black-listed plates.
Idempotent: products and list entries are found by name/plate; a product that has passes gets no more."""
from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from app.audit.models import AuditEntry
from app.extensions import db
from app.members import services
from app.members.models import MonthlyPass, MonthlyProduct, PlateListEntry
from app.staff.models import Staff
from app.tenancy.models import OperatingGroup, Park

# (name, where: ("park", name) | ("group", name), kind, yuan per month, window, extra, passes to sell)
PRODUCTS = [
    ("Central Street monthly", ("park", "Central Street"), "all_day", 300, None, {}, 10),
    ("Night owl", ("park", "Market Road"), "night_window", 150, (time(19), time(7)), {}, 7),
    ("Demo Group all parks", ("group", "Demo Parking Group"), "all_day", 480, None, {}, 6),
    ("Station Garage daytime half price", ("park", "Station Garage"), "discount", 120, (time(8), time(20)),
     {"discount_percent": 50}, 4),
    ("Riverside two free hours", ("park", "Riverside Lot"), "free_hours", 80, None, {"free_hours": 2}, 3),
    ("Harbor Pier monthly", ("park", "Harbor Pier Street"), "all_day", 260, None, {}, 4),
    ("Harbor night owl", ("group", "Harbor Parking Company"), "night_window", 120, (time(20), time(6)), {}, 2),
]
SELLERS = {"Demo City": "park1", "Harbor City": "harborpark"}
SURNAMES = ["Zhang", "Wang", "Li", "Zhao", "Chen", "Liu", "Yang", "Huang", "Zhou", "Wu", "Xu", "Sun"]
GIVEN = ["Wei", "Fang", "Min", "Jing", "Lei", "Jun", "Yan", "Tao", "Hui", "Qiang", "Li", "Ping"]
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
# (park, plate, kind, reason, whitewashed)
LISTED = [
    ("Central Street", "沪A00110", "white", "Police patrol car", False),
    ("Central Street", "沪A00120", "white", "Street cleaning van", False),
    ("Market Road", "沪C66601", "black", "Three unpaid stays", False),
    ("Market Road", "沪C66602", "black", "Abused a collector", True),
    ("Harbor Pier Street", "浙B90001", "black", "Harbor fare dodger", False),
]


def _node(kind: str, name: str):
    model = Park if kind == "park" else OperatingGroup
    return db.session.scalar(select(model).where(model.name == name))


def _product(name, where, kind, yuan, window, extra) -> MonthlyProduct | None:
    anchor = _node(*where)
    if anchor is None:
        return None
    column = MonthlyProduct.park_id if where[0] == "park" else MonthlyProduct.group_id
    product = db.session.scalar(select(MonthlyProduct).where(MonthlyProduct.name == name,
                                                             MonthlyProduct.level == anchor.level.value,
                                                             column == anchor.id))
    if product is None:
        product = services.save_product(None, None, services.ProductValues(
            anchor=anchor, name=name, kind=kind, price_fen=yuan * 100, window_start=window[0] if window else None,
            window_end=window[1] if window else None, **extra))
    return product


def _at(zone: str, day: date, hour: int, rng: random.Random) -> datetime:
    """A believable moment of the selling office's day: the hour given, any minute and second."""
    moment = time(hour, rng.randint(0, 59), rng.randint(0, 59))
    return datetime.combine(day, moment, tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


@contextmanager
def _dated(when: datetime):
    """Around a service call of the demo history: the audit rows it wrote carry its time, not the seed's."""
    first = (db.session.scalar(select(func.max(AuditEntry.id))) or 0) + 1
    yield
    db.session.flush()
    db.session.execute(update(AuditEntry).where(AuditEntry.id >= first).values(at=when)
                       .execution_options(synchronize_session=False))


def _sell_history(rng: random.Random, product: MonthlyProduct, count: int, plate_prefix: str, seq: list) -> None:
    parks = services.product_parks(product)
    if not parks:
        return
    city = parks[0].city.name
    seller = db.session.scalar(select(Staff).where(Staff.username == SELLERS.get(city, "")))
    today = services.local_today(parks[0].timezone)
    for n in range(count):
        park = parks[n % len(parks)]
        seq[0] += 1
        plates = [f"{plate_prefix}{LETTERS[seq[0] % len(LETTERS)]}{1000 + seq[0] * 37 % 9000:04d}"]
        if n % 5 == 4:
            seq[0] += 1
            plates.append(f"{plate_prefix}{LETTERS[seq[0] % len(LETTERS)]}{1000 + seq[0] * 37 % 9000:04d}")
        start = today - timedelta(days=rng.randint(20, 150))
        if n % 7 == 6:  # a few are due within the week
            start = services.add_months(today + timedelta(days=rng.randint(4, 7)), -1)
        sold_at = _at(park.timezone, start, rng.randint(9, 17), rng)
        months = 1 if n % 7 == 6 else rng.choice([1, 1, 1, 3])
        with _dated(sold_at):
            pass_ = services.sell_pass(
                seller, product=product, selling_park=park, holder_name=f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}",
                phone=f"139{rng.randint(10000000, 99999999)}", plates=plates, starts_on=start, months=months,
                paid_fen=product.price_fen * months - (product.price_fen // 10 if n % 4 == 3 else 0),
                method=rng.choice(services.PAY_METHODS), now=sold_at)
        lapses = n % 6 == 5  # some holders stop renewing
        while pass_.ends_on < today + timedelta(days=3) and not lapses:
            renew_day = pass_.ends_on - timedelta(days=rng.randint(0, 3))
            months = rng.choice([1, 1, 2])
            renewed_at = _at(park.timezone, renew_day, rng.randint(8, 19), rng)
            with _dated(renewed_at):
                services.renew_pass(seller, pass_, months=months, selling_park=park, paid_fen=None,
                                    method=rng.choice(services.PAY_METHODS), now=renewed_at)


def _listed() -> None:
    for park_name, plate, kind, reason, whitewashed in LISTED:
        park = _node("park", park_name)
        if park is None:
            continue
        exists = db.session.scalar(select(PlateListEntry.id).where(
            PlateListEntry.park_id == park.id, PlateListEntry.plate == plate, PlateListEntry.kind == kind))
        if exists is not None:
            continue
        start = services.local_today(park.timezone) - timedelta(days=30)
        entry = services.save_list_entry(None, None, kind=kind, park=park, plate=plate, reason=reason,
                                         valid_from=start, valid_until=start + timedelta(days=365)
                                         if kind == "white" else None)
        if whitewashed:
            services.deactivate_list_entry(None, entry, "Paid and apologised")


def seed_members() -> None:
    rng = random.Random(2024)
    seq = [0]
    for name, where, kind, yuan, window, extra, passes in PRODUCTS:
        product = _product(name, where, kind, yuan, window, extra)
        if product is None:
            continue
        sold = db.session.scalar(select(func.count()).select_from(MonthlyPass)
                                 .where(MonthlyPass.product_id == product.id))
        prefix = "浙B" if "Harbor" in name else "沪A"
        if not sold:
            _sell_history(rng, product, passes, prefix, seq)
        else:
            seq[0] += passes + passes // 5
    _listed()
    db.session.flush()

