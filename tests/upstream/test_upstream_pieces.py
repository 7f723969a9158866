"""Translated from `packages/server/api/test/integration/ce/pieces/piece-metadata.test.ts`,
`piece-platform-scoping.test.ts` and `tag.test.ts` (activepieces/activepieces), over HTTP with API
keys, with the real server's answers. The real tests save mock pieces in the database; here the
catalogue is the published pieces the server ships, and a platform's own piece is added through
`POST /v1/pieces`, so each case is asked of real pieces."""

from __future__ import annotations

from typing import Any

from app.pieces.service import latest_of_each
from tests.conftest import Tenant
from tests.upstream.helpers import a_project_id

SLACK = "@activepieces/piece-slack"
SLACK_VERSION = "0.17.9"


async def add_own_slack(tenant: Tenant) -> None:
    body = {"packageType": "REGISTRY", "scope": "PLATFORM", "pieceName": SLACK, "pieceVersion": SLACK_VERSION}
    response = await tenant.client.post("/v1/pieces", json=body)
    assert response.status_code == 201, response.text
    assert response.json() == {}


def by_name(pieces: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(piece for piece in pieces if piece["name"] == name)


# "Piece Metadata CE API" / "GET /v1/pieces/categories" / "should return piece categories"
async def test_should_return_piece_categories(tenant: Tenant) -> None:
    response = await tenant.client.get("/api/v1/pieces/categories")
    assert response.status_code == 200
    assert isinstance(response.json(), list)
    assert "COMMUNICATION" in response.json()


# "Piece Metadata CE API" / "GET /v1/pieces (List)" / "should list pieces"
async def test_should_list_pieces(tenant: Tenant) -> None:
    response = await tenant.client.get("/api/v1/pieces")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    slack = by_name(body, SLACK)
    assert slack["displayName"] == "Slack"
    assert slack["pieceType"] == "OFFICIAL"
    assert isinstance(slack["actions"], int) and slack["actions"] > 0


# "Piece Metadata CE API" / "GET /v1/pieces (List)" / "should filter pieces by searchQuery"
async def test_should_filter_pieces_by_searchquery(tenant: Tenant) -> None:
    response = await tenant.client.get("/api/v1/pieces?searchQuery=Google+Sheets")
    assert response.status_code == 200
    names = [piece["name"] for piece in response.json()]
    assert names[0] == "@activepieces/piece-google-sheets"
    assert SLACK not in names


# "Piece Metadata CE API" / "GET /v1/pieces/:name" / "should get piece by name"
async def test_should_get_piece_by_name(tenant: Tenant) -> None:
    # The published names are scoped: the name as one path segment, encoded as a client sends it.
    response = await tenant.client.get("/api/v1/pieces/%40activepieces%2Fpiece-slack")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == SLACK
    assert body["displayName"] == "Slack"


# "Piece Metadata CE API" / "GET /v1/pieces/:name" / "should return 404 for non-existent piece"
async def test_should_return_404_for_non_existent_piece(tenant: Tenant) -> None:
    response = await tenant.client.get("/api/v1/pieces/non-existent-piece-xyz")
    assert response.status_code == 404
    assert response.json() == {
        "code": "ENTITY_NOT_FOUND",
        "params": {"message": "piece_metadata_not_found pieceName=non-existent-piece-xyz"},
    }


# "Piece Metadata CE API" / "GET /v1/pieces/:scope/:name" / "should get piece by scope and name"
async def test_should_get_piece_by_scope_and_name(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    response = await tenant.client.get(f"/v1/pieces/{SLACK}?projectId={project_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == SLACK
    assert body["version"] == SLACK_VERSION
    assert "slack-add-reaction-to-message" in body["actions"]
    assert body["actions"]["slack-add-reaction-to-message"]["props"]["channel"]["required"] is True


def _release_case(version: str, minimum: str) -> dict[str, Any]:
    return {
        "name": "@activepieces/piece-release-test",
        "version": version,
        "displayName": "Release test",
        "minimumSupportedRelease": minimum,
        "maximumSupportedRelease": "99999.99999.9999",
        "pieceType": "OFFICIAL",
    }


# "release-compatibility fallback" / "GET /v1/pieces returns the newest compatible version in list
# when latest is incompatible" (the catalogue's rule, on the real case's two versions)
def test_list_returns_the_newest_compatible_version() -> None:
    pieces = [_release_case("0.1.32", "0.0.0"), _release_case("0.1.33", "99.0.0")]
    assert [piece["version"] for piece in latest_of_each(pieces)] == ["0.1.32"]


# "release-compatibility fallback" / "GET /v1/pieces/:scope/:name returns 404 when all versions are
# incompatible" (the catalogue's rule)
def test_no_version_when_all_are_incompatible() -> None:
    assert latest_of_each([_release_case("0.1.33", "99.0.0")]) == []


# "custom pieces per platform" / "list: each platform sees official + only its own custom piece"
async def test_each_platform_sees_official_and_only_its_own_custom_piece(make_tenant: Any) -> None:
    a, b = await make_tenant(), await make_tenant()
    await add_own_slack(a)
    listed_a = by_name((await a.client.get(f"/api/v1/pieces?projectId={await a_project_id(a)}")).json(), SLACK)
    listed_b = by_name((await b.client.get(f"/api/v1/pieces?projectId={await a_project_id(b)}")).json(), SLACK)
    assert (listed_a["pieceType"], listed_a["platformId"]) == ("CUSTOM", a.platform_id)
    assert listed_b["pieceType"] == "OFFICIAL" and "platformId" not in listed_b


# "custom pieces per platform" / "single piece: a platform user cannot read another platform custom piece"
async def test_cannot_read_another_platforms_custom_piece(make_tenant: Any) -> None:
    a, b = await make_tenant(), await make_tenant()
    await add_own_slack(a)
    own = (await a.client.get(f"/api/v1/pieces/{SLACK}")).json()
    other = (await b.client.get(f"/api/v1/pieces/{SLACK}")).json()
    assert own["pieceType"] == "CUSTOM" and own["platformId"] == a.platform_id
    assert other["pieceType"] == "OFFICIAL" and "platformId" not in other


# "custom pieces per platform" / "single piece: an English request is unaffected and carries no i18n"
async def test_english_request_carries_no_i18n(tenant: Tenant) -> None:
    response = await tenant.client.get(f"/api/v1/pieces/{SLACK}?locale=en")
    assert response.status_code == 200
    assert "i18n" not in response.json()


# "Tags API" / "POST /v1/tags/pieces (Assign)" / "should assign tags to pieces"
async def test_should_assign_tags_to_pieces(tenant: Tenant) -> None:
    response = await tenant.client.post("/api/v1/tags/pieces", json={"piecesName": [SLACK], "tags": ["assign-tag"]})
    assert response.status_code == 201
    assert response.json() == {}
    listed = (await tenant.client.get("/api/v1/pieces?includeTags=true")).json()
    assert by_name(listed, SLACK)["tags"] == ["assign-tag"]
