"""Promo codes: order discounts and deposit bonuses, redeemed atomically, released on cancel."""
