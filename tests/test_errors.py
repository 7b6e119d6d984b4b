"""One error hierarchy: every refusal a service raises is a DomainError with a stable code, so the API can
answer it as {"error": {code, message, fields}}; those that were ValueErrors still are."""
import pytest

from app.berths.services import BerthError
from app.core.errors import Conflict, DomainError, Invalid, Refused
from app.devices.admin import DeviceError
from app.lanes.services import LaneError
from app.members.imports import CellError
from app.members.xlsx import FileRefused
from app.parks.services import SettingsError
from app.sensors.services import SensorError
from app.staff.services import StaffError
from app.sync.services import LinkError
from app.tariffs.engine import RuleError, parse_rule
from app.tariffs.services import TariffInputError
from app.tenancy.services import DuplicateName

FORM_REFUSALS = {SettingsError: "settings_refused", BerthError: "berth_refused", LaneError: "lane_refused",
                 SensorError: "sensor_refused", StaffError: "staff_refused", LinkError: "link_refused",
                 DeviceError: "device_refused"}


@pytest.mark.parametrize("kind", FORM_REFUSALS)
def test_a_form_refusal_names_its_field_in_the_api_shape(kind):
    exc = kind("Too long.", "name")
    assert isinstance(exc, Refused) and exc.status == 422
    assert exc.to_dict() == {"error": {"code": FORM_REFUSALS[kind], "message": "Too long.",
                                       "fields": {"name": "Too long."}}}
    assert str(exc) == "Too long." and exc.field == "name"
    assert kind("Not now.").fields == {}


@pytest.mark.parametrize("kind", [SettingsError, BerthError, LaneError, StaffError, LinkError, DeviceError])
def test_refusals_that_were_value_errors_still_are(kind):
    with pytest.raises(ValueError):
        raise kind("No.")


def test_a_duplicate_name_is_a_conflict():
    exc = DuplicateName("That name is already used here.")
    assert isinstance(exc, Conflict) and isinstance(exc, ValueError)
    assert (exc.status, exc.code, exc.fields) == (409, "duplicate_name", {"name": "That name is already used here."})


def test_a_bad_rule_document_is_invalid_with_every_path():
    with pytest.raises(DomainError) as caught:
        parse_rule({"kind": "nonsense"})
    exc = caught.value
    assert isinstance(exc, RuleError) and isinstance(exc, ValueError)
    assert exc.code == "rule_invalid" and exc.status == 422 and "kind" in exc.fields
    assert str(exc).startswith(f"{exc.message}: kind: ")


def test_tariff_input_and_import_refusals_carry_their_fields():
    exc = TariffInputError({"left_at": "Must be later than the entry."})
    assert isinstance(exc, Invalid) and exc.code == "tariff_input_invalid"
    assert exc.fields == {"left_at": "Must be later than the entry."}
    assert str(exc) == "left_at: Must be later than the entry."
    assert (CellError("Not a date.").code, FileRefused("Too big.").fields) == ("cell_invalid", {"file": "Too big."})
