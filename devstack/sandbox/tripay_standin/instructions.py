"""Payment instructions per channel group, with Tripay's `{{pay_code}}`/`{{amount}}` placeholders
and `<b>` tags."""

from __future__ import annotations

import re

from devstack.sandbox.tripay_standin.channels import STORE, VA, Channel

_VA = [
    {
        "title": "Internet Banking",
        "steps": [
            "Login ke internet banking {bank}",
            "Pilih <b>Transfer</b> lalu <b>Virtual Account</b>",
            "Masukkan nomor Virtual Account <b>{{pay_code}}</b>",
            "Pastikan jumlah tagihan <b>{{amount}}</b> lalu konfirmasi",
        ],
    },
    {
        "title": "ATM",
        "steps": [
            "Pilih menu <b>Transaksi Lainnya</b> lalu <b>Transfer</b> ke Virtual Account",
            "Masukkan nomor <b>{{pay_code}}</b> dan bayar <b>{{amount}}</b>",
        ],
    },
]
_STORE = [
    {
        "title": "Pembayaran di kasir {bank}",
        "steps": [
            "Sampaikan ke kasir ingin membayar <b>TRIPAY</b>",
            "Berikan kode pembayaran <b>{{pay_code}}</b>",
            "Bayar sejumlah <b>{{amount}}</b> dan simpan struk",
        ],
    }
]
_QRIS = [
    {
        "title": "Pembayaran via QRIS",
        "steps": [
            "Buka aplikasi e-wallet atau mobile banking yang mendukung QRIS",
            "Pindai kode QR yang tampil",
            "Pastikan jumlah <b>{{amount}}</b> lalu bayar",
        ],
    }
]
_REDIRECT = [
    {
        "title": "Pembayaran via {bank}",
        "steps": [
            "Klik tombol bayar untuk membuka aplikasi {bank}",
            "Konfirmasi pembayaran <b>{{amount}}</b> di aplikasi",
        ],
    }
]


def _template(channel: Channel) -> list[dict[str, object]]:
    if channel.group == VA:
        return _VA
    if channel.group == STORE:
        return _STORE
    return _QRIS if channel.is_qris else _REDIRECT


def _rupiah(amount: int) -> str:
    return "Rp " + f"{amount:,}".replace(",", ".")


def instructions(
    channel: Channel, *, pay_code: str | None, amount: int | None, allow_html: bool = True
) -> list[dict[str, object]]:
    bank = channel.name.replace(" Virtual Account", "")
    result = []
    for block in _template(channel):
        steps = []
        for raw in block["steps"]:  # type: ignore[union-attr]
            step = str(raw).replace("{bank}", bank)
            if pay_code is not None:
                step = step.replace("{{pay_code}}", pay_code)
            if amount is not None:
                step = step.replace("{{amount}}", _rupiah(amount))
            if not allow_html:
                step = re.sub(r"</?b>", "", step)
            steps.append(step)
        result.append({"title": str(block["title"]).replace("{bank}", bank), "steps": steps})
    return result
