"""What admins did (manual payments, wallet adjustments, promo changes) and why."""
