"""Schemathesis drives every operation of /pos/v1/openapi.json with generated requests, signed in as
a collector on a shift: no answer may be a 5xx, and every answer must match the document."""
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from pos_api.contract import document

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
schema = schemathesis.openapi.from_dict(document())


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_device_api_never_fails_and_matches_its_document(case, app, street):
    token = getattr(street, "_fuzz_token", None) or street.signed_in()
    street._fuzz_token = token
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
