from __future__ import annotations

import string

from provider_service.clouds.passwords import SYMBOLS, generate_root_password


def test_root_passwords_are_long_mixed_and_never_repeat() -> None:
    passwords = {generate_root_password().get_secret_value() for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        assert len(password) == 24
        for chars in (string.ascii_lowercase, string.ascii_uppercase, string.digits, SYMBOLS):
            assert any(c in chars for c in password)
        # Nothing a shell, YAML or a console keyboard would trip over.
        assert not set(password) & set("'\"\\ `$")
