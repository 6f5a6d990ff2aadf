"""What can go wrong talking to Tripay, as problems the API can answer with."""

from __future__ import annotations

from webrana_common.errors import ServiceUnavailable, UpstreamError


class TripayError(UpstreamError):
    """Tripay answered, but not with `success: true` and the data we asked for."""

    code = "tripay_error"
    title = "Payment gateway error"


class TripayRejected(TripayError):
    """`{"success": false, "message": ...}`: Tripay refused the request; `message` is theirs."""

    code = "tripay_rejected"
    title = "Payment gateway refused the request"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(f"Tripay: {message}")
        self.message = message
        self.status_code = status_code


class TripayUnavailable(ServiceUnavailable):
    """No answer (connection, timeout) or a 5xx without an envelope."""

    code = "tripay_unavailable"
    title = "Payment gateway unavailable"
