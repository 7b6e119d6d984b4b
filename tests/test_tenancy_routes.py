"""Generated tenancy test: walks every admin route of the URL map.

Each route with an id parameter is called with the ids of objects that belong to a sibling
tenant and must answer 403 or 404; each list page must not show a row of another tenant.
A new route with an id parameter nobody taught this test about fails here until it is."""
from __future__ import annotations

import re
from datetime import date, time

import pytest

from app.audit.models import AuditEntry
from app.core.types import utcnow
from app.berths.models import Berth, BerthSegment
from app.devices.models import Handheld, SimCard
from app.extensions import db
from app.lanes.models import Barrier, Booth, Camera, Lane, LedScreen, Monitor
from app.members.models import MonthlyPass, MonthlyProduct
from app.orders.models import OrderPhoto, ParkingOrder, PlateListEntry
from app.parks.models import CarType, CollectorSettings, FreeReason, PlateCarType
from app.shifts.models import Shift, WorkHours
from app.staff.models import Role
from app.tariffs.models import TariffRule
from app.inspections.models import InspectionTask, InspectorGroup, ViolationReport
from app.sensors.models import BaseStation, Sensor
from tests.factories import MARKER

# the language switch is public too: the sign-in page offers it (it writes only the cookie session there)
PUBLIC_ENDPOINTS = {"static", "bootstrap.static", "auth.login", "auth.logout", "i18n.switch_locale"}
# the handheld web app's files (/m/) hold no data: what it shows comes from /pos/v1 with a device token
# the alliance's payment notices: no session, each notice signed with the city's vendor key
PUBLIC_ENDPOINTS |= {"alliance_api.alliance_notify"}
PUBLIC_ENDPOINTS |= {"handheld.shell", "handheld.service_worker", "handheld.manifest", "handheld.static"}
# the driver's pay pages and the providers' notice URL: signed tokens and signed notices, no session
# (tests/payments/test_driver_pages.py shows they give no other driver's data away)
PUBLIC_ENDPOINTS |= {"pay.notify", "pay.sandbox_wallet", "pay.berth", "pay.pay_berth", "pay.arrears", "pay.pay_arrears",
                     "pay.receipt"}

# viewer username -> (which tree nodes are foreign to them, texts that must never show on their pages)
VIEWERS = {
    "citya": ({"city": "city_h", "group": "h1", "area": "h1x", "park": "hp", "staff": "harborgroup"},
              [MARKER.lower()]),
    "groupa1": ({"city": "city_h", "group": "a2", "area": "a2x", "park": "p3", "staff": "groupa2"},
                [MARKER.lower(), "alpha group two", "alpha garage three", "alpha riverside", "groupa2"]),
    "parkp1": ({"city": "city_h", "group": "a2", "area": "a2x", "park": "p2", "staff": "parkp2"},
               [MARKER.lower(), "alpha street two", "alpha garage three", "parkp2", "groupa1"]),
}


def _foreign_role(tree, foreign):
    role = Role(name=f"{MARKER} foreign role", kind="admin", target_level="park", builtin=False)
    role.anchor_at(tree.nodes[foreign["park"]])
    return role


def _foreign_audit_entry(tree, foreign):
    entry = AuditEntry(action="update", object_type="Park", object_label=f"{MARKER} foreign entry")
    entry.anchor_at(tree.nodes[foreign["park"]])
    return entry


def _foreign_export_job(tree, foreign):
    from app.exports.models import ExportJob

    job = ExportJob(requested_by_id=tree.staff[foreign["staff"]].id, kind="report_daily", state="done",
                    params={"note": MARKER}, file_path="foreign.xlsx")
    job.anchor_at(tree.nodes[foreign["park"]])
    return job


def _foreign_signin(tree, foreign):
    from app.auth.models import SignInSession

    now = utcnow()
    return SignInSession(token_hash=f"{MARKER}-{foreign['staff']}".ljust(64, "0"), staff=tree.staff[foreign["staff"]],
                         created_at=now, last_seen_at=now, user_agent=f"{MARKER} browser")


def _foreign_import_job(tree, foreign):
    from app.members.models import ImportJob

    job = ImportJob(requested_by_id=tree.staff[foreign["staff"]].id, kind="black", state="failed",
                    file_name=f"{MARKER}.xlsx", error=f"{MARKER} error")
    job.anchor_at(tree.nodes[foreign["park"]])
    return job


class _NotAnObject:
    """A URL value that names no row (export kinds): nothing to save, only an id to put in the URL."""

    def __init__(self, value):
        self.id = value


