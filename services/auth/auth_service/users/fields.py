"""Input types shared by the schemas of several packages: normalised email, Indonesian phone
numbers, names, passwords and emailed tokens."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BeforeValidator, Field

MAX_EMAIL = 320
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalize_email(value: str) -> str:
    """Lower-cased whole address: mailbox names are case-insensitive at every provider our
    customers use, and one spelling per person is what uniqueness needs."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return unicodedata.normalize("NFC", result.normalized).lower()


def to_e164(value: str) -> str:
    """Indonesian numbers in any usual spelling ("0812-3456-7890", "+62 812 3456 7890",
    "62812...") to E.164 ("+6281234567890")."""
    try:
        number = phonenumbers.parse(value, "ID")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("phone is not a phone number; use e.g. 0812-3456-7890") from exc
    if not phonenumbers.is_valid_number(number) or (
        phonenumbers.region_code_for_number(number) != "ID"
    ):
        raise ValueError(
            "phone must be a valid Indonesian number, e.g. 0812-3456-7890 or +62 812 3456 7890"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_name(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("full_name must not contain control characters")
    cleaned = " ".join(value.split())
    if not cleaned:
        raise ValueError("full_name must not be blank")
    return cleaned


Email = Annotated[
    str,
    Field(max_length=MAX_EMAIL, examples=["budi@example.co.id"]),
    AfterValidator(normalize_email),
]
Phone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        examples=["0812-3456-7890"],
        description="Indonesian number in any usual spelling; stored and returned as E.164",
    ),
    AfterValidator(to_e164),
]
FullName = Annotated[
    str,
    Field(min_length=1, max_length=200, examples=["Budi Santoso"]),
    AfterValidator(clean_name),
]
# The policy (length, email, common list) is checked by passwords.policy with precise codes;
# here only an upper bound, so an oversized body never reaches argon2.
Password = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        examples=["kopi-tubruk-di-pagi-hari"],
        description="At least 10 characters, not containing the email's local part, "
        "not a common password",
    ),
]
EmailedToken = Annotated[
    str,
    BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v),
    Field(
        min_length=16,
        max_length=128,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The token from the link sent to the user",
    ),
]
