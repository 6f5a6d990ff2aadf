"""Human order numbers: `ORD-YYYYMMDD-XXXXX`, the date in Asia/Jakarta (the customer's day)."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")
# No 0/O, 1/I/L: read aloud to support over the phone.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def order_number(now: datetime) -> str:
    suffix = "".join(secrets.choice(ALPHABET) for _ in range(5))
    return f"ORD-{now.astimezone(JAKARTA):%Y%m%d}-{suffix}"
