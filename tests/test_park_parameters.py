"""Park parameters, city rules, car types and plate bindings (车场参数配置)."""
import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.parks import services
from app.parks.models import CarType, CollectorSettings, ParkParameters, PlateCarType
from app.sensors.models import SensorSettings


def _count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _params(**change):
    data = {"distinguish_vehicle_classes": "y", "allow_free_settlement": "y", "entry_when_full": "",
            "allow_non_pass_cars": "y", "allow_pass_second_car": "", "plate_province": "粤",
            "hide_amounts": "", "photo_retention_days": "90", "auto_escape_unattended": ""}
    data.update(change)
    return {k: v for k, v in data.items() if v}


def _audits(db, object_type):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type)
                              .order_by(AuditEntry.id)).all()


# --- parameters -------------------------------------------------------------------------------

def test_a_park_without_parameters_uses_the_defaults(tree, client_as, db):
    params = services.park_parameters(tree.p1.id)
    assert params.id is None and params.allow_non_pass_cars and params.entry_when_full
    assert params.plate_province is None and not params.distinguish_vehicle_classes
    body = client_as("parkp1").get("/park-settings/parameters").get_data(as_text=True)
    assert "Alpha Street One" in body and "defaults" in body and "Alpha Street Two" not in body
    body = client_as("parkp1").get(f"/park-settings/parameters/{tree.p1.id}").get_data(as_text=True)
    assert "uses the defaults" in body and 'value="90"' in body
    assert _count(db, ParkParameters) == 0


def test_saving_parameters_writes_each_to_its_owner_and_audits(tree, client_as, db):
    client = client_as("groupa1")
    url = f"/park-settings/parameters/{tree.p1.id}"
    assert client.post(url, data=_params()).status_code == 302
    params = services.park_parameters(tree.p1.id)
    assert params.id and params.distinguish_vehicle_classes and not params.entry_when_full
    assert not params.allow_pass_second_car and params.plate_province == "粤"
    # unchanged handheld and sensor settings create no rows
    assert _count(db, CollectorSettings) == 0 and _count(db, SensorSettings) == 0
    assert client.post(url, data=_params(hide_amounts="y", photo_retention_days="30",
                                         auto_escape_unattended="y", plate_province="")).status_code == 302
    db.session.expire_all()
    collector = services.settings_for(tree.p1)
    assert collector.id and collector.hide_amounts and collector.photo_retention_days == 30
    assert db.session.scalar(select(SensorSettings.auto_escape_unattended)
                             .where(SensorSettings.park_id == tree.p1.id)) is True
    assert services.park_parameters(tree.p1.id).plate_province is None
    created, updated = _audits(db, "ParkParameters")
    assert created.action == "create" and created.park_id == tree.p1.id
    assert updated.before == {"plate_province": "粤"} and updated.after == {"plate_province": None}
    assert _audits(db, "CollectorSettings")[0].after["hide_amounts"] is True
    assert _audits(db, "SensorSettings")[0].after == {"auto_escape_unattended": True}
    body = client.get(f"/park-settings/collector/park/{tree.p1.id}").get_data(as_text=True)
    assert 'value="30"' in body  # the collector settings page shows the same value
    payload = services.parameters_payload(tree.p1.id)
    assert payload["hide_amounts"] is True and payload["allow_pass_second_car"] is False
    assert payload["citywide_arrears"] is False and payload["reentry_min_minutes"] == 0


@pytest.mark.parametrize("change, message", [
    ({"photo_retention_days": "0"}, "Number must be between 1 and 3650"),
    ({"photo_retention_days": "soon"}, "Not a valid integer"),
    ({"plate_province": "XX"}, "Not a valid choice"),
])
def test_bad_parameters_save_nothing(tree, client_as, db, change, message):
    response = client_as("parkp1").post(f"/park-settings/parameters/{tree.p1.id}", data=_params(**change))
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert _count(db, ParkParameters) == 0 and _count(db, AuditEntry, AuditEntry.object_type.in_(
        ["ParkParameters", "CollectorSettings", "SensorSettings"])) == 0