# URL parameter -> builder of an object outside the viewer's scope (a node id, or a new row to save).
# A route with a parameter missing here fails the walk: add a builder for it.
FOREIGN = {
    "city_id": lambda tree, f: tree.nodes[f["city"]],
    "group_id": lambda tree, f: tree.nodes[f["group"]],
    "area_id": lambda tree, f: tree.nodes[f["area"]],
    "park_id": lambda tree, f: tree.nodes[f["park"]],
    "staff_id": lambda tree, f: tree.staff[f["staff"]],
    "session_id": _foreign_signin,
    "role_id": _foreign_role,
    "entry_id": _foreign_audit_entry,
    "segment_id": lambda tree, f: BerthSegment(park_id=tree.nodes[f["park"]].id, name=f"{MARKER} segment"),
    "berth_id": lambda tree, f: Berth(park_id=tree.nodes[f["park"]].id, number="HARBOR1", segment=BerthSegment(
        park_id=tree.nodes[f["park"]].id, name=f"{MARKER} berth segment")),
    "handheld_id": lambda tree, f: (h := Handheld(serial=f"{MARKER}-pos")).anchor_at(tree.nodes[f["park"]]) or h,
    "settings_id": lambda tree, f: CollectorSettings(park_id=tree.nodes[f["park"]].id, receipt_header=MARKER),
    "reason_id": lambda tree, f: FreeReason(park_id=tree.nodes[f["park"]].id, name=f"{MARKER} reason"),
    "hours_id": lambda tree, f: WorkHours(park_id=tree.nodes[f["park"]].id, role=_foreign_role(tree, f),
                                          starts_at=time(8), ends_at=time(18)),
    "rule_id": lambda tree, f: TariffRule(park_id=tree.nodes[f["park"]].id, name=f"{MARKER} foreign tariff"),
    "job_id": lambda tree, f: _foreign_export_job(tree, f),
    "import_job_id": _foreign_import_job,
    "kind": lambda tree, f: _NotAnObject("no-such-export"),  # not tenant data: an unknown kind answers 404
    "product_id": lambda tree, f: (p := MonthlyProduct(name=f"{MARKER} product", price_fen=100)).anchor_at(
        tree.nodes[f["park"]]) or p,
    "pass_id": lambda tree, f: (p := MonthlyPass(holder_name=f"{MARKER} holder", starts_on=date(2025, 1, 1),
                                                 ends_on=date(2025, 1, 31), product=(pr := MonthlyProduct(
                                                     name=f"{MARKER} pass product", price_fen=100)))).anchor_at(
        tree.nodes[f["park"]]) or pr.anchor_at(tree.nodes[f["park"]]) or p,
    "list_entry_id": lambda tree, f: PlateListEntry(park_id=tree.nodes[f["park"]].id, plate="HARBOR01", kind="black",
                                                    reason=f"{MARKER} reason"),
    "order_id": lambda tree, f: ParkingOrder(park_id=tree.nodes[f["park"]].id, plate="HB00001", entered_at=utcnow(),
                                             free_reason=f"{MARKER} reason"),
    "photo_id": lambda tree, f: OrderPhoto(park_id=(p := tree.nodes[f["park"]].id), order_id=(o := ParkingOrder(
        park_id=p, plate="HB00002", entered_at=utcnow())) and (db.session.add(o) or db.session.flush() or o.id),
                                           kind="entry", path="x.png", content_type="image/png", size_bytes=1,
                                           delete_after=utcnow()),
    "shift_id": lambda tree, f: Shift(park_id=tree.nodes[f["park"]].id, collector=tree.staff[f["staff"]],
                                      started_at=utcnow(), segment=BerthSegment(park_id=tree.nodes[f["park"]].id,
                                                                                name=f"{MARKER} shift segment")),
    "sensor_id": lambda tree, f: Sensor(park_id=tree.nodes[f["park"]].id, serial=f"{MARKER}-SENSOR-1"),
    "station_id": lambda tree, f: BaseStation(park_id=tree.nodes[f["park"]].id, serial=f"{MARKER}-BS-1",
                                              name=f"{MARKER} station", key_hash="0" * 64, key_hint="bs_harb"),
    "task_id": lambda tree, f: InspectionTask(park_id=tree.nodes[f["park"]].id, kind="other", note=f"{MARKER} task"),
    "inspector_group_id": lambda tree, f: InspectorGroup(park_id=tree.nodes[f["park"]].id, name=f"{MARKER} patrol"),
    "report_id": lambda tree, f: ViolationReport(park_id=tree.nodes[f["park"]].id, inspector=tree.staff[f["staff"]],
                                                 kind="violation", note=f"{MARKER} report", observed_at=utcnow()),
    "booth_id": lambda tree, f: Booth(park_id=tree.nodes[f["park"]].id, name=f"{MARKER} booth"),
    "lane_id": lambda tree, f: _foreign_lane(tree, f, "lane"),
    "camera_id": lambda tree, f: Camera(lane=_foreign_lane(tree, f, "camera"), park_id=tree.nodes[f["park"]].id,
                                        name=f"{MARKER} camera", ip="10.0.0.1", password="harbor-secret"),
    "barrier_id": lambda tree, f: Barrier(lane=_foreign_lane(tree, f, "barrier"), park_id=tree.nodes[f["park"]].id,
                                          name=f"{MARKER} barrier"),
    "screen_id": lambda tree, f: LedScreen(lane=_foreign_lane(tree, f, "screen"), park_id=tree.nodes[f["park"]].id,
                                           name=f"{MARKER} screen"),
    "monitor_id": lambda tree, f: Monitor(park_id=tree.nodes[f["park"]].id, name=f"{MARKER} monitor"),
    "sim_id": lambda tree, f: SimCard(park_id=tree.nodes[f["park"]].id, iccid=f"8986{MARKER}{f['park']}",
                                      note=f"{MARKER} sim"),
    "car_type_id": lambda tree, f: _foreign_car_type(tree, f, "car type"),
    "binding_id": lambda tree, f: PlateCarType(park_id=tree.nodes[f["park"]].id, plate="HARBOR02", note=MARKER,
                                               car_type=_foreign_car_type(tree, f, "bound type")),
    "plate": lambda tree, f: _foreign_plate(tree, f),
    "account_id": lambda tree, f: _foreign_account(tree, f),
    "payment_id": lambda tree, f: _foreign_payment(tree, f),
    "reconciliation_id": lambda tree, f: _foreign_reconciliation(tree, f),
    "subscription_id": lambda tree, f: _foreign_subscription(tree, f),
    "message_id": lambda tree, f: _foreign_outbox_message(tree, f),
}


