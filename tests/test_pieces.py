"""`/v1/pieces` and `/v1/tags/pieces` beyond the translated upstream cases: the catalogue's rules
(versions, search, sort, categories, the project's piece filter), bad input, and tenancy (a
platform's own pieces and tags are invisible to every other platform)."""

from __future__ import annotations

from typing import Any

import pytest

from app.pieces import catalog
from tests.conftest import Tenant, TenantFactory, personal_project_id

SLACK = "@activepieces/piece-slack"
SLACK_VERSION = "0.17.9"
WEBHOOK = "@activepieces/piece-webhook"


def registry_body(name: str = SLACK, version: str = SLACK_VERSION, **change: Any) -> dict[str, Any]:
    return {"packageType": "REGISTRY", "scope": "PLATFORM", "pieceName": name, "pieceVersion": version, **change}


def validation(message: str) -> dict[str, Any]:
    return {"statusCode": 400, "code": "VALIDATION", "params": {"message": message}}


async def names(tenant: Tenant, **params: Any) -> list[str]:
    response = await tenant.client.get("/v1/pieces", params=params)
    assert response.status_code == 200, response.text
    return [piece["name"] for piece in response.json()]


# --- the catalogue


async def test_the_list_is_the_whole_snapshot_sorted_by_display_name(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/pieces")
    listed = response.json()
    assert len(listed) == len({piece["name"] for piece in catalog.load()})
    display_names = [piece["displayName"].lower() for piece in listed]
    assert display_names == sorted(display_names)
    assert all("i18n" not in piece and isinstance(piece["actions"], int) for piece in listed)


async def test_descending_order_reverses_the_list(tenant: Tenant) -> None:
    ascending = await names(tenant, sortBy="NAME")
    assert await names(tenant, sortBy="NAME", orderBy="DESC") == ascending[::-1]


async def test_sort_by_created(tenant: Tenant) -> None:
    listed = (await tenant.client.get("/v1/pieces", params={"sortBy": "CREATED"})).json()
    created = [piece["created"] for piece in listed]
    assert created == sorted(created)


async def test_categories_keep_the_pieces_of_any_of_them(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/pieces", params=[("categories", "CORE"), ("categories", "COMMUNICATION")])
    listed = response.json()
    assert listed and all({"CORE", "COMMUNICATION"} & set(piece["categories"]) for piece in listed)
    assert SLACK in [piece["name"] for piece in listed] and WEBHOOK in [piece["name"] for piece in listed]


async def test_suggested_actions_are_the_matching_ones(tenant: Tenant) -> None:
    params = {"searchQuery": "reaction", "suggestionType": "ACTION"}
    listed = (await tenant.client.get("/v1/pieces", params=params)).json()
    slack = next(piece for piece in listed if piece["name"] == SLACK)
    suggested = [action["name"] for action in slack["suggestedActions"]]
    assert "slack-add-reaction-to-message" in suggested
    assert len(suggested) < slack["actions"]
    assert "suggestedTriggers" not in slack


async def test_no_query_suggests_every_step(tenant: Tenant) -> None:
    listed = (await tenant.client.get("/v1/pieces", params={"suggestionType": "ACTION_AND_TRIGGER"})).json()
    slack = next(piece for piece in listed if piece["name"] == SLACK)
    assert len(slack["suggestedActions"]) == slack["actions"]
    assert len(slack["suggestedTriggers"]) == slack["triggers"]


async def test_a_word_of_the_name_always_finds_the_piece(tenant: Tenant) -> None:
    assert (await names(tenant, searchQuery="slack webhook"))[:1] == [SLACK] or SLACK in await names(
        tenant, searchQuery="slack webhook"
    )
    assert await names(tenant, searchQuery="zzzz-no-such-piece") == []


@pytest.mark.parametrize(
    ("version", "found"),
    [(None, SLACK_VERSION), (SLACK_VERSION, SLACK_VERSION), ("~0.17.0", SLACK_VERSION), ("^0.17.0", SLACK_VERSION)],
)
async def test_versions_and_ranges(tenant: Tenant, version: str | None, found: str) -> None:
    params = {"version": version} if version else {}
    response = await tenant.client.get(f"/v1/pieces/{SLACK}", params=params)
    assert response.status_code == 200
    assert response.json()["version"] == found


@pytest.mark.parametrize("version", ["0.17.8", "0.18.0", "~0.16.0", "^1.0.0"])
async def test_a_version_no_one_has_is_404(tenant: Tenant, version: str) -> None:
    response = await tenant.client.get(f"/v1/pieces/{SLACK}", params={"version": version})
    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"message": f"piece_metadata_not_found pieceName={SLACK}"},
    }


