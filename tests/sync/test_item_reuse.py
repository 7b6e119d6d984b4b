"""A lane upload's site_id names one item: sent again as it was (keys in any order) it is a duplicate answered
with its first answer; sent again with other content it is refused for that item alone (site_id_reused) and
writes nothing, while the rest of its batch goes through. Every upload kind has a case."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from app.core.types import utcnow
from app.members.models import MonthlyProduct
from app.sync.models import LaneUpload
from app.sync.uploads import KINDS
from tests.body_support import snapshot


def _at(minutes: int = 0) -> str:
    from datetime import timedelta

    return (utcnow() - timedelta(minutes=minutes)).isoformat()


def _entry(site, site_id="e-1", plate="粤B12345"):
    return {"kind": "entry", "site_id": site_id, "plate": plate, "lane_id": site.entry, "at": _at(30)}


def entry(site, db, tree):
    item = _entry(site)
    return [], item, {**item, "plate": "粤B12346"}


def exit_(site, db, tree):
    item = {"kind": "exit", "site_id": "x-1", "order_site_id": "e-1", "lane_id": site.exit, "at": _at(2)}
    return [_entry(site)], item, {**item, "at": _at(3)}


def settlement(site, db, tree):
    item = {"kind": "settlement", "site_id": "s-1", "order_site_id": "e-1", "at": _at(2), "fee_fen": 500,
            "payments": [{"method": "cash", "amount_fen": 500}]}
    return [_entry(site)], item, {**item, "payments": [{"method": "electronic", "amount_fen": 500}]}


def lift(site, db, tree):
    item = {"kind": "lift", "site_id": "l-1", "lane_id": site.exit, "at": _at(1), "reason": "stuck"}
    return [], item, {**item, "reason": "a truck"}


def pass_sale(site, db, tree):
    product = MonthlyProduct(name="Garage month", price_fen=30000)
    product.anchor_at(tree.a2)
    db.session.add(product)
    db.session.commit()
    item = {"kind": "pass_sale", "site_id": "p-1", "product_id": product.id, "holder_name": "Zhao",
            "plates": ["粤B55555"], "starts_on": utcnow().date().isoformat(), "months": 1, "at": _at(1)}
    return [], item, {**item, "months": 2}


CASES = {"entry": entry, "exit": exit_, "settlement": settlement, "lift": lift, "pass_sale": pass_sale}


def test_every_kind_has_a_case():
    assert sorted(CASES) == sorted(KINDS)


def _without_nonces(db) -> dict:
    rows = snapshot(db)
    rows.pop("sync_nonces")  # every signed request keeps its id
    return rows


@pytest.mark.parametrize("kind", sorted(CASES))
def test_an_item_sent_again_is_a_duplicate_and_changed_it_is_refused_alone(kind, site, db, tree):
    before_items, item, changed = CASES[kind](site, db, tree)
    status, answer = site.client.upload(before_items + [item])
    assert status == 200 and {r["status"] for r in answer["results"]} == {"ok"}, answer
    first = answer["results"][-1]
    stored = _without_nonces(db)
    status, again = site.client.upload([dict(reversed(list(item.items())))])
    assert status == 200 and again["results"] == [first]  # a duplicate: its first answer
    assert _without_nonces(db) == stored
    status, refused = site.client.upload([changed])
    result = refused["results"][0]
    assert status == 200 and result["status"] == "refused" and result["error"]["code"] == "site_id_reused"
    assert (result["kind"], result["site_id"]) == (kind, item["site_id"]) and refused["refused"] == 1
    assert _without_nonces(db) == stored
    fresh = {"kind": "lift", "site_id": "l-fresh", "lane_id": site.exit, "at": _at(1), "reason": "stuck"}
    _status, batch = site.client.upload([changed, fresh, item])
    assert [r["status"] for r in batch["results"]] == ["refused", "ok", "ok"]
    assert batch["results"][2] == first


def test_one_site_id_twice_in_a_batch_with_other_content_refuses_the_second(site, db):
    one, other = _entry(site, "e-9", "粤B11111"), _entry(site, "e-9", "粤B22222")
    status, answer = site.client.upload([one, other, one])
    assert [r["status"] for r in answer["results"]] == ["ok", "refused", "ok"]
    assert answer["results"][1]["error"]["code"] == "site_id_reused"
    assert answer["results"][2] == answer["results"][0]
    assert db.session.query(LaneUpload).count() == 1


def test_an_item_accepted_before_digests_replays_as_before(site, db):
    """Rows stored before migration 0008 have no digest: any item with their site_id replays."""
    item = _entry(site)
    first = site.client.upload([item])[1]["results"][0]
    db.session.execute(update(LaneUpload).values(fingerprint=None))
    db.session.commit()
    assert site.client.upload([{**item, "plate": "粤B99999"}])[1]["results"] == [first]


def test_a_refused_item_may_come_back_corrected(site, db):
    bad = {**_entry(site), "lane_id": 999_999}
    assert site.client.upload([bad])[1]["results"][0]["error"]["code"] == "validation_failed"
    corrected = site.client.upload([_entry(site)])[1]["results"][0]
    assert corrected["status"] == "ok" and corrected["order_id"]
