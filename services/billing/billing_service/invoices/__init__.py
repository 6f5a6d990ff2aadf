"""Invoices: creation (internal), the customer's list/detail/cancel, expiry, transitions."""