async def test_registry_lists_every_version_the_release_supports(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/pieces/registry", params={"release": "0.96.2", "edition": "ee"})
    assert response.status_code == 200
    assert {"name": SLACK, "version": SLACK_VERSION} in response.json()
    # Slack needs release 0.86.4 or later.
    old = (await tenant.client.get("/v1/pieces/registry", params={"release": "0.80.0", "edition": "ce"})).json()
    assert SLACK not in [entry["name"] for entry in old]
    assert all(set(entry) == {"name", "version"} for entry in old)


# --- the project's piece filter


async def test_the_project_filter_limits_the_list(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    plan = {"plan": {"piecesFilterType": "ALLOWED", "pieces": [SLACK, WEBHOOK]}}
    assert (await tenant.client.post(f"/v1/projects/{project_id}", json=plan)).status_code == 200
    assert sorted(await names(tenant, projectId=project_id)) == [SLACK, WEBHOOK]
    # includeHidden shows what the filter hides; without a project no filter applies.
    assert len(await names(tenant, projectId=project_id, includeHidden="true")) > 2
    assert len(await names(tenant)) > 2


async def test_another_platforms_project_filters_nothing_and_is_not_found(make_tenant: TenantFactory) -> None:
    mine, theirs = await make_tenant(), await make_tenant()
    their_project = await personal_project_id(theirs)
    response = await mine.client.get("/v1/pieces", params={"projectId": their_project})
    assert response.status_code == 404
    assert response.json()["code"] == "ENTITY_NOT_FOUND"


# --- a platform's own pieces


async def test_an_own_piece_is_seen_by_its_platform_only(make_tenant: TenantFactory) -> None:
    mine, theirs = await make_tenant(), await make_tenant()
    assert (await mine.client.post("/v1/pieces", json=registry_body())).status_code == 201
    own = (await mine.client.get(f"/v1/pieces/{SLACK}")).json()
    assert (own["pieceType"], own["packageType"], own["platformId"]) == ("CUSTOM", "REGISTRY", mine.platform_id)
    assert len(own["id"]) == 21 and own["id"] != (await theirs.client.get(f"/v1/pieces/{SLACK}")).json()["id"]
    listed = (await theirs.client.get("/v1/pieces")).json()
    assert all(piece.get("platformId") is None for piece in listed)
    registry = (await theirs.client.get("/v1/pieces/registry", params={"release": "0.96.2", "edition": "ee"})).json()
    assert registry.count({"name": SLACK, "version": SLACK_VERSION}) == 1
    mine_registry = (await mine.client.get("/v1/pieces/registry", params={"release": "0.96.2", "edition": "ee"})).json()
    assert mine_registry.count({"name": SLACK, "version": SLACK_VERSION}) == 2


async def test_adding_the_same_version_twice_is_refused(tenant: Tenant) -> None:
    assert (await tenant.client.post("/v1/pieces", json=registry_body())).status_code == 201
    response = await tenant.client.post("/v1/pieces", json=registry_body())
    assert response.status_code == 400
    assert response.json() == validation(f"piece_metadata_already_exists name={SLACK} version={SLACK_VERSION}")


async def test_a_piece_version_without_known_metadata_is_an_engine_failure(tenant: Tenant) -> None:
    response = await tenant.client.post("/v1/pieces", json=registry_body(version="9.9.9"))
    assert response.status_code == 400
    assert response.json()["code"] == "ENGINE_OPERATION_FAILURE"
    assert (await tenant.client.get(f"/v1/pieces/{SLACK}")).json()["pieceType"] == "OFFICIAL"


async def test_an_archive_cannot_be_read(tenant: Tenant) -> None:
    body = {
        "packageType": "ARCHIVE",
        "scope": "PLATFORM",
        "pieceName": "@acme/piece-private",
        "pieceVersion": "1.0.0",
        "pieceArchive": {"filename": "piece.tgz", "data": "", "type": "file"},
    }
    response = await tenant.client.post("/v1/pieces", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "ENGINE_OPERATION_FAILURE"


# --- tags


async def test_tags_are_replaced_trimmed_lowercased_and_per_platform(make_tenant: TenantFactory) -> None:
    mine, theirs = await make_tenant(), await make_tenant()
    first = {"piecesName": [SLACK, WEBHOOK], "tags": [" Chat ", "chat", "Core"]}
    assert (await mine.client.post("/v1/tags/pieces", json=first)).status_code == 201
    second = {"piecesName": [WEBHOOK], "tags": ["http"]}
    assert (await mine.client.post("/v1/tags/pieces", json=second)).status_code == 201
    listed = {piece["name"]: piece for piece in (await mine.client.get("/v1/pieces?includeTags=true")).json()}
    assert listed[SLACK]["tags"] == ["chat", "core"]
    assert listed[WEBHOOK]["tags"] == ["http"]
    assert all(piece["tags"] == [] for name, piece in listed.items() if name not in (SLACK, WEBHOOK))
    # Without includeTags no tags; another platform sees none of them.
    assert "tags" not in (await mine.client.get("/v1/pieces")).json()[0]
    theirs_listed = (await theirs.client.get("/v1/pieces?includeTags=true")).json()
    assert all(piece["tags"] == [] for piece in theirs_listed)


# --- bad input


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/v1/pieces?sortBy=SIZE", "querystring/sortBy must be equal to one of the allowed values"),
        ("/v1/pieces?orderBy=UP", "querystring/orderBy must be equal to one of the allowed values"),
        ("/v1/pieces?categories=NOPE", "querystring/categories/0 must be equal to one of the allowed values"),
        ("/v1/pieces?suggestionType=ALL", "querystring/suggestionType must be equal to one of the allowed values"),
        ("/v1/pieces?includeTags=maybe", "querystring/includeTags must be boolean"),
        ("/v1/pieces?release=latest", 'querystring/release must match pattern "^[0-9]+\\.[0-9]+\\.[0-9]+$"'),
        (f"/v1/pieces/{SLACK}?version=latest", 'querystring/version must match pattern "^([~^])?[0-9]+\\.[0-9]+\\.[0-9]+$"'),  # noqa: E501
        ("/v1/pieces/registry?edition=ce", "querystring must have required property 'release'"),
        ("/v1/pieces/registry?release=0.96.2", "querystring must have required property 'edition'"),
    ],
)  # fmt: skip
async def test_bad_queries_are_400(tenant: Tenant, url: str, message: str) -> None:
    response = await tenant.client.get(url)
    assert response.status_code == 400
    assert response.json() == validation(message)


async def test_the_old_sync_call_is_not_supported(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/pieces", params={"release": "0.96.2"})
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "code": "PIECE_SYNC_NOT_SUPPORTED",
        "params": {
            "message": "This endpoint is deprecated. Please use it without release parameter.",
            "release": "0.96.2",
        },
    }


@pytest.mark.sends_invalid_requests("each body is one the real AddPieceRequestBody refuses")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (registry_body(scope="PROJECT"), "body/scope must be equal to one of the allowed values"),
        (registry_body(pieceName=""), "body/pieceName must NOT have fewer than 1 characters"),
        (registry_body(pieceVersion="^1.0.0"), 'body/pieceVersion must match pattern "^[0-9]+\\.[0-9]+\\.[0-9]+$"'),
        ({"scope": "PLATFORM"}, "body must have required property 'packageType'"),
        (registry_body(packageType="NPM"), "body/packageType must be equal to one of the allowed values"),
    ],
)
async def test_bad_bodies_are_400(tenant: Tenant, body: dict[str, Any], message: str) -> None:
    response = await tenant.client.post("/v1/pieces", json=body)
    assert response.status_code == 400
    assert response.json() == validation(message)


