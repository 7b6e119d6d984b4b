"""Every route of the admin that takes a body, walked from the URL map: a body larger than the route takes is
413 before anything else (sign-in, CSRF, the form) and is not read. The upload forms take a 5 MB file."""
import re

from app.core.bodies import MULTIPART_ENVELOPE
from app.members.imports import MAX_BYTES as IMPORT_BYTES
from tests.body_support import MIB, MULTIPART, json_padded, multipart, send

UPLOADS = {"members.import_passes", "members.import_white", "members.import_black"}  # the admin's file forms
UPLOAD_LIMIT = IMPORT_BYTES + MULTIPART_ENVELOPE
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _admin_writes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/pos/", "/sync/", "/alliance/v1/", "/static/")):  # the APIs answer JSON
            continue
        for method in sorted(rule.methods & WRITES):
            yield method, re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", "1", rule.rule), rule.endpoint


def test_only_the_upload_forms_take_more_than_the_default(app):
    larger = {endpoint for _m, _url, endpoint in _admin_writes(app)
              if getattr(app.view_functions[endpoint], "max_body_bytes", None)}
    assert larger == UPLOADS


def test_a_body_over_the_limit_is_413_on_every_admin_write_and_is_not_read(app, client):
    routes = list(_admin_writes(app))
    assert len(routes) > 50
    for method, url, endpoint in routes:
        limit = UPLOAD_LIMIT if endpoint in UPLOADS else MIB
        body = multipart(limit + 1, field="file")
        answer = send(client, method, url, body, content_length=limit + 1, content_type=MULTIPART)
        assert answer.status_code == 413, (method, url, answer.status_code)
        assert body.read_bytes == 0 and answer.mimetype == "text/html"


def test_a_streamed_body_is_cut_at_the_limit(app, client):
    for method, url, endpoint in _admin_writes(app):
        if endpoint in UPLOADS or url == "/login":
            limit = UPLOAD_LIMIT if endpoint in UPLOADS else MIB
            for body, content_type in ((multipart(None, field="file"), MULTIPART),
                                       (json_padded(None), "application/x-www-form-urlencoded")):
                answer = send(client, method, url, body, content_length=None, content_type=content_type)
                assert answer.status_code == 413, (url, content_type)
                assert body.read_bytes == limit + 1


def test_an_import_takes_a_file_of_5_mb(tree, client_as):
    manager = client_as("parkp1")
    body = multipart(UPLOAD_LIMIT - 1, field="file")  # a file of about 5 MB in its form
    answer = send(manager, "POST", "/members/import/white", body, content_length=UPLOAD_LIMIT - 1,
                  content_type=MULTIPART)
    assert answer.status_code == 400 and body.read_bytes == UPLOAD_LIMIT - 1  # read, then refused as no .xlsx
    assert "is-invalid" in answer.get_data(as_text=True)
