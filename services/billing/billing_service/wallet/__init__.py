"""The prepaid wallet: a balance kept equal to its append-only ledger by the database."""
