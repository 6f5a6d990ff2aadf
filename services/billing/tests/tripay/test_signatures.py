"""shared/refs/tripay.md §4 test vectors."""

from __future__ import annotations

import json

import pytest

from billing_service.tripay.signatures import callback_signature_valid, sign, transaction_signature

DOCS_KEY = "ytf6ooi2gmlNPfpchd94jDOk8hRWOu"
B1 = b'{"reference":"T0001000000000000006","merchant_ref":"INV55567","status":"PAID"}'
B2 = (
    b'{"reference":"T0001000023000XXXXX","merchant_ref":"INV123456","payment_method":"BCA '
    b'Virtual Account","payment_method_code":"BCAVA","total_amount":200000,"fee_merchant":2000,'
    b'"fee_customer":0,"total_fee":2000,"amount_received":198000,"is_closed_payment":1,'
    b'"status":"PAID","paid_at":1608133017,"note":null}'
)
B3 = (
    b'{"reference":"DEV-T14302154794FZ2ZT","merchant_ref":"INV-42","status":"EXPIRED",'
    b'"note":"https:\\/\\/example.test\\/x"}'
)


@pytest.mark.parametrize(
    ("key", "code", "ref", "amount", "expected"),
    [
        (DOCS_KEY, "T0001", "INV55567", 1_500_000,
         "9f167eba844d1fcb369404e2bda53702e2f78f7aa12e91da6715414e65b8c86a"),
        (DOCS_KEY, "T0001", "INV345675", 1_000_000,
         "2e0958596924579e210b88230e852c9e2ce522fbc2bc4ebf0539e8ca7b865d0c"),
        ("DEV-private-key-test", "T14302", "INV345675", 50_000,
         "2cd0483f12ad457b528551051a6a7a72d7d58771989f6d5f660b4cd442b3128f"),
    ],
)  # fmt: skip
def test_transaction_signature_vectors(
    key: str, code: str, ref: str, amount: int, expected: str
) -> None:
    assert transaction_signature(key, code, ref, amount) == expected


def test_amount_must_be_whole_rupiah() -> None:
    with pytest.raises(TypeError):
        transaction_signature(DOCS_KEY, "T0001", "INV55567", 1_500_000.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "body", "expected"),
    [
        (DOCS_KEY, B1, "aad6584c0cec833624f48e38b28ecb5538240be21b01b8b6c9f76fa5187e824e"),
        (DOCS_KEY, B1 + b" ", "6862baf6c1b846c8638c9e46433dd2fe7c5e7cc1dff9f7aa0edf3dd8fc3b139b"),
        (DOCS_KEY, B2, "e121a11a737e7828da392bee3767ebd61ffbe268cc09b31580a61274316a6e60"),
        ("DEV-private-key-test", B3,
         "43b3edabcf9660ea4f46544e237f683b9936b284e63a90a5251665d459e05d3c"),
    ],
)  # fmt: skip
def test_callback_signature_vectors(key: str, body: bytes, expected: str) -> None:
    assert sign(key, body) == expected
    assert callback_signature_valid(key, body, expected)
    assert callback_signature_valid(key, body, expected.upper())  # hex case does not matter
    assert not callback_signature_valid(key, body + b"\n", expected)
    assert not callback_signature_valid("another-key", body, expected)
    assert not callback_signature_valid(key, body, None)


def test_reserialising_the_body_breaks_the_signature() -> None:
    reserialised = json.dumps(json.loads(B2)).encode()
    assert sign(DOCS_KEY, reserialised) == (
        "9f3b3698f19aacaedf59b9a17a5754c484a4a54fef9624964914d32a251a81cc"
    )
    assert not callback_signature_valid(
        DOCS_KEY, reserialised, "e121a11a737e7828da392bee3767ebd61ffbe268cc09b31580a61274316a6e60"
    )
