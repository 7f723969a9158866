"""Keyset pagination of every list, walked to its deepest page and back, and the list filters'
pattern characters: each list runs statements compiled once per combination of filters."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Tenant, TenantFactory, personal_project_id

ROWS = 7
LIMIT = 2


async def make_rows(tenant: Tenant, kind: str) -> tuple[str, dict[str, Any], list[str]]:
    """ROWS new rows of a kind; returns the list's path, its base query and the ids in the list's order
    (projects by name, flows most recently updated first, connections oldest first)."""
    if kind == "projects":
        path, query = "/v1/projects", {"types": "TEAM"}
        bodies = [("/v1/projects", {"displayName": f"Row {i}"}) for i in range(ROWS)]
    elif kind == "flows":
        project_id = await personal_project_id(tenant)
        path, query = "/v1/flows", {"projectId": project_id}
        bodies = [("/v1/flows", {"displayName": f"Row {i}", "projectId": project_id}) for i in range(ROWS)]
    else:
        path, query = "/v1/global-connections", {}
        value = {"type": "SECRET_TEXT", "secret_text": "s3cret"}
        bodies = [
            (
                "/v1/global-connections",
                {
                    "displayName": f"Row {i}",
                    "pieceName": "@activepieces/piece-slack",
                    "type": "SECRET_TEXT",
                    "value": value,
                    "scope": "PLATFORM",
                    "projectIds": [],
                    "externalId": f"row-{i}",
                },
            )
            for i in range(ROWS)
        ]
    ids = []
    for url, body in bodies:
        response = await tenant.client.post(url, json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return path, query, list(reversed(ids)) if kind == "flows" else ids


@pytest.mark.parametrize("kind", ["projects", "flows", "connections"])
async def test_every_page_forward_to_the_deepest_and_back(make_tenant: TenantFactory, kind: str) -> None:
    tenant = await make_tenant()
    path, query, in_order = await make_rows(tenant, kind)

    async def get(cursor: str | None) -> dict[str, Any]:
        params = {**query, "limit": LIMIT} | ({"cursor": cursor} if cursor else {})
        response = await tenant.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    pages = [await get(None)]
    assert pages[0]["previous"] is None
    while pages[-1]["next"] is not None:
        pages.append(await get(pages[-1]["next"]))
    assert [len(p["data"]) for p in pages] == [2, 2, 2, 1]
    assert [row["id"] for p in pages for row in p["data"]] == in_order
    assert all(p["previous"] is not None for p in pages[1:])

    # Back from the deepest page: each `previous` gives the page before, the first has no previous.
    back = [pages[-1]]
    while back[-1]["previous"] is not None:
        back.append(await get(back[-1]["previous"]))
    assert [[row["id"] for row in p["data"]] for p in reversed(back)] == [
        [row["id"] for row in p["data"]] for p in pages
    ]
    assert back[-1]["previous"] is None and back[-1]["next"] is not None
    # A page reached backwards is the same body as the one reached forwards, cursors included.
    assert back[1] == pages[-2]


async def test_name_filters_treat_pattern_characters_as_wildcards(make_tenant: TenantFactory) -> None:
    """The real server puts the filter between `%` into an ILIKE unescaped: `%` and `_` are wildcards and
    a backslash escapes the next character. (Before, they matched themselves: `0%` found only "50% off".)"""
    tenant = await make_tenant()
    for name in ("50% off", "500 off", "a_b", "axb", "back\\slash"):
        assert (await tenant.client.post("/v1/projects", json={"displayName": name})).status_code == 201

    async def names(display_name: str) -> list[str]:
        response = await tenant.client.get("/v1/projects", params={"displayName": display_name, "types": "TEAM"})
        assert response.status_code == 200, response.text
        return sorted(p["displayName"] for p in response.json()["data"])

    assert await names("0%") == ["50% off", "500 off"]
    assert await names("A_B") == ["a_b", "axb"]
    assert await names("0\\%") == ["50% off"]
    assert await names("a\\_") == ["a_b"]
    assert await names("OFF") == ["50% off", "500 off"]
