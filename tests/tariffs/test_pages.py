"""Tariff pages: create (structured form, JSON, pasted legacy rows), versions, disable, previews,
field errors that write nothing, and permission codes."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.types import utcnow
from app.tariffs import services
from app.tariffs.engine import parse_rule, quote
from app.tariffs.models import TariffRule, TariffVersion

SHANGHAI = ZoneInfo("Asia/Shanghai")

BANDED = {
    "kind": "banded",
    "rates": {"hourly": {"tiers": [{"from_minute": 0, "unit_minutes": 30, "price_fen": 0},
                                   {"from_minute": 30, "unit_minutes": 60, "price_fen": 300}]}},
    "schedule": [{"bands": [{"start": "00:00", "end": "24:00", "rate": "hourly"}]}],
    "caps": {"period": {"type": "day", "fen": 3000}},
}


def structured(park, name="Day and night", **change):
    data = {"park_id": park.id, "name": name, "vehicle_class": "any", "effective_from": "", "note": "",
            "day-b_time": "7", "day-e_time": "21", "day-unit": "15", "day-price": "1.50", "day-first_times": "",
            "day-fprice": "", "day-free_time": "15", "day-fpay_type": "1", "day-total24": "20",
            "day-is_fulldaytime": "0", "has_night": "y", "night-unit": "60", "night-price": "1",
            "night-first_times": "", "night-fprice": "", "night-free_time": "", "night-fpay_type": "0",
            "night-total24": "", "minprice_unit": "0", "assist_unit": "", "assist_price": ""}
    data.update(change)
    return data


def json_form(park, document, name="Garage", **change):
    data = {"park_id": park.id, "name": name, "vehicle_class": "any", "effective_from": "", "note": "",
            "document_json": json.dumps(document)}
    data.update(change)
    return data


def _count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def _rule(db, name):
    return db.session.scalar(select(TariffRule).where(TariffRule.name == name))


def _local(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M").replace(tzinfo=SHANGHAI)


def _total(body):
    match = re.search(r'id="fee-total">¥([0-9.\-]+)<', body)
    assert match, "no fee total on the page"
    return match.group(1)


def _yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"


def _make_rule(db, park, document, name="Seeded", vehicle_class="any", effective=None):
    rule = services.create_rule(None, park, name=name, vehicle_class=vehicle_class, document=document,
                                effective_from=effective or datetime(2020, 1, 1, tzinfo=timezone.utc),
                                allow_past=True)
    db.session.commit()
    return rule


# ---------------------------------------------------------------- create

def test_create_with_the_structured_form(tree, client_as, db):
    response = client_as("parkp1").post("/tariffs/new?mode=form", data=structured(tree.p1))
    assert response.status_code == 302, response.get_data(as_text=True)
    rule = _rule(db, "Day and night")
    assert (rule.park_id, rule.vehicle_class, rule.active) == (tree.p1.id, "any", True)
    version = rule.latest
    assert version.version == 1 and version.kind == "parkingos"
    assert version.document["day"] == {"b_time": 7, "e_time": 21, "is_fulldaytime": 0, "unit": 15, "price": "1.50",
                                       "free_time": 15, "fpay_type": 1, "total24": "20"}
    assert version.document["night"]["price"] == "1" and version.document["night"]["unit"] == 60
    assert abs(version.effective_from - utcnow()) < timedelta(minutes=1)
    assert version.created_by_id == tree.staff["parkp1"].id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "TariffRule"))
    assert entry.action == "create" and entry.park_id == tree.p1.id and entry.after["version"] == 1
    page = client_as("parkp1").get("/tariffs").get_data(as_text=True)
    assert "Day and night" in page and "v1" in page


def test_create_with_json_and_a_future_effective_time(tree, client_as, db):
    when = (datetime.now(SHANGHAI) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client_as("groupa1").post("/tariffs/new?mode=json",
                                         data=json_form(tree.p2, BANDED, vehicle_class="new_energy",
                                                        effective_from=when))
    assert response.status_code == 302
    version = _rule(db, "Garage").latest
    assert version.kind == "banded" and version.document == BANDED
    assert version.effective_from == _local(when)  # typed in park time, stored in UTC
    assert "not yet in force" in client_as("groupa1").get("/tariffs").get_data(as_text=True)


def test_park_defined_class_codes_are_checked(tree, client_as, db):
    client = client_as("parkp1")
    assert client.post("/tariffs/new?mode=json", data=json_form(tree.p1, BANDED, vehicle_class="t7_taxi")) \
        .status_code == 302
    response = client.post("/tariffs/new?mode=json", data=json_form(tree.p1, BANDED, name="Bad",
                                                                     vehicle_class="Big Truck"))
    assert response.status_code == 400 and "lower-case letters" in response.get_data(as_text=True)
    assert _rule(db, "Bad") is None


def test_bad_structured_rule_shows_engine_messages_per_field(tree, client_as, db):
    client = client_as("parkp1")
    before = _count(db, TariffVersion), _count(db, AuditEntry)
    response = client.post("/tariffs/new?mode=form",
                                        data=structured(tree.p1, **{"day-unit": "", "day-e_time": "5",
                                                                    "night-price": "1.234"}))
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "is required" in body                       # day.unit, from the engine
    assert "must end later than the day starts" in body  # day.e_time
    assert "has more than 2 decimals" in body         # night.price
    assert (_count(db, TariffVersion), _count(db, AuditEntry)) == before


def test_bad_json_documents_write_nothing(tree, client_as, db):
    client = client_as("parkp1")
    overlapping = {**BANDED, "schedule": [{"bands": [{"start": "00:00", "end": "12:00", "rate": "hourly"},
                                                     {"start": "11:00", "end": "24:00", "rate": "hourly"}]}]}
    gap = {**BANDED, "schedule": [{"bands": [{"start": "00:00", "end": "12:00", "rate": "hourly"}]}]}
    cases = [
        ("{not json", "Not valid JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps({"kind": "lottery"}), "kind: must be one of"),
        (json.dumps(overlapping), "bands overlap at 11:00"),
        (json.dumps(gap), "no band covers 12:00-24:00"),
        (json.dumps({**BANDED, "caps": {"stay_fen": -5}}), "caps.stay_fen: must be at least 0"),
    ]
    for text, message in cases:
        response = client.post("/tariffs/new?mode=json", data={**json_form(tree.p1, {}), "document_json": text})
        assert response.status_code == 400, text
        assert message in response.get_data(as_text=True), text
    assert _count(db, TariffRule) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.object_type == "TariffRule")) == 0


def test_effective_time_in_the_past_is_refused(tree, client_as, db):
    response = client_as("parkp1").post("/tariffs/new?mode=json",
                                        data=json_form(tree.p1, BANDED, effective_from="2020-01-01T08:00"))
    assert response.status_code == 400 and "Must not be in the past" in response.get_data(as_text=True)
    assert _count(db, TariffRule) == 0


def test_second_active_rule_for_the_same_class_is_refused(tree, client_as, db):
    _make_rule(db, tree.p1, BANDED, name="First")
    response = client_as("parkp1").post("/tariffs/new?mode=json", data=json_form(tree.p1, BANDED, name="Second"))
    assert response.status_code == 400 and "already has an active rule" in response.get_data(as_text=True)
    assert _rule(db, "Second") is None


def test_park_outside_scope_is_not_a_choice(tree, client_as, db):
    response = client_as("parkp1").post("/tariffs/new?mode=json", data=json_form(tree.p2, BANDED))
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    assert _count(db, TariffRule) == 0


# ---------------------------------------------------------------- import

LEGACY_ROWS = [
    {"id": 11, "comid": 3, "pay_type": 0, "b_time": 21, "b_minute": 0, "e_time": 7, "e_minute": 0, "unit": 60,
     "price": 1.0, "first_times": 0, "fprice": 0.0, "total24": 20.0, "free_time": 0, "fpay_type": 0,
     "is_fulldaytime": 0, "state": 0, "car_type": 0, "isnight": 0},
    {"id": 10, "comid": 3, "pay_type": 0, "b_time": 7, "b_minute": 0, "e_time": 21, "e_minute": 0, "unit": 15,
     "price": 1.5, "first_times": 0, "fprice": 0.0, "total24": 20.0, "free_time": 15, "fpay_type": 1,
     "is_fulldaytime": 0, "state": 0, "car_type": 0, "isnight": 0},
]


def _import_data(park, pasted, action, **change):
    data = {"park_id": park.id, "name": "Imported", "vehicle_class": "any", "effective_from": "", "note": "",
            "pasted": pasted if isinstance(pasted, str) else json.dumps(pasted), "minprice_unit": "0.5",
            "entered_at": "2026-03-02T20:10", "left_at": "2026-03-03T08:40", "action": action}
    data.update(change)
    return data


def test_import_pasted_rows_previews_then_saves(tree, client_as, db):
    client = client_as("parkp1")
    response = client.post("/tariffs/import", data=_import_data(tree.p1, LEGACY_ROWS, "preview", name=""))
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    expected = services.document_from_paste(LEGACY_ROWS, "0.5")
    assert expected["day"]["b_time"] == 7 and expected["night"]["b_time"] == 21  # day row picked by its hours
    assert expected["day"]["price"] == "1.5" and expected["night"]["total24"] == "20"
    fee = quote(expected, _local("2026-03-02T20:10"), _local("2026-03-03T08:40"), "small", "Asia/Shanghai")
    assert _total(body) == _yuan(fee.total_fen) and fee.total_fen > 0
    assert _count(db, TariffRule) == 0  # a preview writes nothing
    response = client.post("/tariffs/import", data=_import_data(tree.p1, LEGACY_ROWS, "save"))
    assert response.status_code == 302
    assert _rule(db, "Imported").latest.document == expected


def test_import_accepts_a_document_and_a_per_visit_row(tree, client_as, db):
    client = client_as("parkp1")
    response = client.post("/tariffs/import", data=_import_data(
        tree.p1, {"pay_type": 1, "unit": 0, "price": 5, "b_time": 7, "e_time": 21}, "save"))
    assert response.status_code == 302
    assert _rule(db, "Imported").latest.document == {"kind": "parkingos_per_visit", "unit": 0, "price": "5"}
    document = {"kind": "parkingos", "day": {"b_time": 0, "e_time": 24, "unit": 60, "price": "2"}}
    response = client.post("/tariffs/import", data=_import_data(tree.p1, document, "save", name="Doc",
                                                                vehicle_class="large"))
    assert response.status_code == 302 and _rule(db, "Doc").latest.document == document


def test_import_of_bad_rows_shows_messages(tree, client_as, db):
    client = client_as("parkp1")
    cases = [
        ("not json", "Not valid JSON"),
        ("[1]", "rows of the old price table"),
        (json.dumps([LEGACY_ROWS[1], LEGACY_ROWS[1]]), "Both rows are day rows"),
        (json.dumps([{**LEGACY_ROWS[1], "unit": 0}]), "day.unit: must be at least 1"),
        (json.dumps([{**LEGACY_ROWS[1], "price": "abc"}]), "is not a yuan amount"),
    ]
    for pasted, message in cases:
        response = client.post("/tariffs/import", data=_import_data(tree.p1, pasted, "save"))
        assert response.status_code == 400, pasted
        assert message in response.get_data(as_text=True), pasted
    assert _count(db, TariffRule) == 0


# ---------------------------------------------------------------- versions

def test_edit_creates_the_next_version_and_lists_it(tree, client_as, db):
    rule = _make_rule(db, tree.p1, services.document_from_paste(LEGACY_ROWS), name="Street")
    client = client_as("parkp1")
    page = client.get(f"/tariffs/{rule.id}/versions/new")
    assert page.status_code == 200 and 'value="1.5"' in page.get_data(as_text=True)  # latest document shown
    later = (datetime.now(SHANGHAI) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/tariffs/{rule.id}/versions/new?mode=form",
                           data=structured(tree.p1, **{"day-price": "2", "effective_from": later,
                                                       "note": "new prices"}))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    versions = db.session.scalars(select(TariffVersion).where(TariffVersion.rule_id == rule.id)
                                  .order_by(TariffVersion.version)).all()
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].document["day"]["price"] == "1.5" and versions[1].document["day"]["price"] == "2"
    assert versions[1].effective_from == _local(later) and versions[1].note == "new prices"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "update",
                                                       AuditEntry.object_type == "TariffRule"))
    assert entry.before["version"] == 1 and entry.after["version"] == 2
    body = client.get(f"/tariffs/{rule.id}").get_data(as_text=True)
    assert "v2" in body and "scheduled" in body and "parkp1" in body and "new prices" in body


def test_version_earlier_than_the_latest_is_refused(tree, client_as, db):
    future = utcnow() + timedelta(days=10)
    rule = _make_rule(db, tree.p1, BANDED, name="Garage")
    services.add_version(None, rule, document=BANDED, effective_from=future)
    db.session.commit()
    when = (datetime.now(SHANGHAI) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client_as("parkp1").post(f"/tariffs/{rule.id}/versions/new?mode=json",
                                        data={"effective_from": when, "note": "",
                                              "document_json": json.dumps(BANDED)})
    assert response.status_code == 400 and "earlier than the latest" in response.get_data(as_text=True)
    assert _count(db, TariffVersion) == 2


def test_json_edit_of_a_banded_rule(tree, client_as, db):
    rule = _make_rule(db, tree.p1, BANDED, name="Garage")
    client = client_as("parkp1")
    page = client.get(f"/tariffs/{rule.id}/versions/new").get_data(as_text=True)
    assert "price_fen" in page  # a banded document opens in the JSON tab
    changed = {**BANDED, "caps": {"period": {"type": "day", "fen": 2500}}}
    response = client.post(f"/tariffs/{rule.id}/versions/new?mode=json",
                           data={"effective_from": "", "note": "", "document_json": json.dumps(changed)})
    assert response.status_code == 302
    assert services.applicable_version(tree.p1.id, "small", utcnow() + timedelta(seconds=1)).document == changed


# ---------------------------------------------------------------- disable / enable

def test_disable_hides_the_rule_and_enable_brings_it_back(tree, client_as, db):
    rule = _make_rule(db, tree.p1, BANDED, name="Garage")
    client = client_as("parkp1")
    assert services.applicable_version(tree.p1.id, "small", utcnow()) is not None
    assert client.post(f"/tariffs/{rule.id}/active").status_code == 302
    db.session.expire_all()
    assert services.applicable_version(tree.p1.id, "small", utcnow()) is None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "disable")).object_label == "Garage"
    assert "disabled" in client.get("/tariffs?status=disabled").get_data(as_text=True)
    assert client.post(f"/tariffs/{rule.id}/active").status_code == 302
    db.session.expire_all()
    assert services.applicable_version(tree.p1.id, "small", utcnow()).rule_id == rule.id


def test_enable_refused_when_another_rule_took_the_class(tree, client_as, db):
    old = _make_rule(db, tree.p1, BANDED, name="Old")
    client = client_as("parkp1")
    client.post(f"/tariffs/{old.id}/active")
    _make_rule(db, tree.p1, BANDED, name="New")
    response = client.post(f"/tariffs/{old.id}/active", follow_redirects=True)
    assert "already has an active rule" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TariffRule, old.id).active is False


# ---------------------------------------------------------------- previews

def test_rule_page_preview_matches_the_engine(tree, client_as, db):
    document = services.document_from_paste(LEGACY_ROWS)
    rule = _make_rule(db, tree.p1, document, name="Street")
    args = {"entered_at": "2026-03-02T06:40", "left_at": "2026-03-03T09:05", "stay_class": "small",
            "pass_kind": "", "version": ""}
    response = client_as("parkp1").get(f"/tariffs/{rule.id}", query_string=args)
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    fee = quote(parse_rule(document), _local(args["entered_at"]), _local(args["left_at"]), "small", "Asia/Shanghai")
    assert _total(body) == _yuan(fee.total_fen) and fee.total_fen > 0
    assert body.count("<tr><td><span class=\"badge") == len(fee.lines)


def test_preview_with_a_pass(tree, client_as, db):
    rule = _make_rule(db, tree.p3, BANDED, name="Garage")
    args = {"entered_at": "2026-03-02T08:00", "left_at": "2026-03-02T18:00", "stay_class": "small",
            "pass_kind": "day_window", "pass_start": "09:00", "pass_end": "17:00"}
    body = client_as("groupa2").get(f"/tariffs/{rule.id}", query_string=args).get_data(as_text=True)
    fee = quote(BANDED, _local(args["entered_at"]), _local(args["left_at"]), "small", "Asia/Shanghai",
                pass_={"kind": "day_window", "start": "09:00", "end": "17:00"})
    assert _total(body) == _yuan(fee.total_fen)
    plain = quote(BANDED, _local(args["entered_at"]), _local(args["left_at"]), "small", "Asia/Shanghai")
    assert fee.total_fen < plain.total_fen


def test_standalone_preview_uses_the_version_an_order_would_get(tree, client_as, db):
    _make_rule(db, tree.p1, BANDED, name="Garage")
    args = {"park_id": tree.p1.id, "entered_at": "2026-03-02T08:00", "left_at": "2026-03-02T12:20",
            "stay_class": "large", "pass_kind": ""}
    body = client_as("parkp1").get("/tariffs/preview", query_string=args).get_data(as_text=True)
    fee = quote(BANDED, _local(args["entered_at"]), _local(args["left_at"]), "large", "Asia/Shanghai")
    assert _total(body) == _yuan(fee.total_fen) == "12.00"
    assert "Garage" in body
    empty = client_as("parkp1").get("/tariffs/preview", query_string={**args, "entered_at": "2019-01-01T08:00",
                                                                           "left_at": "2019-01-01T12:00"})
    assert _total(empty.get_data(as_text=True)) == "0.00"


def test_bad_preview_input_gives_field_errors_not_500(tree, client_as, db):
    rule = _make_rule(db, tree.p1, BANDED, name="Garage")
    client = client_as("parkp1")
    base = {"entered_at": "2026-03-02T08:00", "left_at": "2026-03-02T10:00", "stay_class": "small", "pass_kind": ""}
    cases = [
        ({"left_at": "2026-03-02T07:00"}, "Must be later than the entry"),
        ({"entered_at": "yesterday"}, "Not a valid datetime value"),
        ({"left_at": "2026-02-30T10:00"}, "Not a valid datetime value"),
        ({"left_at": "2028-03-02T10:00"}, "at most 366 days"),
        ({"stay_class": "Big Truck"}, "lower-case letters"),
        ({"pass_kind": "discount", "pass_percent": "150"}, "Number must be between 1 and 100"),
        ({"pass_kind": "day_window", "pass_start": "25:00", "pass_end": "10:00"}, "pass"),
        ({"pass_kind": "day_window"}, "is required"),
        ({"version": "9"}, "Not a valid choice"),
        ({"entered_at": "2019-01-01T08:00"}, "No version of this rule is in force"),
    ]
    for change, message in cases:
        response = client.get(f"/tariffs/{rule.id}", query_string={**base, **change})
        assert response.status_code == 400, change
        assert message in response.get_data(as_text=True), change
    response = client.get("/tariffs/preview", query_string={**base, "park_id": "abc"})
    assert response.status_code == 400


def test_bad_local_time_in_a_zone_with_clock_changes(tree, client_as, db, make):
    park = make.park(tree.a1, "Zurich Lane", timezone="Europe/Zurich")
    rule = _make_rule(db, park, BANDED, name="Garage")
    response = client_as("groupa1").get(f"/tariffs/{rule.id}", query_string={
        "entered_at": "2026-03-29T02:30", "left_at": "2026-03-29T05:00", "stay_class": "small"})
    assert response.status_code == 400 and "does not exist" in response.get_data(as_text=True)


# ---------------------------------------------------------------- permissions and listing

def test_role_without_edit_gets_403(tree, client_as, db, make):
    rule = _make_rule(db, tree.p1, BANDED, name="Garage")
    role = make.role(tree.p1, "Tariff viewer", codes=["tariffs.view", "dashboard.view"])
    make.staff(tree.p1, "viewer1", role=role)
    client = client_as("viewer1")
    assert client.get("/tariffs").status_code == 200
    assert client.get(f"/tariffs/{rule.id}").status_code == 200
    assert client.get("/tariffs/preview").status_code == 200
    assert client.get(f"/tariffs/{rule.id}/versions/new").status_code == 403
    assert client.post(f"/tariffs/{rule.id}/versions/new", data={"document_json": "{}"}).status_code == 403
    assert client.get("/tariffs/new").status_code == 403
    assert client.get("/tariffs/import").status_code == 403
    assert client.post(f"/tariffs/{rule.id}/active").status_code == 403
    body = client.get(f"/tariffs/{rule.id}").get_data(as_text=True)
    assert "Edit (new version)" not in body and "Disable" not in body


def test_role_without_tariffs_view_sees_no_nav_and_gets_403(tree, client_as, make):
    role = make.role(tree.p1, "Dashboard only", codes=["dashboard.view"])
    make.staff(tree.p1, "plain1", role=role)
    client = client_as("plain1")
    assert client.get("/tariffs").status_code == 403
    assert "/tariffs" not in client.get("/").get_data(as_text=True)
    assert "/tariffs" in client_as("parkp1").get("/").get_data(as_text=True)


def test_list_filters_and_scope(tree, client_as, db):
    _make_rule(db, tree.p1, BANDED, name="One garage")
    _make_rule(db, tree.p2, BANDED, name="Two garage", vehicle_class="large")
    _make_rule(db, tree.hp, BANDED, name="Harbor garage")
    client = client_as("groupa1")
    body = client.get("/tariffs").get_data(as_text=True)
    assert "One garage" in body and "Two garage" in body and "Harbor" not in body
    body = client.get("/tariffs", query_string={"park_id": tree.p2.id}).get_data(as_text=True)
    assert "Two garage" in body and "One garage" not in body
    body = client.get("/tariffs", query_string={"vehicle_class": "large"}).get_data(as_text=True)
    assert "Two garage" in body and "One garage" not in body
    body = client_as("parkp1").get("/tariffs").get_data(as_text=True)
    assert "One garage" in body and "Two garage" not in body
    assert client_as("parkp1").get("/tariffs", query_string={"park_id": tree.p2.id}).status_code == 200


def test_empty_list_says_what_to_do(tree, client_as):
    body = client_as("parkp1").get("/tariffs").get_data(as_text=True)
    assert "No tariff rules here yet" in body and "New rule" in body


def test_other_tenants_rule_answers_404(tree, client_as, db):
    rule = _make_rule(db, tree.hp, BANDED, name="Harbor garage")
    client = client_as("citya")
    assert client.get(f"/tariffs/{rule.id}").status_code == 404
    assert client.post(f"/tariffs/{rule.id}/active").status_code == 404
    assert client.post(f"/tariffs/{rule.id}/versions/new?mode=json",
                       data={"document_json": json.dumps(BANDED)}).status_code == 404
    db.session.expire_all()
    assert db.session.get(TariffRule, rule.id).active and _count(db, TariffVersion) == 1