def _foreign_account(tree, foreign):
    from app.payments.models import MerchantAccount

    account = MerchantAccount(provider="sandbox", name=f"{MARKER} account", secrets='{"hmac_key": "x"}',
                              secret_hint="x")
    account.anchor_at(tree.nodes[foreign["group"]])
    return account


def _foreign_payment(tree, foreign):
    from app.payments.models import Payment

    return Payment(park_id=tree.nodes[foreign["park"]].id, account=_foreign_account(tree, foreign), plate="HB00003",
                   provider="sandbox", out_trade_no=f"{MARKER}-{foreign['park']}", amount_fen=100,
                   receipt_token=f"{MARKER}-{foreign['park']}", expires_at=utcnow(), flag_note=MARKER)


def _foreign_reconciliation(tree, foreign):
    from app.payments.models import Reconciliation

    result = Reconciliation(account=_foreign_account(tree, foreign), day=date(2026, 1, 1), source="uploaded",
                            differences=[{"kind": "paid_not_booked", "trade_no": MARKER}])
    result.anchor_at(tree.nodes[foreign["group"]])
    return result


def _foreign_plate(tree, foreign):
    """A plate with an order in the foreign park only: its plate page must find nothing for the viewer."""
    db.session.add(ParkingOrder(park_id=tree.nodes[foreign["park"]].id, plate="HB00009", entered_at=utcnow(),
                                free_reason=f"{MARKER} plate"))
    return _NotAnObject("HB00009")


def _foreign_subscription(tree, foreign, what="subscription"):
    from app.integrations.models import WebhookSubscription

    sub = WebhookSubscription(name=f"{MARKER} {what}", url="http://127.0.0.1:9/", secret="s", secret_hint="s",
                              events=["order.opened"])
    sub.anchor_at(tree.nodes[foreign["group"]])
    return sub


def _foreign_outbox_message(tree, foreign):
    from app.integrations.models import OutboxMessage

    sub = _foreign_subscription(tree, foreign, "delivery")
    db.session.add(sub)
    db.session.flush()
    park = tree.nodes[foreign["park"]]
    return OutboxMessage(city_id=park.city_id, park_id=park.id, topic="order.opened", event_id="e" * 32,
                         payload={"note": MARKER}, subscription_id=sub.id)


def _foreign_car_type(tree, foreign, what):
    return CarType(park_id=tree.nodes[foreign["park"]].id, name=f"{MARKER} {what}", code=what)


