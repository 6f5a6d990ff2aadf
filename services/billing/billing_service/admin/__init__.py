"""Admin routes: transactions (and CSV), invoices with raw callbacks, manual payment, flags,
wallet adjustments and the consistency check, the audit trail. Promo CRUD is in promos/."""
