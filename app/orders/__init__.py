"""Parking orders (停车订单), the money ledger (流水) and arrears (欠费 / 逃单)."""