def _foreign_lane(tree, foreign, what):
    return Lane(park_id=tree.nodes[foreign["park"]].id, name=f"{MARKER} {what} lane")


def _foreign_objects(tree, foreign: dict) -> dict:
    """Param name -> id of an object outside the viewer's scope."""
    objects = {name: build(tree, foreign) for name, build in FOREIGN.items()}
    db.session.add_all(o for o in objects.values() if o.id is None)
    db.session.commit()
    return {name: obj.id for name, obj in objects.items()}


def admin_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC_ENDPOINTS
            and not r.rule.startswith(("/pos/", "/sync/"))]


def _url(rule, values):
    missing = [a for a in rule.arguments if a not in values]
    assert not missing, (f"{rule.rule} takes {missing}: teach tests/test_tenancy_routes.py which foreign "
                         f"object fills it, so the route's scoping is tested")
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


@pytest.fixture
def seeded(tree, client_as):
    for username in ("harborcity", "harborgroup", "harborpark", "groupa2", "parkp2"):
        client_as(username)  # leaves login entries in every tenant's audit log
    return tree


@pytest.mark.parametrize("viewer", sorted(VIEWERS))
def test_objects_of_other_tenants_answer_404(app, seeded, client_as, viewer):
    foreign, _forbidden = VIEWERS[viewer]
    values = _foreign_objects(seeded, foreign)
    client = client_as(viewer)
    checked = 0
    for rule in admin_rules(app):
        if not rule.arguments:
            continue
        url = _url(rule, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={})
            assert response.status_code in (403, 404), f"{viewer} {method} {url} -> {response.status_code}"
            assert MARKER.lower() not in response.get_data(as_text=True).lower()
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("viewer", sorted(VIEWERS))
def test_list_pages_show_no_rows_of_other_tenants(app, seeded, client_as, viewer):
    _foreign, forbidden = VIEWERS[viewer]
    client = client_as(viewer)
    pages = 0
    for rule in admin_rules(app):
        if rule.arguments or "GET" not in rule.methods:
            continue
        response = client.get(rule.rule)
        if response.status_code == 403:
            continue
        assert response.status_code == 200, f"{viewer} GET {rule.rule} -> {response.status_code}"
        body = response.get_data(as_text=True).lower()
        leaked = [word for word in forbidden if word in body]
        assert not leaked, f"{viewer} sees {leaked} on {rule.rule}"
        pages += 1
    assert pages >= 5


@pytest.mark.parametrize("viewer", sorted(VIEWERS))
def test_exports_hold_no_rows_of_other_tenants(app, seeded, client_as, viewer):
    """The list-leak walk, for files: every registered export kind, downloaded as the viewer."""
    import io

    import openpyxl

    from app.exports.registry import EXPORTS

    foreign, forbidden = VIEWERS[viewer]
    _foreign_objects(seeded, foreign)  # rows of the other tenants that an export could leak
    client = client_as(viewer)
    files = 0
    for kind in sorted(EXPORTS):
        response = client.post(f"/exports/new/{kind}")
        if response.status_code == 403:
            continue
        assert response.status_code == 302, f"{viewer} export {kind} -> {response.status_code}"
        status = client.get(response.headers["Location"] + "/status").get_json()
        assert status["state"] == "done", f"{viewer} export {kind}: {status}"
        book = openpyxl.load_workbook(io.BytesIO(client.get(status["download_url"]).data), read_only=True)
        text = " ".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                        for v in row if v is not None).lower()
        leaked = [word for word in forbidden if word in text]
        assert not leaked, f"{viewer} finds {leaked} in the {kind} export"
        files += 1
    assert files >= 2


def test_platform_sees_both_cities(seeded, client_as):
    body = client_as("root").get("/org/cities").get_data(as_text=True)
    assert "Alpha City" in body and f"{MARKER} City" in body


def test_every_admin_route_requires_sign_in(app, seeded):
    client = app.test_client()
    values = {name: 1 for rule in admin_rules(app) for name in rule.arguments}
    for rule in admin_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_url(rule, values), method=method)
            assert response.status_code in (302, 401), f"{method} {rule.rule} open to strangers"
            if response.status_code == 302:
                assert "/login" in response.headers["Location"]


def test_scope_refuses_a_model_without_scope_clause(app, db):
    from app.tenancy.scope import Scope

    class Unscoped:
        __name__ = "Unscoped"

    with pytest.raises(TypeError):
        Scope.platform().clause(Unscoped)
