"""The link, its lanes and its commands tell one story, told by what the site's signed requests wrote:
heartbeats, uploads, acknowledgements, and the silence after them."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.core.types import utcnow
from app.lanes.models import Barrier, Camera, Lane, LedScreen
from app.members.models import MonthlyProduct
from app.sync.models import BarrierCommand, LaneUpload, SiteServer
from app.sync.services import LinkError, queue_command


@pytest.fixture
def devices(db, site):
    """Entry A: a camera and a barrier; Exit A: a camera, a barrier and a screen."""
    made = {}
    for lane_id, key in ((site.entry, "entry"), (site.exit, "exit")):
        made[key] = {"camera": Camera(park_id=site.park.id, lane_id=lane_id, name=f"{key} camera", ip="10.0.0.1"),
                     "barrier": Barrier(park_id=site.park.id, lane_id=lane_id, name=f"{key} barrier")}
        if key == "exit":
            made[key]["led"] = LedScreen(park_id=site.park.id, lane_id=lane_id, name="exit screen")
        db.session.add_all(made[key].values())
    db.session.commit()
    return {lane: {kind: d.id for kind, d in kinds.items()} for lane, kinds in made.items()}


def _detail(client, site) -> str:
    response = client.get(f"/site-link/park/{site.park.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _field(body: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}"[^>]*>(.*?)</dd>', body, re.S).group(0)


def _lane_states(body: str) -> dict[str, tuple[str, str]]:
    table = body[body.index('id="lane-table"'):]
    return {name: (state, count) for name, state, count in re.findall(
        r'<td>([^<]+)</td>\s*<td data-state="(\w+)">.*?<td class="text-end">(\d+/\d+)</td>',
        table[:table.index("</table>")], re.S)}


def _silence(db, site, minutes: int) -> None:
    """Every record the link wrote moves `minutes` into the past, as if the site had been silent since."""
    back = timedelta(minutes=minutes)
    rows = [db.session.get(SiteServer, site.server_id), *db.session.query(LaneUpload),
            *db.session.query(Lane).filter(Lane.park_id == site.park.id),
            *(d for model in (Camera, Barrier, LedScreen) for d in db.session.query(model))]
    for row in rows:
        for name in ("last_heartbeat_at", "acked_at", "received_at", "heartbeat_at", "last_seen_at"):
            if getattr(row, name, None) is not None:
                setattr(row, name, getattr(row, name) - back)
    db.session.commit()


def test_a_site_never_heard_from_is_offline_and_takes_no_command(db, site, devices, client_as):
    manager = client_as("parkp3")
    body = _detail(manager, site)
    assert 'data-online="no"' in body and "never heard from" in body
    assert _lane_states(body) == {"Entry A": ("offline", "0/2"), "Exit A": ("offline", "0/3")}
    assert re.search(r'<button[^>]*type="submit" disabled title="The on-site link is offline', body)
    refused = manager.post(f"/site-link/park/{site.park.id}/commands",
                           data={"lane_id": site.exit, "action": "lift", "reason": "truck stuck"})
    assert refused.status_code == 400 and "The on-site link is offline" in refused.get_data(as_text=True)
    with pytest.raises(LinkError, match="offline"):
        queue_command(None, db.session.get(Lane, site.exit), "lift", "stuck")
    assert db.session.query(BarrierCommand).count() == 0


def test_uploads_alone_show_the_site_online_with_its_last_upload(db, site, client_as):
    entry = {"kind": "entry", "site_id": "up-1", "plate": "粤B12345", "lane_id": site.entry,
             "at": (utcnow() - timedelta(minutes=2)).isoformat()}
    assert site.client.upload([entry])[1]["accepted"] == 1
    manager = client_as("parkp3")
    body = _detail(manager, site)
    assert 'data-online="yes"' in body
    assert "—" in _field(body, "last-heartbeat") and "—" not in _field(body, "last-upload")
    listing = manager.get("/site-link/").get_data(as_text=True)
    row = listing[listing.index("<td>Alpha Garage Three</td>"):]
    assert ">online<" in row[:row.index("</tr>")]


def test_feed_and_acknowledged_positions_follow_the_feed(db, site, tree, client_as):
    product = MonthlyProduct(name="Garage month", price_fen=30000)
    product.anchor_at(tree.a2)
    db.session.add(product)
    db.session.commit()
    _status, pulled = site.client.pull(0)
    assert pulled["seq"] >= 1
    manager = client_as("parkp3")
    feed = _field(_detail(manager, site), "feed-position")
    assert f"position {pulled['seq']}, acknowledged by the site up to 0" in feed
    assert f"{pulled['seq']} changes waiting" in feed
    assert site.client.ack(pulled["seq"])[0] == 200
    body = _detail(manager, site)
    feed = _field(body, "feed-position")
    assert f"acknowledged by the site up to {pulled['seq']}" in feed and "waiting" not in feed
    assert 'data-online="yes"' in body  # an acknowledgement is a sign of life too


def test_lanes_take_the_state_of_their_devices_in_the_last_heartbeat(db, site, devices, client_as):
    entry, exit_ = devices["entry"], devices["exit"]
    named = {"camera": [entry["camera"], exit_["camera"]], "barrier": [entry["barrier"]]}
    assert site.client.heartbeat("5.1", named)[0] == 200
    manager = client_as("parkp3")
    body = _detail(manager, site)
    assert 'data-online="yes"' in body and "5.1" in body
    assert _lane_states(body) == {"Entry A": ("online", "2/2"), "Exit A": ("partial", "1/3")}
    lanes_page = manager.get("/lot/lanes").get_data(as_text=True)
    assert lanes_page.count('data-state="online"') == 1 and lanes_page.count('data-state="partial"') == 1
    # the next heartbeat names no exit device: the exit camera, seen a moment ago, is offline now
    assert site.client.heartbeat("5.1", {"camera": [entry["camera"]], "barrier": [entry["barrier"]]})[0] == 200
    assert _lane_states(_detail(manager, site))["Exit A"] == ("offline", "0/3")
    cameras = manager.get("/lot/cameras").get_data(as_text=True)
    assert cameras.count('data-state="online"') == 1 and cameras.count('data-state="offline"') == 1
    # a command goes out while the site is heard from
    sent = manager.post(f"/site-link/park/{site.park.id}/commands",
                        data={"lane_id": site.exit, "action": "lift", "reason": "truck stuck"})
    assert sent.status_code == 302


def test_silence_takes_the_link_and_its_lanes_offline_and_stops_commands(db, site, devices, client_as):
    entry = devices["entry"]
    assert site.client.heartbeat("5.1", {"camera": [entry["camera"]], "barrier": [entry["barrier"]]})[0] == 200
    _silence(db, site, 6)
    manager = client_as("parkp3")
    body = _detail(manager, site)
    assert 'data-online="no"' in body and "last heard from" in body and "—" not in _field(body, "last-heartbeat")
    assert _lane_states(body)["Entry A"] == ("offline", "0/2")
    assert 'id="command-refusal"' in body
    assert manager.post(f"/site-link/park/{site.park.id}/commands",
                        data={"lane_id": site.entry, "action": "lift"}).status_code == 400
    # the site speaks again: everything comes back from that one heartbeat
    assert site.client.heartbeat("5.1", {"camera": [entry["camera"]], "barrier": [entry["barrier"]]})[0] == 200
    body = _detail(manager, site)
    assert 'data-online="yes"' in body and _lane_states(body)["Entry A"] == ("online", "2/2")
    assert 'id="command-refusal"' not in body
