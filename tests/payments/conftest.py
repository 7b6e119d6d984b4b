"""A street (tests/pos_api/conftest.py) whose city takes payments through a sandbox merchant account."""
from __future__ import annotations

import json

import pytest

from app.payments.models import MerchantAccount
from tests.pos_api.conftest import street  # noqa: F401  (the fixture, shared)

SANDBOX_KEY = "sandbox-test-key-0123456789"


def make_account(db, node, provider="sandbox", secrets=None, name=None, **fields):
    account = MerchantAccount(provider=provider, name=name or f"{provider} test", secrets=json.dumps(
        secrets or {"hmac_key": SANDBOX_KEY}), secret_hint="6789", **fields)
    account.anchor_at(node)
    db.session.add(account)
    db.session.commit()
    return account


@pytest.fixture
def sandbox(db, tree):
    """The sandbox account of p1's city, sending each notice once (no duplicates unless a test asks)."""
    return make_account(db, tree.nodes["city_a"], settings={"duplicates": 0})
