"""The ledger (流水): every movement of money, written only through `post` and `post_many`."""
