"""How far ahead `expired_time` may lie for each channel, in minutes (tripay.md §3). Tripay
does not publish these through its API, so they are data here; an unknown code gets the
widest window every channel accepts by default (15 minutes to 24 hours)."""

from __future__ import annotations

DEFAULT_WINDOW = (15, 1440)
WINDOWS: dict[str, tuple[int, int]] = {
    "PERMATAVA": (60, 43_200),
    "BNIVA": (15, 1440),
    "BRIVA": (60, 43_200),
    "MANDIRIVA": (60, 43_200),
    "BCAVA": (15, 43_200),
    "MUAMALATVA": (60, 180),
    "CIMBVA": (15, 43_200),
    "BSIVA": (60, 180),
    "OCBCVA": (15, 43_200),
    "DANAMONVA": (15, 43_200),
    "OTHERBANKVA": (15, 1440),
    "ALFAMART": (60, 1440),
    "INDOMARET": (15, 43_200),
    "ALFAMIDI": (60, 1440),
    "QRIS": (10, 60),
    "QRISC": (10, 1440),
    "QRIS2": (10, 1440),
    "OVO": (15, 43_200),
    "DANA": (15, 60),
    "SHOPEEPAY": (15, 60),
}


def window(code: str) -> tuple[int, int]:
    return WINDOWS.get(code, DEFAULT_WINDOW)
