"""Merchant accounts per city or group: the secrets entered are stored encrypted and never shown again; a
park pays with its group's account before its city's."""
from sqlalchemy import select, text

from app.payments import services as payments
from app.payments.models import MerchantAccount
from tests.payments.conftest import make_account

SECRET = "sandbox-secret-never-shown-42"


def test_secrets_are_encrypted_at_rest_and_never_shown(db, tree, client_as):
    manager = client_as("citya")
    saved = manager.post("/payments/accounts/new", data={
        "node": f"city:{tree.nodes['city_a'].id}", "provider": "sandbox", "name": "Alpha sandbox", "hmac_key": SECRET})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    account = db.session.scalar(select(MerchantAccount))
    raw = db.session.execute(text("SELECT secrets FROM merchant_accounts")).scalar()
    assert SECRET not in raw and SECRET in account.secrets  # Fernet in the database, plain in Python
    listing = manager.get("/payments/accounts").get_data(as_text=True)
    edit = manager.get(f"/payments/accounts/{account.id}/edit").get_data(as_text=True)
    assert "Alpha sandbox" in listing and SECRET not in listing and SECRET not in edit
    assert f"/pay/notify/{account.id}" in listing
    kept = manager.post(f"/payments/accounts/{account.id}/edit", data={
        "node": f"city:{tree.nodes['city_a'].id}", "provider": "sandbox", "name": "Alpha sandbox 2", "hmac_key": ""})
    assert kept.status_code == 302
    db.session.expire_all()
    assert SECRET in db.session.get(MerchantAccount, account.id).secrets  # left empty: the stored one is kept


def test_a_park_uses_its_groups_account_before_its_citys(db, tree):
    city = make_account(db, tree.nodes["city_a"], name="city's")
    group = make_account(db, tree.nodes["a1"], name="group's")
    assert payments.account_for_park(tree.nodes["p1"]).id == group.id
    assert payments.account_for_park(tree.nodes["p3"]).id == city.id  # group a2 has none
    assert payments.account_for_park(tree.nodes["hp"]) is None  # another city's is never used


def test_a_parks_setting_chooses_among_its_groups_and_citys_accounts(db, tree, client_as):
    city = make_account(db, tree.nodes["city_a"], name="Alpha city sandbox")
    group = make_account(db, tree.nodes["a1"], name="Alpha group sandbox")
    harbor = make_account(db, tree.nodes["city_h"], name="Harbor sandbox")
    p1 = tree.nodes["p1"]
    manager = client_as("citya")
    page = manager.get("/payments/parks").get_data(as_text=True)
    assert "Alpha Street One" in page and "Alpha group sandbox" in page and "Harbor" not in page
    chosen = manager.post(f"/payments/parks/{p1.id}/account", data={"account_id": str(city.id)})
    assert chosen.status_code == 302
    assert payments.account_for_park(p1).id == city.id  # the setting wins over the group's account
    refused = manager.post(f"/payments/parks/{p1.id}/account", data={"account_id": str(harbor.id)})
    assert refused.status_code == 422 and "is-invalid" in refused.get_data(as_text=True)
    assert payments.account_for_park(p1).id == city.id  # another city's account is never taken
    manager.post(f"/payments/parks/{p1.id}/account", data={"account_id": ""})
    assert payments.account_for_park(p1).id == group.id  # back to the default
    assert manager.post(f"/payments/parks/{tree.nodes['hp'].id}/account", data={}).status_code == 404
    assert client_as("parkp1").get("/payments/parks").status_code in (302, 403)  # no merchant_accounts.view
