"""Members: monthly products, passes, renewals, white and black lists (services and pages)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.members import services
from app.members.forms import yuan_to_fen
from app.members.models import MonthlyPass, MonthlyProduct, PassRenewal
from app.orders.models import LedgerEntry, PlateListEntry
from app.tariffs.engine import quote

SH = ZoneInfo("Asia/Shanghai")
RULE = {"kind": "banded", "rates": {"h": {"unit_minutes": 60, "price_fen": 200}},
        "schedule": [{"bands": [{"start": "00:00", "end": "24:00", "rate": "h"}]}]}


def local(y, m, d, hh=12, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def product(db, node, name="Monthly", price_fen=30000, kind="all_day", **kw):
    p = services.save_product(None, None, services.ProductValues(anchor=node, name=name, kind=kind,
                                                                 price_fen=price_fen, **kw))
    db.session.commit()
    return p


def sell(db, actor, prod, park, plates="沪A12345", start=date(2025, 1, 1), months=1, paid=None, **kw):
    p = services.sell_pass(actor, product=prod, selling_park=park, holder_name=kw.pop("holder", "Zhang San"),
                           phone=None, plates=plates, starts_on=start, months=months, paid_fen=paid,
                           method=kw.pop("method", "cash"), now=kw.pop("now", local(2025, 1, 1)), **kw)
    db.session.commit()
    return p


def count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- arithmetic ---------------------------------------------------------------------------------

@pytest.mark.parametrize("start,months,end", [
    (date(2025, 1, 1), 1, date(2025, 1, 31)),
    (date(2025, 3, 15), 1, date(2025, 4, 14)),
    (date(2025, 1, 31), 1, date(2025, 2, 27)),   # Feb 28 (clamped) minus one day
    (date(2024, 1, 31), 1, date(2024, 2, 28)),   # leap year: Feb 29 minus one day
    (date(2025, 1, 31), 2, date(2025, 3, 30)),
    (date(2025, 11, 10), 3, date(2026, 2, 9)),
    (date(2025, 1, 1), 12, date(2025, 12, 31)),
    (date(2025, 1, 1), 36, date(2027, 12, 31)),
])
def test_period_end_uses_calendar_months_clamped(start, months, end):
    assert services.period_end(start, months) == end


@pytest.mark.parametrize("text,fen", [("300", 30000), ("12.5", 1250), ("0.01", 1), ("0", 0), ("1,000.10", 100010)])
def test_yuan_converts_exactly(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["-1", "1.234", "abc", "", "1e3", "0.1.2"])
def test_yuan_refuses_bad_amounts(text):
    with pytest.raises(ValueError):
        yuan_to_fen(text)


def test_sale_receivable_is_months_times_price_and_writes_renewal_ledger_and_audit(db, tree):
    prod = product(db, tree.p1, price_fen=30050)
    p = sell(db, tree.staff["groupa1"], prod, tree.p1, plates="沪a 12345, 沪B67890", months=3)
    assert (p.starts_on, p.ends_on) == (date(2025, 1, 1), date(2025, 3, 31))
    assert sorted(x.plate for x in p.plates) == ["沪A12345", "沪B67890"]
    assert (p.level, p.park_id, p.group_id) == ("park", tree.p1.id, tree.a1.id)
    r = db.session.scalar(select(PassRenewal).where(PassRenewal.pass_id == p.id))
    assert (r.kind, r.months, r.receivable_fen, r.paid_fen, r.park_id) == ("sale", 3, 90150, 90150, tree.p1.id)
    ledger = db.session.scalars(select(LedgerEntry)).all()
    assert [(e.kind, e.amount_fen, e.park_id, e.order_id, e.method) for e in ledger] == [
        ("pass_sale", 90150, tree.p1.id, None, "cash")]
    assert count(db, AuditEntry, AuditEntry.object_type == "MonthlyPass", AuditEntry.action == "create") == 1


def test_paid_may_be_lower_never_negative_nor_above_receivable(db, tree):
    prod = product(db, tree.p1, price_fen=10000)
    actor = tree.staff["groupa1"]
    p = sell(db, actor, prod, tree.p1, months=2, paid=15000)
    assert db.session.scalar(select(PassRenewal.paid_fen).where(PassRenewal.pass_id == p.id)) == 15000
    for bad in (-1, 20001):
        with pytest.raises(services.MemberError) as exc:
            sell(db, actor, prod, tree.p1, plates="沪C11111", months=2, paid=bad)
        assert exc.value.field == "paid"
    free = sell(db, actor, prod, tree.p1, plates="沪C22222", paid=0)
    assert count(db, LedgerEntry) == 1  # a free sale moves no money
    assert count(db, PassRenewal, PassRenewal.pass_id == free.id) == 1


def test_months_range_and_product_validity(db, tree):
    prod = product(db, tree.p1, valid_until=date(2025, 2, 28))
    actor = tree.staff["groupa1"]
    for months in (0, 37):
        with pytest.raises(services.MemberError):
            sell(db, actor, prod, tree.p1, months=months)
    with pytest.raises(services.MemberError) as exc:
        sell(db, actor, prod, tree.p1, months=3)
    assert "2025-02-28" in str(exc.value)
    assert sell(db, actor, prod, tree.p1, months=2).ends_on == date(2025, 2, 28)
    assert count(db, MonthlyPass) == 1


def test_renewal_extends_from_the_current_end(db, tree):
    prod = product(db, tree.p1, price_fen=20000)
    actor = tree.staff["groupa1"]
    p = sell(db, actor, prod, tree.p1, start=date(2025, 1, 31), months=1)
    assert p.ends_on == date(2025, 2, 27)
    r = services.renew_pass(actor, p, months=2, selling_park=tree.p1, method="card", now=local(2025, 2, 20))
    db.session.commit()
    assert (r.starts_on, r.ends_on, r.receivable_fen, r.kind) == (date(2025, 2, 28), date(2025, 4, 27), 40000,
                                                                  "renewal")
    assert p.ends_on == date(2025, 4, 27) and p.starts_on == date(2025, 1, 31)
    assert db.session.scalar(select(func.sum(LedgerEntry.amount_fen))) == 60000


def test_renewal_of_a_lapsed_pass_starts_today(db, tree):
    prod = product(db, tree.p1)
    actor = tree.staff["groupa1"]
    p = sell(db, actor, prod, tree.p1, start=date(2025, 1, 1), months=1)
    r = services.renew_pass(actor, p, months=1, selling_park=tree.p1, now=local(2025, 3, 10, 1))
    db.session.commit()
    assert (r.starts_on, r.ends_on) == (date(2025, 3, 10), date(2025, 4, 9))
    # the gap is not covered; either side is
    assert services.pass_for(tree.p1, "沪A12345", local(2025, 2, 15)) is None
    cover = services.pass_for(tree.p1, "沪A12345", local(2025, 3, 15))
    assert (cover.valid_from, cover.valid_until) == (date(2025, 3, 10), date(2025, 4, 9))
    assert services.pass_for(tree.p1, "沪A12345", local(2025, 1, 20)).valid_until == date(2025, 1, 31)


def test_renewal_today_is_the_selling_parks_local_day(db, tree):
    prod = product(db, tree.p1)
    actor = tree.staff["groupa1"]
    p = sell(db, actor, prod, tree.p1, start=date(2025, 1, 1), months=1)
    # 2025-03-09 17:00 UTC is already 2025-03-10 in Shanghai
    r = services.renew_pass(actor, p, months=1, selling_park=tree.p1,
                            now=datetime(2025, 3, 9, 17, tzinfo=timezone.utc))
    assert r.starts_on == date(2025, 3, 10)


def test_overlapping_passes_at_the_same_park_are_refused(db, tree):
    prod = product(db, tree.p1)
    other = product(db, tree.p1, name="Other")
    actor = tree.staff["groupa1"]
    sell(db, actor, prod, tree.p1, start=date(2025, 1, 1), months=2)
    with pytest.raises(services.MemberError) as exc:
        sell(db, actor, other, tree.p1, plates="沪B11111, 沪A12345", start=date(2025, 2, 28))
    assert exc.value.field == "plates" and "沪A12345" in str(exc.value)
    db.session.rollback()
    assert count(db, MonthlyPass) == 1 and count(db, PassRenewal) == 1 and count(db, LedgerEntry) == 1
    # after the end, or at a park of another group: fine
    sell(db, actor, other, tree.p1, start=date(2025, 3, 1))
    sell(db, tree.staff["citya"], product(db, tree.p3), tree.p3, start=date(2025, 1, 1))
    assert count(db, MonthlyPass) == 3


def test_park_and_group_products_overlap(db, tree):
    group_prod = product(db, tree.a1, name="Group wide")
    park2 = product(db, tree.p2, name="Street two")
    actor = tree.staff["groupa1"]
    sell(db, actor, park2, tree.p2, start=date(2025, 1, 1), months=1)
    with pytest.raises(services.MemberError):  # the group pass would cover p2 too
        sell(db, actor, group_prod, tree.p1, start=date(2025, 1, 15), months=1)
    db.session.rollback()
    g = sell(db, actor, group_prod, tree.p1, start=date(2025, 2, 1), months=1)
    assert (g.level, g.group_id, g.park_id) == ("group", tree.a1.id, None)
    with pytest.raises(services.MemberError):  # a park pass inside the group pass's period
        sell(db, actor, product(db, tree.p1, name="Street one"), tree.p1, start=date(2025, 2, 10))
    db.session.rollback()
    # the group product is sold at one of its parks only
    with pytest.raises(services.MemberError) as exc:
        sell(db, tree.staff["citya"], group_prod, tree.p3, plates="沪D44444")
    assert exc.value.field == "selling_park_id"


def test_cancelled_pass_no_longer_blocks_and_cannot_be_renewed(db, tree):
    prod = product(db, tree.p1)
    actor = tree.staff["groupa1"]
    p = sell(db, actor, prod, tree.p1)
    services.cancel_pass(actor, p, "Moved away")
    db.session.commit()
    assert p.state == "cancelled" and "Moved away" in p.note
    assert count(db, LedgerEntry) == 1  # no money movement
    with pytest.raises(services.MemberError):
        services.renew_pass(actor, p, months=1, selling_park=tree.p1, now=local(2025, 1, 20))
    with pytest.raises(services.MemberError):
        services.cancel_pass(actor, p, "again")
    sell(db, actor, prod, tree.p1)  # the plate is free again
    assert services.pass_for(tree.p1, "沪A12345", local(2025, 1, 10)) is not None


def test_change_plates_refused_when_the_new_plate_overlaps(db, tree):
    prod = product(db, tree.p1)
    actor = tree.staff["groupa1"]
    a = sell(db, actor, prod, tree.p1, plates="沪A11111", months=3)
    sell(db, actor, prod, tree.p1, plates="沪B22222", start=date(2025, 2, 1), months=1)
    with pytest.raises(services.MemberError):
        services.change_plates(actor, a, "沪A11111, 沪B22222", now=local(2025, 1, 5))
    db.session.rollback()
    assert [p.plate for p in a.plates] == ["沪A11111"]
    services.change_plates(actor, a, "沪C33333", now=local(2025, 1, 5))
    db.session.commit()
    assert [p.plate for p in a.plates] == ["沪C33333"]
    assert services.pass_for(tree.p1, "沪A11111", local(2025, 1, 10)) is None
    assert services.pass_for(tree.p1, "沪C33333", local(2025, 1, 10)) is not None
    assert count(db, AuditEntry, AuditEntry.action == "change_plates") == 1


def test_ledger_rows_equal_sales(db, tree):
    prod = product(db, tree.a1, name="Group", price_fen=12345)
    actor = tree.staff["groupa1"]
    passes = [sell(db, actor, prod, park, plates=f"沪A{n}0000", months=n, paid=12345 * n - n)
              for n, park in ((1, tree.p1), (2, tree.p2), (3, tree.p1))]
    services.renew_pass(actor, passes[0], months=2, selling_park=tree.p2, method="electronic",
                        now=local(2025, 1, 20))
    db.session.commit()
    paid = db.session.scalar(select(func.sum(PassRenewal.paid_fen)))
    assert db.session.scalar(select(func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.kind == "pass_sale")) == paid
    per_park = dict(db.session.execute(select(LedgerEntry.park_id, func.sum(LedgerEntry.amount_fen))
                                       .group_by(LedgerEntry.park_id)).all())
    assert per_park == {tree.p1.id: 12344 + 37032, tree.p2.id: 24688 + 24690}


# --- pass_for and white_listed ---------------------------------------------------------------------

def test_pass_for_covers_the_right_park_and_time(db, tree):
    prod = product(db, tree.p1, name="Night", kind="night_window", window_start=time(19), window_end=time(7))
    sell(db, tree.staff["groupa1"], prod, tree.p1, start=date(2025, 1, 1), months=1)
    cover = services.pass_for(tree.p1, "沪a12345", local(2025, 1, 10, 22))
    assert (cover.kind, cover.start, cover.end) == ("night_window", "19:00", "07:00")
    assert (cover.valid_from, cover.valid_until) == (date(2025, 1, 1), date(2025, 1, 31))
    assert services.pass_for(tree.p2, "沪A12345", local(2025, 1, 10)) is None      # another park
    assert services.pass_for(tree.p1, "沪A99999", local(2025, 1, 10)) is None      # another plate
    assert services.pass_for(tree.p1, "沪A12345", local(2024, 12, 31, 23)) is None  # before
    assert services.pass_for(tree.p1, "沪A12345", local(2025, 2, 1, 0, 30)) is None  # after (local day)
    assert services.pass_for(tree.p1, "bad!", local(2025, 1, 10)) is None


@pytest.mark.parametrize("kind,extra,expected", [
    ("all_day", {}, {"kind": "all_day"}),
    ("day_window", {"window_start": time(8), "window_end": time(18)}, {"start": "08:00", "end": "18:00"}),
    ("discount", {"window_start": time(8), "window_end": time(20), "discount_percent": 40}, {"percent": 40}),
    ("free_hours", {"free_hours": 2}, {"hours": 2}),
])
def test_pass_for_maps_product_kinds_and_a_quote_costs_less(db, tree, kind, extra, expected):
    prod = product(db, tree.a1, name=kind, kind=kind, **extra)
    sell(db, tree.staff["groupa1"], prod, tree.p1, start=date(2025, 1, 1), months=1)
    cover = services.pass_for(tree.p2, "沪A12345", local(2025, 1, 10))  # a group pass covers p2 too
    assert cover is not None and cover.kind == kind
    for key, value in expected.items():
        assert getattr(cover, key) == value
    entered, left = local(2025, 1, 10, 9), local(2025, 1, 10, 13)
    plain = quote(RULE, entered, left).total_fen
    assert plain == 800 and quote(RULE, entered, left, pass_=cover).total_fen < plain
    assert services.pass_for(tree.p3, "沪A12345", local(2025, 1, 10)) is None  # another group


def test_white_listed(db, tree):
    actor = tree.staff["groupa1"]
    entry = services.save_list_entry(actor, None, kind="white", park=tree.p1, plate="沪W12345", reason="Police",
                                     valid_from=date(2025, 1, 1), valid_until=date(2025, 1, 31))
    db.session.commit()
    assert services.white_listed(tree.p1.id, "沪w12345", local(2025, 1, 31, 23, 59))
    assert not services.white_listed(tree.p1.id, "沪W12345", local(2025, 2, 1, 0, 1))
    assert not services.white_listed(tree.p1.id, "沪W12345", local(2024, 12, 31, 23))
    assert not services.white_listed(tree.p2.id, "沪W12345", local(2025, 1, 10))
    with pytest.raises(services.MemberError):  # same plate, overlapping period
        services.save_list_entry(actor, None, kind="white", park=tree.p1, plate="沪W12345", reason=None,
                                 valid_from=date(2025, 1, 20), valid_until=None)
    services.deactivate_list_entry(actor, entry, "No longer police")
    db.session.commit()
    assert not services.white_listed(tree.p1.id, "沪W12345", local(2025, 1, 10))


def test_black_list_whitewash(db, tree):
    from app.orders.services import blacklisted

    actor = tree.staff["parkp1"]
    entry = services.save_list_entry(actor, None, kind="black", park=tree.p1, plate="沪K12345",
                                     reason="Unpaid fees", valid_from=None, valid_until=None)
    db.session.commit()
    assert blacklisted(tree.p1.id, "沪K12345", local(2025, 5, 1)) is not None
    with pytest.raises(services.MemberError):
        services.deactivate_list_entry(actor, entry, "  ")
    services.deactivate_list_entry(actor, entry, "Paid everything")
    db.session.commit()
    assert blacklisted(tree.p1.id, "沪K12345", local(2025, 5, 1)) is None
    assert not entry.active and "whitewashed: Paid everything" in entry.reason
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "whitewash"))
    assert audit.park_id == tree.p1.id and audit.after["why"] == "Paid everything"
    with pytest.raises(services.MemberError):
        services.save_list_entry(actor, None, kind="black", park=tree.p1, plate="沪K2", reason="",
                                 valid_from=None, valid_until=None)


# --- pages -----------------------------------------------------------------------------------------

def test_product_pages_create_edit_disable(db, tree, client_as):
    client = client_as("groupa1")
    bad = client.post("/members/products/new", data={"anchor": f"park:{tree.p1.id}", "name": "Night",
                                                     "price": "150.505", "kind": "night_window"})
    assert bad.status_code == 400 and "two decimals" in bad.get_data(as_text=True)
    no_window = client.post("/members/products/new", data={"anchor": f"park:{tree.p1.id}", "name": "Night",
                                                           "price": "150.5", "kind": "night_window"})
    assert no_window.status_code == 400 and "window" in no_window.get_data(as_text=True)
    foreign = client.post("/members/products/new", data={"anchor": f"park:{tree.p3.id}", "name": "Night",
                                                         "price": "150", "kind": "all_day"})
    assert foreign.status_code == 400
    assert count(db, MonthlyProduct) == 0
    ok = client.post("/members/products/new", data={"anchor": f"park:{tree.p1.id}", "name": "Night",
                                                    "price": "150.5", "kind": "night_window",
                                                    "window_start": "19:00", "window_end": "07:00",
                                                    "vehicle_class": "small"})
    assert ok.status_code == 302
    prod = db.session.scalar(select(MonthlyProduct))
    assert (prod.price_fen, prod.window_start, prod.park_id) == (15050, time(19), tree.p1.id)
    page = client.get("/members/products").get_data(as_text=True)
    assert "Night" in page and "150.50" in page
    edit = client.get(f"/members/products/{prod.id}/edit").get_data(as_text=True)
    assert 'value="150.50"' in edit
    assert client.post(f"/members/products/{prod.id}/edit", data={
        "anchor": f"group:{tree.a1.id}", "name": "Night owl", "price": "160", "kind": "night_window",
        "window_start": "20:00", "window_end": "06:00", "vehicle_class": "small"}).status_code == 302
    db.session.expire_all()
    assert (prod.name, prod.level, prod.group_id, prod.price_fen) == ("Night owl", "group", tree.a1.id, 16000)
    assert client.post(f"/members/products/{prod.id}/active").status_code == 302
    db.session.expire_all()
    assert prod.active is False
    assert count(db, AuditEntry, AuditEntry.object_type == "MonthlyProduct") == 3


def test_sale_renew_cancel_through_the_pages(db, tree, client_as):
    prod = product(db, tree.a1, name="Group wide", price_fen=30000)
    client = client_as("groupa1")
    form = {"product_id": prod.id, "holder_name": "Li Si", "plates": "沪A12345", "starts_on": "2025-01-01",
            "months": "2", "paid": "", "method": "cash"}
    missing_park = client.post("/members/passes/new", data=form)
    assert missing_park.status_code == 400 and "park" in missing_park.get_data(as_text=True)
    bad_paid = client.post("/members/passes/new", data={**form, "selling_park_id": tree.p2.id, "paid": "-5"})
    assert bad_paid.status_code == 400
    too_much = client.post("/members/passes/new", data={**form, "selling_park_id": tree.p2.id, "paid": "600.01"})
    assert too_much.status_code == 400
    bad_plate = client.post("/members/passes/new", data={**form, "selling_park_id": tree.p2.id, "plates": "x!"})
    assert bad_plate.status_code == 400
    assert count(db, MonthlyPass) == 0 and count(db, LedgerEntry) == 0
    ok = client.post("/members/passes/new", data={**form, "selling_park_id": tree.p2.id, "paid": "550.5"})
    assert ok.status_code == 302
    p = db.session.scalar(select(MonthlyPass))
    assert db.session.scalar(select(LedgerEntry.amount_fen)) == 55050
    detail = client.get(f"/members/passes/{p.id}").get_data(as_text=True)
    assert "Li Si" in detail and "550.50" in detail and "600.00" in detail
    again = client.post("/members/passes/new", data={**form, "selling_park_id": tree.p1.id})
    assert again.status_code == 400 and "already has an active pass" in again.get_data(as_text=True)
    assert client.get(f"/members/passes/{p.id}/renew").status_code == 200
    assert client.post(f"/members/passes/{p.id}/renew", data={"selling_park_id": tree.p1.id, "months": "1",
                                                              "method": "card"}).status_code == 302
    db.session.expire_all()
    assert p.ends_on >= date(2025, 3, 31)
    assert count(db, PassRenewal) == 2 and count(db, LedgerEntry) == 2
    assert client.post(f"/members/passes/{p.id}/cancel", data={"reason": ""}).status_code == 400
    assert client.post(f"/members/passes/{p.id}/cancel", data={"reason": "Sold the car"}).status_code == 302
    db.session.expire_all()
    assert p.state == "cancelled" and count(db, LedgerEntry) == 2
    listing = client.get("/members/passes?state=cancelled").get_data(as_text=True)
    assert "Li Si" in listing and "/exports/new/member_passes?state=cancelled" in listing
    assert "Li Si" not in client.get("/members/passes?state=active").get_data(as_text=True)
    renewals = client.get("/members/renewals").get_data(as_text=True)
    assert "2 records" in renewals and "/exports/new/pass_renewals?" in renewals


def test_pass_list_filters(db, tree, client_as):
    actor = tree.staff["groupa1"]
    today = services.local_today("Asia/Shanghai")
    p1 = product(db, tree.p1, name="One")
    p2 = product(db, tree.p2, name="Two")
    sell(db, actor, p1, tree.p1, plates="沪A00001", holder="Expiring Holder",
         start=services.add_months(today + timedelta(days=4), -1))
    sell(db, actor, p1, tree.p1, plates="沪A00002", holder="Lapsed Holder", start=today - timedelta(days=100))
    sell(db, actor, p2, tree.p2, plates="沪A00003", holder="Long Holder", start=today, months=6)
    client = client_as("groupa1")

    def names(query):
        body = client.get("/members/passes?" + query).get_data(as_text=True)
        return {n for n in ("Expiring Holder", "Lapsed Holder", "Long Holder") if n in body}

    assert names("state=expiring") == {"Expiring Holder"}
    assert names("state=expired") == {"Lapsed Holder"}
    assert names("state=active") == {"Expiring Holder", "Long Holder"}
    assert names(f"node=park:{tree.p2.id}") == {"Long Holder"}
    assert names("plate=a00002") == {"Lapsed Holder"}
    assert names("holder=long") == {"Long Holder"}
    assert names(f"product_id={p1.id}") == {"Expiring Holder", "Lapsed Holder"}
    # the park manager of p2 sees only p2's pass
    body = client_as("parkp2").get("/members/passes").get_data(as_text=True)
    assert "Long Holder" in body and "Lapsed Holder" not in body


def test_renewal_list_filters_and_totals(db, tree, client_as):
    actor = tree.staff["groupa1"]
    prod = product(db, tree.a1, name="Group", price_fen=10000)
    sell(db, actor, prod, tree.p1, plates="沪A00001", months=1, method="cash")
    sell(db, actor, prod, tree.p2, plates="沪A00002", months=2, paid=15000, method="card")
    client = client_as("groupa1")
    body = client.get("/members/renewals").get_data(as_text=True)
    assert "2 records · 3 months · receivable ¥300.00 · paid ¥250.00" in body
    body = client.get(f"/members/renewals?node=park:{tree.p2.id}").get_data(as_text=True)
    assert "1 records · 2 months · receivable ¥200.00 · paid ¥150.00" in body
    body = client.get("/members/renewals?method=cash&date_from=2025-01-01&date_to=2025-01-01").get_data(as_text=True)
    assert "paid ¥100.00" in body
    body = client.get("/members/renewals?date_from=2025-01-02").get_data(as_text=True)
    assert "0 records" in body
    # the park manager sees the money taken at their park only
    assert "1 records" in client_as("parkp1").get("/members/renewals").get_data(as_text=True)


def test_plate_list_pages(db, tree, client_as):
    client = client_as("parkp1")
    assert client.post("/members/black-list/new", data={"park_id": tree.p1.id, "plate": "沪K1234",
                                                        "reason": ""}).status_code == 400
    assert client.post("/members/black-list/new", data={"park_id": tree.p2.id, "plate": "沪K1234",
                                                        "reason": "x"}).status_code == 400  # not their park
    assert count(db, PlateListEntry) == 0
    assert client.post("/members/black-list/new", data={"park_id": tree.p1.id, "plate": "沪k 1234",
                                                        "reason": "Unpaid"}).status_code == 302
    entry = db.session.scalar(select(PlateListEntry))
    assert (entry.plate, entry.kind, entry.active) == ("沪K1234", "black", True)
    assert client.post("/members/white-list/new", data={"park_id": tree.p1.id, "plate": "沪W1234",
                                                        "valid_from": "2025-01-01", "valid_until": "2024-12-01"}
                       ).status_code == 400
    assert client.post("/members/white-list/new", data={"park_id": tree.p1.id, "plate": "沪W1234",
                                                        "valid_from": "2025-01-01", "valid_until": "2025-12-31"}
                       ).status_code == 302
    white = client.get("/members/white-list").get_data(as_text=True)
    assert "沪W1234" in white and "2025-12-31" in white and "沪K1234" not in white
    assert client.post(f"/members/plate-lists/{entry.id}/edit", data={
        "park_id": tree.p1.id, "plate": "沪K1234", "reason": "Unpaid twice"}).status_code == 302
    assert client.post(f"/members/plate-lists/{entry.id}/deactivate", data={"reason": ""}).status_code == 400
    assert client.post(f"/members/plate-lists/{entry.id}/deactivate", data={"reason": "Paid"}).status_code == 302
    db.session.expire_all()
    assert not entry.active and entry.reason.startswith("Unpaid twice")
    black = client.get("/members/black-list?status=inactive").get_data(as_text=True)
    assert "沪K1234" in black and "/exports/new/black_list?status=inactive" in black


def test_permissions_answer_403(db, tree, make, client_as):
    role = make.role(tree.p1, "Viewer", codes=["members.view", "plate_lists.view"])
    make.staff(tree.p1, "viewer", role=role)
    prod = product(db, tree.p1)
    p = sell(db, tree.staff["parkp1"], prod, tree.p1)
    client = client_as("viewer")
    assert client.get("/members/passes").status_code == 200
    assert client.get(f"/members/passes/{p.id}").status_code == 200
    for method, url in [("get", "/members/products/new"), ("get", "/members/passes/new"),
                        ("post", f"/members/passes/{p.id}/renew"), ("post", f"/members/passes/{p.id}/cancel"),
                        ("post", f"/members/passes/{p.id}/plates"), ("post", f"/members/products/{prod.id}/active"),
                        ("get", "/members/import/passes"), ("get", "/members/white-list/new"),
                        ("get", "/members/import/black")]:
        assert getattr(client, method)(url).status_code == 403, url
    body = client.get("/members/passes").get_data(as_text=True)
    assert "Export to Excel" not in body and "Sell a pass" not in body
    renewer = make.role(tree.p1, "Renewer", codes=["members.view", "members.renew"])
    make.staff(tree.p1, "renewer", role=renewer)
    assert client_as("renewer").get(f"/members/passes/{p.id}/renew").status_code == 200


def test_group_products_are_managed_above_the_park(db, tree, client_as):
    group_prod = product(db, tree.a1, name="Group wide")
    client = client_as("parkp1")
    assert client.get(f"/members/products/{group_prod.id}/edit").status_code == 403
    assert client.post(f"/members/products/{group_prod.id}/active").status_code == 403
    body = client.get("/members/products/new").get_data(as_text=True)
    assert f"group:{tree.a1.id}" not in body


def test_a_park_sees_its_groups_passes_read_only(db, tree, client_as):
    group_prod = product(db, tree.a1, name="Group wide")
    other_group = product(db, tree.a2, name="Other group wide")
    sibling = product(db, tree.p2, name="Sibling street")
    actor = tree.staff["groupa1"]
    ours = sell(db, actor, group_prod, tree.p2, plates="沪G00001", holder="Group Holder")
    theirs = sell(db, tree.staff["groupa2"], other_group, tree.p3, plates="沪G00002", holder="Other Holder")
    next_door = sell(db, actor, sibling, tree.p2, plates="沪G00003", holder="Sibling Holder")
    client = client_as("parkp1")
    listed = client.get("/members/passes").get_data(as_text=True)
    assert "Group Holder" in listed and "Other Holder" not in listed and "Sibling Holder" not in listed
    products = client.get("/members/products").get_data(as_text=True)
    assert "Group wide" in products and "Other group wide" not in products and "Sibling street" not in products
    assert "set by the group" in products
    detail = client.get(f"/members/passes/{ours.id}").get_data(as_text=True)
    assert "Group Holder" in detail and "Change plates" not in detail and 'id="group-pass-note"' in detail
    assert "Alpha Street Two" not in detail  # the sale was made at a sibling park
    for url in (f"/members/passes/{ours.id}/edit", f"/members/passes/{ours.id}/plates",
                f"/members/passes/{ours.id}/cancel"):
        assert client.get(url).status_code == 403, url
        assert client.post(url, data={"holder_name": "X", "plates": "沪G00009", "reason": "x"}).status_code == 403
    for other in (theirs, next_door):
        assert client.get(f"/members/passes/{other.id}").status_code == 404
        assert client.get(f"/members/passes/{other.id}/edit").status_code == 404
    db.session.expire_all()
    assert ours.holder_name == "Group Holder" and ours.state == "active"
    assert [p.plate for p in ours.plates] == ["沪G00001"]
    # the desk of a covered park may renew it, booking the money at its own park
    assert client.get(f"/members/passes/{ours.id}/renew").status_code == 200
    # the group manager still edits it
    assert client_as("groupa1").get(f"/members/passes/{ours.id}/edit").status_code == 200


def test_exports_are_registered_with_the_pages_filters(db, tree):
    from app.exports.registry import EXPORTS
    from app.tenancy.scope import Scope

    prod = product(db, tree.p1, name="One", price_fen=10000)
    actor = tree.staff["groupa1"]
    sell(db, actor, prod, tree.p1, plates="沪A00001", holder="Alice")
    sell(db, actor, prod, tree.p1, plates="沪A00002", holder="Bob")
    scope = Scope.of(actor)
    rows = list(EXPORTS["member_passes"].rows(scope, {"holder": "ali"}))
    assert len(rows) == 1 and rows[0][1] == "Alice" and rows[0][3] == "沪A00001"
    renewals = list(EXPORTS["pass_renewals"].rows(scope, {}))
    assert sorted(r[10] for r in renewals) == [10000, 10000]
    assert len(EXPORTS["pass_renewals"].columns) == len(renewals[0])
    assert list(EXPORTS["member_passes"].rows(Scope.of(tree.staff["harborcity"]), {})) == []
    assert {"white_list", "black_list"} <= set(EXPORTS)
