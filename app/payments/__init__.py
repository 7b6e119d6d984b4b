"""Cashless payments (无现金): WeChat Pay, Alipay and a sandbox behind one provider interface; a payment settles
its order through app/kerb/online.py, refunds go back to the provider and book a negative ledger row, and a
provider's daily statement is reconciled with the ledger. Nothing below this package imports it."""
