"""What the bot answers in the chat, in Indonesian or English (Telegram HTML)."""

from __future__ import annotations

import html

REPLIES = {
    "id": {
        "linked": "✅ Telegram terhubung ke akun WeBrana <b>{email}</b>. Notifikasi server, "
        "tagihan dan keamanan akan dikirim ke sini. Kirim /stop untuk memutuskan.",
        "start_without_token": "Halo! Untuk menghubungkan Telegram, buka WeBrana Cloud → "
        "Pengaturan → Notifikasi → <b>Hubungkan Telegram</b>, lalu tekan tautannya.",
        "telegram_link_token_invalid": "❌ Tautan ini tidak valid. Buat tautan baru dari "
        "Pengaturan → Notifikasi di WeBrana Cloud.",
        "telegram_link_token_expired": "⌛ Tautan ini sudah kedaluwarsa (berlaku 15 menit). "
        "Buat tautan baru dari Pengaturan → Notifikasi.",
        "telegram_link_token_used": "Tautan ini sudah dipakai. Bila chat ini belum terhubung, "
        "buat tautan baru dari Pengaturan → Notifikasi.",
        "unavailable": "Maaf, layanan sedang sibuk. Coba tekan tautannya lagi sebentar lagi.",
        "unlinked": "🔕 Telegram diputuskan dari akun WeBrana Anda. Notifikasi tidak akan "
        "dikirim ke sini lagi.",
        "not_linked": "Chat ini tidak terhubung ke akun WeBrana mana pun.",
        "private_only": "Hubungkan Telegram lewat chat pribadi dengan bot ini.",
        "help": "Saya bot notifikasi WeBrana Cloud.\n/start — hubungkan lewat tautan dari "
        "dashboard\n/stop — putuskan Telegram dari akun Anda",
    },
    "en": {
        "linked": "✅ Telegram is now linked to the WeBrana account <b>{email}</b>. Server, "
        "billing and security notifications will arrive here. Send /stop to unlink.",
        "start_without_token": "Hi! To link Telegram, open WeBrana Cloud → Settings → "
        "Notifications → <b>Connect Telegram</b> and tap the link.",
        "telegram_link_token_invalid": "❌ This link is not valid. Create a new one under "
        "Settings → Notifications in WeBrana Cloud.",
        "telegram_link_token_expired": "⌛ This link has expired (links last 15 minutes). "
        "Create a new one under Settings → Notifications.",
        "telegram_link_token_used": "This link was used already. If this chat is not linked, "
        "create a new one under Settings → Notifications.",
        "unavailable": "Sorry, we are busy right now. Tap the link again in a moment.",
        "unlinked": "🔕 Telegram is unlinked from your WeBrana account. No more notifications "
        "will be sent here.",
        "not_linked": "This chat is not linked to any WeBrana account.",
        "private_only": "Link Telegram from a private chat with this bot.",
        "help": "I am the WeBrana Cloud notification bot.\n/start — link with the link from the "
        "dashboard\n/stop — unlink Telegram from your account",
    },
}


def reply(locale: str, key: str, **values: str) -> str:
    texts = REPLIES["en" if locale == "en" else "id"]
    template = texts.get(key, texts["telegram_link_token_invalid"])
    return template.format(**{k: html.escape(v, quote=False) for k, v in values.items()})


def locale_of_language(language_code: str | None) -> str:
    return "en" if (language_code or "").lower().startswith("en") else "id"
