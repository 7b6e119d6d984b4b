import pytest

from app.lanes.models import Lane
from app.sync.client import SiteClient
from app.sync.openapi import document
from app.sync.services import create_site_server
from tests.openapi_support import check_answer

_DOCUMENT: dict = {}


class CheckedClient(SiteClient):
    """The site's client whose every answer is checked against the generated document."""

    def call(self, method, path, body=None, **kw):
        status, answer = super().call(method, path, body, **kw)
        if answer is not None:
            if not _DOCUMENT:
                _DOCUMENT.update(document())
            check_answer(_DOCUMENT, "/sync/v1", method, "/sync/v1" + path, status, answer)
        return status, answer


@pytest.fixture
def site(app, db, tree):
    """Park p3 (off-street) with two lanes and an on-site server; `site.client` signs with its secret."""
    park = tree.p3
    entry = Lane(park_id=park.id, name="Entry A", direction="entry")
    exit_ = Lane(park_id=park.id, name="Exit A", direction="exit")
    db.session.add_all([entry, exit_])
    server, secret = create_site_server(None, park)
    db.session.commit()

    class Site:
        pass

    s = Site()
    s.park, s.server_id, s.secret, s.entry, s.exit = park, server.id, secret, entry.id, exit_.id
    s.client = CheckedClient(park.id, secret, test_client=app.test_client())
    return s
