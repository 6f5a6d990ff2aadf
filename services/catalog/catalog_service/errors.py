"""The catalog's domain errors: each a precise, stable problem `code` for clients."""

from __future__ import annotations

from webrana_common.errors import Conflict, NotFound, UpstreamError, ValidationFailed


class ProviderNotFound(NotFound):
    code = "provider_not_found"
    title = "Provider not found"


class RegionNotFound(NotFound):
    code = "region_not_found"
    title = "Region not found"


class ImageNotFound(NotFound):
    code = "image_not_found"
    title = "Image not found"


class PlanNotFound(NotFound):
    code = "plan_not_found"
    title = "Plan not found"


class SlugTaken(Conflict):
    """`code` is `<kind>_slug_taken`."""

    title = "Slug already in use"


class ProviderCodeTaken(Conflict):
    """`code` is `region_code_taken` or `image_code_taken`: two of ours cannot share one
    provider code."""

    title = "Provider code already mapped"


class ProviderInUse(Conflict):
    code = "provider_in_use"
    title = "Provider has plans"


class RegionInUse(Conflict):
    code = "region_in_use"
    title = "Region has plans"


class PlanReferenced(Conflict):
    code = "plan_referenced"
    title = "Plan is referenced by orders"


class UnknownReference(ValidationFailed):
    """A body names something that does not exist: `code` is `unknown_provider` or
    `unknown_region`."""

    title = "Unknown reference"


class RegionNotOnProvider(ValidationFailed):
    code = "region_not_on_provider"
    title = "Region has no code on the plan's provider"


class CycleNotDiscounted(ValidationFailed):
    code = "cycle_not_discounted"
    title = "A longer cycle costs more per month than a shorter one"


class PricesIncomplete(ValidationFailed):
    code = "prices_incomplete"
    title = "A price is needed for every billing cycle"


class PlanInactive(ValidationFailed):
    code = "plan_inactive"
    title = "Plan is not on sale"


class RegionNotOffered(ValidationFailed):
    code = "region_not_offered"
    title = "Plan is not offered in this region"


class ImageNotOffered(ValidationFailed):
    code = "image_not_offered"
    title = "Image is not offered for this plan"


class ProviderUnavailable(UpstreamError):
    code = "provider_service_unavailable"
    title = "Provider service unavailable"


class ProviderNotSupported(ValidationFailed):
    code = "provider_not_supported"
    title = "The provider service does not know this provider"
