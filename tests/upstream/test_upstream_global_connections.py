"""Translated from `packages/server/api/test/integration/cloud/global-connection/global-connection.test.ts`
(activepieces/activepieces), over HTTP with API keys (a platform key acts as the platform's owner),
with the real server's answers."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.upstream.helpers import a_project_id, secret_text_connection

UNKNOWN_PROJECT_ID = "zzzzzzzzzzzzzzzzzzzzz"


async def upsert(tenant: Tenant, project_ids: list[str]) -> dict:
    response = await tenant.client.post("/v1/global-connections", json=secret_text_connection(project_ids))
    assert response.status_code == 201, response.text
    return dict(response.json())


# "Upsert GlobalConnection endpoint" / "Succeeds if user is platform owner"
async def test_upsert_succeeds_if_user_is_platform_owner(tenant: Tenant) -> None:
    response = await tenant.client.post(
        "/v1/global-connections", json=secret_text_connection([await a_project_id(tenant)])
    )
    assert response.status_code == 201


# "Upsert GlobalConnection endpoint" / "Fails if project ids are invalid"
async def test_upsert_fails_if_project_ids_are_invalid(tenant: Tenant) -> None:
    response = await tenant.client.post("/v1/global-connections", json=secret_text_connection([UNKNOWN_PROJECT_ID]))
    assert response.status_code == 404
    assert (await tenant.client.get("/v1/global-connections")).json()["data"] == []


# "List GlobalConnections endpoint" / "Succeeds if user is platform owner"
async def test_list_succeeds_if_user_is_platform_owner(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/global-connections")
    assert response.status_code == 200


# "Delete GlobalConnection endpoint" / "Succeeds if user is platform owner"
async def test_delete_succeeds_if_user_is_platform_owner(tenant: Tenant) -> None:
    connection = await upsert(tenant, [await a_project_id(tenant)])
    response = await tenant.client.delete(f"/v1/global-connections/{connection['id']}")
    assert response.status_code == 204


# "Update GlobalConnection endpoint" / "Succeeds if user is platform owner"
async def test_update_succeeds_if_user_is_platform_owner(tenant: Tenant) -> None:
    connection = await upsert(tenant, [await a_project_id(tenant)])
    response = await tenant.client.post(
        f"/v1/global-connections/{connection['id']}", json={"displayName": "updated-global-connection"}
    )
    assert response.status_code == 200
    assert response.json()["displayName"] == "updated-global-connection"


# "Update GlobalConnection endpoint" / "Fails if project ids are invalid"
async def test_update_fails_if_project_ids_are_invalid(tenant: Tenant) -> None:
    connection = await upsert(tenant, [await a_project_id(tenant)])
    response = await tenant.client.post(
        f"/v1/global-connections/{connection['id']}",
        json={"projectIds": [UNKNOWN_PROJECT_ID], "displayName": "updated-global-connection"},
    )
    assert response.status_code == 404
