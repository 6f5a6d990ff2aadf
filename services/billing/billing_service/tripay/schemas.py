"""Tripay's wire objects, parsed leniently: the same field is a number in one endpoint and a
string in another (`percent`, `paid_at`, `pay_code`), and unknown fields are kept, not refused."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _loose_int(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            return value  # let pydantic say what is wrong
        return int(number) if number == number.to_integral_value() else value
    return value


def _loose_decimal(value: Any) -> Any:
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def _loose_str(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def _loose_bool(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return value


LooseInt = Annotated[int, BeforeValidator(_loose_int)]
OptionalInt = Annotated[int | None, BeforeValidator(_loose_int)]
LooseDecimal = Annotated[Decimal, BeforeValidator(_loose_decimal)]
LooseStr = Annotated[str | None, BeforeValidator(_loose_str)]
LooseBool = Annotated[bool, BeforeValidator(_loose_bool)]


class TripayModel(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Fee(TripayModel):
    flat: LooseInt = 0
    percent: LooseDecimal = Decimal(0)


class PaymentChannel(TripayModel):
    group: str = ""
    code: str
    name: str
    type: str = "direct"
    fee_merchant: Fee = Fee()
    fee_customer: Fee = Fee()
    total_fee: Fee = Fee()
    minimum_fee: OptionalInt = None
    maximum_fee: OptionalInt = None
    minimum_amount: OptionalInt = None
    maximum_amount: OptionalInt = None
    icon_url: str | None = None
    active: LooseBool = True


class CalculatedFee(TripayModel):
    code: str
    name: str
    fee: dict[str, Any] = Field(default_factory=dict)
    total_fee: dict[str, OptionalInt] = Field(default_factory=dict)


class Instruction(TripayModel):
    title: str = ""
    steps: list[str] = Field(default_factory=list)


class Transaction(TripayModel):
    """`data` of transaction/create and transaction/detail, and an item of
    merchant/transactions."""

    reference: str
    merchant_ref: str | None = None
    payment_method: str | None = None
    payment_name: str | None = None
    amount: LooseInt
    fee_merchant: LooseInt = 0
    fee_customer: LooseInt = 0
    total_fee: LooseInt = 0
    amount_received: OptionalInt = None
    pay_code: LooseStr = None
    pay_url: str | None = None
    checkout_url: str | None = None
    qr_string: str | None = None
    qr_url: str | None = None
    status: str
    expired_time: OptionalInt = None
    paid_at: OptionalInt = None
    instructions: list[Instruction] = Field(default_factory=list)
    order_items: list[dict[str, Any]] = Field(default_factory=list)


class Pagination(TripayModel):
    current_page: OptionalInt = None
    last_page: OptionalInt = None
    next_page: OptionalInt = None
    per_page: OptionalInt = None
    total_records: OptionalInt = None


class TransactionPage(TripayModel):
    items: list[Transaction]
    pagination: Pagination


class Callback(TripayModel):
    """The body Tripay POSTs to the callback URL."""

    reference: str = Field(min_length=1, max_length=100)
    merchant_ref: str | None = None
    payment_method: str | None = None
    payment_method_code: str | None = None
    total_amount: LooseInt
    fee_merchant: LooseInt = 0
    fee_customer: LooseInt = 0
    total_fee: LooseInt = 0
    amount_received: OptionalInt = None
    is_closed_payment: OptionalInt = 1
    status: str
    paid_at: OptionalInt = None
    note: str | None = None
