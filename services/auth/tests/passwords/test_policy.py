from __future__ import annotations

import pytest

from auth_service.errors import WeakPassword
from auth_service.passwords.policy import check_password, common_passwords

EMAIL = "budi.santoso+shop@example.co.id"


def _code(password: str, email: str = EMAIL) -> str | None:
    try:
        check_password(password, email)
    except WeakPassword as exc:
        return exc.code
    return None


def test_bundled_list_holds_thousands_of_common_passwords() -> None:
    common = common_passwords()
    assert len(common) > 5000
    assert {"password", "123456789", "qwertyuiop", "sayangkamu", "bismillah"} <= common


@pytest.mark.parametrize("password", ["nine-char", "", "123456789"])
def test_shorter_than_ten_is_too_short(password: str) -> None:
    assert _code(password) == "password_too_short"


def test_longer_than_128_is_too_long() -> None:
    assert _code("correct horse battery staple " * 5) == "password_too_long"


@pytest.mark.parametrize(
    "password",
    [
        "budi.santoso+shop-2024",
        "BUDI.SANTOSO-rocks",
        "xxbudisantosoxx",
        "santoso-keluarga-99",
        "budi.santoso-rocks",
    ],
)
def test_containing_the_local_part_or_its_pieces_is_refused(password: str) -> None:
    assert _code(password) == "password_contains_email"


def test_short_local_parts_do_not_forbid_everything() -> None:
    assert _code("al-is-a-great-dancer", email="al@example.co.id") is None


@pytest.mark.parametrize(
    "password",
    [
        "1234567890",
        "Password123",
        "iloveyou12345",
        "P@ssw0rd2024!",
        "Sayangku2023!!",
        "bismillah123",
        "qwertyuiop",
        "zzzzzzzzzzzz",
        "abababababab",
        "persija2024",
    ],
)
def test_common_and_predictable_passwords_are_refused(password: str) -> None:
    assert _code(password) == "password_too_common"


@pytest.mark.parametrize(
    "password", ["kopi-tubruk-di-pagi-hari", "Gunung Rinjani at dawn 7!", "tX9#qL2m!vR4"]
)
def test_good_passwords_pass(password: str) -> None:
    assert _code(password) is None
