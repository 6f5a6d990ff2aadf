"""Payments: starting a Tripay transaction (or paying from the wallet), the Tripay callback,
settlement of a Tripay status, reconciliation."""