@pytest.mark.sends_invalid_requests("each body is one the real SetPieceTagsRequest refuses")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"tags": ["a"]}, "body must have required property 'piecesName'"),
        ({"piecesName": SLACK, "tags": ["a"]}, "body/piecesName must be array"),
        ({"piecesName": [SLACK], "tags": [1]}, "body/tags/0 must be string"),
    ],
)
async def test_bad_tag_bodies_are_400(tenant: Tenant, body: dict[str, Any], message: str) -> None:
    response = await tenant.client.post("/v1/tags/pieces", json=body)
    assert response.status_code == 400
    assert response.json() == validation(message)


def test_the_docs_quote_the_catalogue_as_the_command_prints_it() -> None:
    from pathlib import Path

    from typer.testing import CliRunner

    from app.cli import cli

    printed = CliRunner().invoke(cli, ["pieces", "--names"]).stdout.strip()
    text = (Path(__file__).parent.parent / "docs" / "pieces.md").read_text()
    section = text[text.index("<!-- pieces-catalogue: start -->") : text.index("<!-- pieces-catalogue: end -->")]
    quoted = section.split("```")[1].strip()
    assert quoted == printed
    assert printed.startswith(f"{len(catalog.load())} published pieces")


# --- a flow step of a published piece is valid when its input satisfies the step's properties