def test_viewer_reads_parameters_but_cannot_save(tree, make, client_as, db):
    viewer = make.role(tree.p1, "Parameter viewer", codes=["park_settings.view"])
    make.staff(tree.p1, "paramviewer", role=viewer)
    client = client_as("paramviewer")
    body = client.get(f"/park-settings/parameters/{tree.p1.id}").get_data(as_text=True)
    assert 'id="parameters-view"' in body and "<form" not in body.split('id="parameters-view"')[1]
    assert client.post(f"/park-settings/parameters/{tree.p1.id}", data=_params()).status_code == 403
    assert _count(db, ParkParameters) == 0


def test_lane_override_wins_over_the_park_default():
    assert services.lane_allows(True, None) is True
    assert services.lane_allows(True, False) is False
    assert services.lane_allows(False, True) is True


# --- city rules -------------------------------------------------------------------------------

def test_city_manager_edits_city_rules_others_cannot(tree, client_as, db):
    client = client_as("citya")
    url = f"/park-settings/city-rules/{tree.city_a.id}"
    body = client.get("/park-settings/city-rules").get_data(as_text=True)
    assert tree.city_a.name in body and tree.city_h.name not in body
    data = {"citywide_arrears": "y", "reentry_min_minutes": "5", "reentry_resume_minutes": "15"}
    assert client.post(url, data=data).status_code == 302
    db.session.refresh(tree.city_a)
    city = tree.city_a
    assert (city.citywide_arrears, city.plate_in_two_parks, city.reentry_min_minutes,
            city.reentry_resume_minutes) == (True, False, 5, 15)
    entry = _audits(db, "CityRules")[0]
    assert entry.before["reentry_min_minutes"] == 0 and entry.after["reentry_min_minutes"] == 5
    response = client.post(url, data={**data, "reentry_resume_minutes": "-1"})
    assert response.status_code == 400 and "Number must be between 0 and 1440" in response.get_data(as_text=True)
    assert client_as("groupa1").post(url, data=data).status_code == 403
    assert client_as("parkp1").get(url).status_code == 403


# --- car types --------------------------------------------------------------------------------

def test_car_types_add_edit_disable_with_codes_unique_per_park(tree, client_as, db):
    client = client_as("groupa1")
    body = client.get("/park-settings/car-types").get_data(as_text=True)
    assert "New car type" in body and "add the first one" in body
    new = "/park-settings/car-types/new"
    assert client.post(new, data={"park_id": tree.p1.id, "name": "Small", "vehicle_class": "small"}).status_code == 302
    assert client.post(new, data={"park_id": tree.p1.id, "name": "Large", "code": "7",
                                  "vehicle_class": "large"}).status_code == 302
    assert client.post(new, data={"park_id": tree.p2.id, "name": "Small", "vehicle_class": "small"}).status_code == 302
    for data, message in (({"name": "Small"}, "of that name already"), ({"name": "Van", "code": "7"}, "with that code"),
                          ({"name": "Van", "vehicle_class": "bus"}, "Not a valid choice")):
        response = client.post(new, data={"park_id": tree.p1.id, "vehicle_class": "small", **data})
        assert response.status_code == 400 and message in response.get_data(as_text=True), data
    small = db.session.scalar(select(CarType).where(CarType.park_id == tree.p1.id, CarType.name == "Small"))
    assert small.code == "1" and _count(db, CarType) == 3
    assert client.post(f"/park-settings/car-types/{small.id}/edit", data={
        "park_id": tree.p1.id, "name": "Small car", "code": "1", "vehicle_class": "small"}).status_code == 302
    assert client.post(f"/park-settings/car-types/{small.id}/active").status_code == 302
    db.session.refresh(small)
    assert (small.name, small.active) == ("Small car", False)
    body = client.get(f"/park-settings/car-types?park_id={tree.p1.id}").get_data(as_text=True)
    assert "Small car" in body and "Large" in body and "<td>Small</td>" not in body  # p2's type is filtered out
    actions = [e.action for e in _audits(db, "CarType")]
    assert sorted(actions) == ["create", "create", "create", "disable", "update"]
    response = client_as("parkp1").post(new, data={"park_id": tree.p2.id, "name": "Forged", "vehicle_class": "small"})
    assert response.status_code == 400 and _count(db, CarType) == 3


# --- plate bindings ---------------------------------------------------------------------------

