"""The billing service's domain errors: each a precise, stable problem `code` for clients.
(Tripay's own errors are in `tripay/errors.py`.)"""

from __future__ import annotations

from webrana_common.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)


class InvoiceNotFound(NotFound):
    code = "invoice_not_found"
    title = "Invoice not found"


class InvoiceNotPayable(Conflict):
    """The invoice is no longer PENDING (paid, expired, cancelled or refunded)."""

    code = "invoice_not_payable"
    title = "Invoice cannot be paid"


class InvoiceNotCancellable(Conflict):
    code = "invoice_not_cancellable"
    title = "Only an unpaid invoice can be cancelled"


class InvoiceExpired(Conflict):
    code = "invoice_expired"
    title = "Invoice expired"


class InvoiceUnderReview(Conflict):
    code = "invoice_under_review"
    title = "Invoice is held for review by an admin"


class InvoiceNotFlagged(Conflict):
    code = "invoice_not_flagged"
    title = "Invoice is not flagged"


class InvoiceConflict(Conflict):
    code = "invoice_conflict"
    title = "An invoice for this order exists with other details"


class InvoiceItemsMismatch(ValidationFailed):
    code = "invoice_items_mismatch"
    title = "Invoice items do not add up to the amount"


class InvalidExpiry(ValidationFailed):
    code = "invoice_expiry_invalid"
    title = "Invoice expiry is not in the future"


class ChannelUnknown(ValidationFailed):
    code = "channel_unknown"
    title = "Payment channel unknown or inactive"


class ChannelAmountOutOfRange(ValidationFailed):
    code = "channel_amount_out_of_range"
    title = "Amount outside the channel's limits"


class ChannelWindowTooShort(ValidationFailed):
    code = "channel_window_too_short"
    title = "The invoice expires before this channel's shortest payment window"


class CustomerPhoneRequired(ValidationFailed):
    code = "customer_phone_required"
    title = "This channel needs a phone number on the account"


class WalletPaymentNotAllowed(Conflict):
    code = "wallet_payment_not_allowed"
    title = "A wallet top-up cannot be paid from the wallet"


class InsufficientBalance(Conflict):
    code = "insufficient_balance"
    title = "Wallet balance too low"


class TopupAmountOutOfRange(ValidationFailed):
    code = "topup_amount_out_of_range"
    title = "Top-up amount outside the allowed range"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    title = "Idempotency key already used for a different request"


class RefundExceedsPayment(Conflict):
    code = "refund_exceeds_payment"
    title = "Refunds would exceed what was paid for the order"


class AdjustmentWouldGoNegative(Conflict):
    code = "insufficient_balance"
    title = "Adjustment would make the balance negative"


class InvalidCallbackSignature(Forbidden):
    code = "invalid_signature"
    title = "Callback signature invalid"


class CallbackEventMissing(BadRequest):
    code = "callback_event_missing"
    title = "X-Callback-Event header missing"


class CallbackMalformed(BadRequest):
    code = "callback_malformed"
    title = "Callback body is not a payment_status object"


class PromoRejected(ValidationFailed):
    """`code` is one of promo_unknown, promo_inactive, promo_not_started, promo_expired,
    promo_not_applicable, promo_min_amount, promo_exhausted, promo_user_limit,
    promo_first_order_only."""

    title = "Promo code cannot be used"


class PromoNotFound(NotFound):
    code = "promo_not_found"
    title = "Promo not found"


class PromoCodeTaken(Conflict):
    code = "promo_code_taken"
    title = "A promo with this code exists"


class RedemptionNotFound(NotFound):
    code = "redemption_not_found"
    title = "No promo redemption for this order"


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "User not found"


class AuthUnavailable(ServiceUnavailable):
    code = "auth_unavailable"
    title = "The account service is unavailable"
