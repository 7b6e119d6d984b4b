import pytest

from app.lanes.models import Lane
from app.sync.client import SiteClient
from app.sync.services import create_site_server


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
    s.client = SiteClient(park.id, secret, test_client=app.test_client())
    return s
