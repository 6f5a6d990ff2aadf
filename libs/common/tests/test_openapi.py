from __future__ import annotations

from fastapi import FastAPI

from webrana_common.openapi import ADMIN_AUTH, problems


def test_problem_responses_are_documented_with_their_codes_and_media_type() -> None:
    app = FastAPI()

    @app.get("/things/{thing_id}", responses=problems(s404="thing_not_found", **ADMIN_AUTH))
    async def get_thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    responses = app.openapi()["paths"]["/things/{thing_id}"]["get"]["responses"]
    not_found = responses["404"]
    assert not_found["description"] == "Not found: code thing_not_found"
    example = not_found["content"]["application/problem+json"]["example"]
    assert example["code"] == "thing_not_found"
    assert example["status"] == 404
    assert responses["403"]["description"] == "Forbidden: code admin_required"
    assert (
        responses["401"]["description"]
        == "Authentication required: code token_missing, token_invalid"
    )
