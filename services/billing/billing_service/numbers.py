"""Human invoice numbers, `INV-YYYYMMDD-XXXXX`: the date in Jakarta (what the customer sees on
the invoice), then five random Crockford base-32 characters (no I, L, O, U: read aloud over the
phone without confusion)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
INVOICE_NUMBER = re.compile(r"^INV-\d{8}-[0-9A-HJKMNP-TV-Z]{5}$")


def invoice_number(now: datetime) -> str:
    suffix = "".join(secrets.choice(ALPHABET) for _ in range(5))
    return f"INV-{now.astimezone(JAKARTA):%Y%m%d}-{suffix}"
