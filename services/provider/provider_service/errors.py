"""Errors of the provisioning rules (the clouds' own errors are in `clouds/errors.py`)."""

from __future__ import annotations

from webrana_common.errors import Conflict, NotFound


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    title = "Idempotency key already used for another request"


class ProvisionInProgress(Conflict):
    code = "provision_in_progress"
    title = "Provisioning with this key is still in progress"


class ProvisionNotFound(NotFound):
    code = "provision_not_found"
    title = "No provision request with this key"


class ConcurrentProvisionFailed(Conflict):
    """This request waited for a concurrent one with the same key, and that one failed; a
    retry from now on tries again (tag lookup first)."""

    code = "concurrent_provision_failed"
    title = "The concurrent request with this key failed"