def schedule(trigger_name: str, given: dict[str, Any], name: str = "@activepieces/piece-schedule") -> dict[str, Any]:
    return {
        "type": "PIECE_TRIGGER",
        "name": "trigger",
        "displayName": "Schedule",
        "valid": True,
        "settings": {
            "pieceName": name,
            "pieceVersion": "0.1.5",
            "triggerName": trigger_name,
            "input": given,
            "propertySettings": {},
        },
    }


def webhook_response(given: dict[str, Any]) -> dict[str, Any]:
    return {
        "parentStep": "trigger",
        "action": {
            "type": "PIECE",
            "name": "step_1",
            "displayName": "Respond",
            "valid": True,
            "settings": {
                "pieceName": WEBHOOK,
                "pieceVersion": "~0.1.29",
                "actionName": "return_response",
                "input": given,
                "propertySettings": {},
            },
        },
    }


async def new_flow(tenant: Tenant) -> str:
    body = {"displayName": "Pieces", "projectId": await personal_project_id(tenant)}
    response = await tenant.client.post("/v1/flows", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def trigger_valid(tenant: Tenant, flow_id: str, trigger: dict[str, Any]) -> bool:
    response = await tenant.client.post(f"/v1/flows/{flow_id}", json={"type": "UPDATE_TRIGGER", "request": trigger})
    assert response.status_code == 200, response.text
    return bool(response.json()["version"]["trigger"]["valid"])


@pytest.mark.parametrize(
    ("trigger", "valid"),
    [
        (schedule("every_hour", {"run_on_weekends": False}), True),
        (schedule("every_hour", {}), False),  # a required checkbox unset
        (schedule("cron_expression", {"cronExpression": "0 * * * *", "timezone": "UTC"}), True),
        (schedule("cron_expression", {"cronExpression": "", "timezone": "UTC"}), False),  # required text empty
        (schedule("cron_expression", {"cronExpression": "0 * * * *"}), False),  # a required dropdown unset
        (schedule("no_such_trigger", {}), False),  # the piece has no such trigger
        # A piece the catalogue does not hold keeps the general rule (named, with an input).
        (schedule("every_hour", {}, name="@acme/piece-unknown"), True),
    ],
)
async def test_a_trigger_is_judged_by_its_properties(tenant: Tenant, trigger: dict[str, Any], valid: bool) -> None:
    assert await trigger_valid(tenant, await new_flow(tenant), trigger) is valid


@pytest.mark.parametrize(("given", "valid"), [({"fields": {"status": 200}}, True), ({}, False)])
async def test_an_action_is_judged_by_its_properties(tenant: Tenant, given: dict[str, Any], valid: bool) -> None:
    flow_id = await new_flow(tenant)
    response = await tenant.client.post(
        f"/v1/flows/{flow_id}", json={"type": "ADD_ACTION", "request": webhook_response(given)}
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"]["trigger"]["nextAction"]["valid"] is valid
