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