@pytest.fixture()
def car_types(tree, db):
    small = CarType(park_id=tree.p1.id, name="Small", code="1", vehicle_class="small")
    large = CarType(park_id=tree.p1.id, name="Large", code="2", vehicle_class="large")
    db.session.add_all([small, large])
    db.session.commit()
    return small, large


def test_bulk_paste_binds_moves_and_counts(tree, client_as, db, car_types):
    small, large = car_types
    client = client_as("parkp1")
    url = "/park-settings/plate-car-types/new"
    assert "Alpha Street One / Large" in client.get(url).get_data(as_text=True)
    response = client.post(url, data={"car_type_id": small.id, "plates": "粤B12345\n粤b-23456, 粤B12345；粤B34567"},
                           follow_redirects=True)
    assert "3 plates bound, 0 moved from another car type, 0 already bound" in response.get_data(as_text=True)
    response = client.post(url, data={"car_type_id": large.id, "plates": "粤B23456 粤B99999", "note": "trucks"},
                           follow_redirects=True)
    assert "1 plates bound, 1 moved" in response.get_data(as_text=True)
    assert services.car_type_of(tree.p1.id, "粤B23456").id == large.id
    assert services.car_type_of(tree.p1.id, "粤B12345").id == small.id
    assert services.car_type_of(tree.p2.id, "粤B12345") is None
    body = client.get(f"/park-settings/plate-car-types?car_type_id={large.id}").get_data(as_text=True)
    assert "粤B99999" in body and "trucks" in body and "粤B12345" not in body
    moved = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "PlateCarType",
                                                       AuditEntry.action == "update"))
    assert moved.before["car_type_id"] == small.id and moved.after["car_type_id"] == large.id
    binding = db.session.scalar(select(PlateCarType).where(PlateCarType.plate == "粤B99999"))
    assert client.post(f"/park-settings/plate-car-types/{binding.id}/delete").status_code == 302
    assert _count(db, PlateCarType) == 3


def test_a_bad_plate_refuses_the_whole_paste(tree, client_as, db, car_types):
    small, _large = car_types
    client = client_as("parkp1")
    url = "/park-settings/plate-car-types/new"
    response = client.post(url, data={"car_type_id": small.id, "plates": "粤B12345\nno!\n粤B23456"})
    assert response.status_code == 400 and "Not plates: no!" in response.get_data(as_text=True)
    small.active = False
    db.session.commit()
    response = client.post(url, data={"car_type_id": small.id, "plates": "粤B12345"})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    assert _count(db, PlateCarType) == 0 and _count(db, AuditEntry, AuditEntry.object_type == "PlateCarType") == 0
    with pytest.raises(services.SettingsError, match="disabled"):
        services.bind_plates(None, small, "粤B12345")


def test_bindings_page_says_to_add_car_types_first(tree, client_as):
    body = client_as("parkp1").get("/park-settings/plate-car-types").get_data(as_text=True)
    assert "No car types yet" in body and "Bind plates</a>" not in body
    body = client_as("parkp1").get("/park-settings/plate-car-types/new").get_data(as_text=True)
    assert "add an active one under “Car types” first" in body


def test_changes_stored_elsewhere_mark_the_parameters_changed_for_the_site_feed(tree, db):
    values = services.parameters_form_data(tree.p1)
    params = services.save_parameters(None, tree.p1, values)
    db.session.commit()
    first = params.updated_at
    services.save_parameters(None, tree.p1, {**values, "auto_escape_unattended": True})
    db.session.commit()
    assert params.updated_at > first
    second = params.updated_at
    services.save_city_rules(None, tree.city_a, {"reentry_min_minutes": 3})
    db.session.commit()
    assert params.updated_at > second and services.parameters_payload(tree.p1.id)["reentry_min_minutes"] == 3


def test_demo_configures_off_street_parks_once(tree, db):
    from app.parks.demo import seed_park_config
    seed_park_config()
    seed_park_config()
    assert _count(db, ParkParameters) == 1 and _count(db, CarType) == 2  # p3 is the tree's only off-street park
    assert services.car_type_of(tree.p3.id, "沪A88888").vehicle_class == "large"
    assert services.park_parameters(tree.p1.id).id is None  # on-street parks keep the defaults
