"""`AP_COMPAT=server`: a global-connection upsert follows the real server's rule
(app-connection-service.ts `upsert`): the connection of that externalId is reused only when its
`projectIds` contain every requested one; otherwise a second connection of the same externalId is
made. The documented rule (one connection per externalId) is checked in
tests/test_global_connections.py."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import Tenant, personal_project_id
from tests.test_app_connections import upsert as upsert_project_connection
from tests.test_global_connections import list_all, new_project, upsert, upsert_body


async def _projects_of(tenant: Tenant, project_id: str) -> list[str]:
    response = await tenant.client.get(f"/v1/projects/{project_id}")
    assert response.status_code == 200
    return list(response.json().get("globalConnectionExternalIds") or [])


async def test_other_projects_make_a_second_connection_of_the_same_external_id(tenant: Tenant) -> None:
    a = await personal_project_id(tenant)
    b = (await new_project(tenant))["id"]
    first = await upsert(tenant, [a], externalId="shared")
    second = await upsert(tenant, [b], externalId="shared", displayName="Second")
    assert second["id"] != first["id"]
    assert (second["externalId"], second["projectIds"], second["displayName"]) == ("shared", [b], "Second")
    listed = await list_all(tenant)
    # The first one is left as it was.
    assert sorted((c["id"], c["projectIds"], c["displayName"]) for c in listed) == sorted(
        [(first["id"], [a], "Slack bot"), (second["id"], [b], "Second")]
    )


async def test_a_connection_holding_every_requested_project_is_updated(tenant: Tenant) -> None:
    a = await personal_project_id(tenant)
    b = (await new_project(tenant))["id"]
    first = await upsert(tenant, [a, b], externalId="shared")
    # [b] is contained in [a, b]: the same row, its projects now exactly the requested ones.
    second = await upsert(tenant, [b], externalId="shared", displayName="Renamed")
    assert second["id"] == first["id"] and second["created"] == first["created"]
    assert (second["projectIds"], second["displayName"]) == ([b], "Renamed")
    # No projects requested: every connection of the externalId qualifies.
    third = await upsert(tenant, [], externalId="shared")
    assert third["id"] == first["id"] and third["projectIds"] == []
    assert [c["id"] for c in await list_all(tenant)] == [first["id"]]


async def test_parallel_upserts_of_one_external_id_and_projects_make_one_row(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    responses = await asyncio.gather(
        *(
            tenant.client.post(
                "/v1/global-connections", json=upsert_body([project_id], externalId="raced", displayName=f"n{i}")
            )
            for i in range(20)
        )
    )
    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await list_all(tenant)) == 1


async def test_parallel_upserts_for_two_projects_make_exactly_two_rows(tenant: Tenant) -> None:
    a = await personal_project_id(tenant)
    b = (await new_project(tenant))["id"]
    bodies: list[dict[str, Any]] = [upsert_body([[a], [b]][i % 2], externalId="raced") for i in range(20)]
    responses = await asyncio.gather(*(tenant.client.post("/v1/global-connections", json=body) for body in bodies))
    assert [r.status_code for r in responses] == [201] * 20
    by_project = {tuple(r.json()["projectIds"]): r.json()["id"] for r in responses}
    assert set(by_project) == {(a,), (b,)}
    assert len({r.json()["id"] for r in responses}) == 2
    assert sorted(c["id"] for c in await list_all(tenant)) == sorted(by_project.values())


async def test_a_project_naming_the_external_id_links_every_connection_of_it(tenant: Tenant) -> None:
    a = await personal_project_id(tenant)
    b = (await new_project(tenant))["id"]
    first = await upsert(tenant, [a], externalId="shared")
    second = await upsert(tenant, [b], externalId="shared")
    # As the real server links: every connection WHERE externalId IN (...) on the platform.
    project = await new_project(tenant, globalConnectionExternalIds=["shared"])
    linked = {c["id"]: c["projectIds"] for c in await list_all(tenant)}
    assert project["id"] in linked[first["id"]] and project["id"] in linked[second["id"]]


async def test_a_project_connection_keeps_one_row_per_external_id(tenant: Tenant) -> None:
    # The real lookup of a project connection asks for projectIds containing [projectId]: within
    # one project, the same connection every time, as in the documented mode.
    project_id = await personal_project_id(tenant)
    first = await upsert_project_connection(tenant, project_id, "bot")
    second = await upsert_project_connection(tenant, project_id, "bot", displayName="Renamed")
    assert second["id"] == first["id"] and second["displayName"] == "Renamed"
