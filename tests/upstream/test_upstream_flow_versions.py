"""Translated from `packages/server/api/test/integration/ce/flows/flow-version/flow-version.test.ts`
(activepieces/activepieces). The route is `securityAccess.project([PrincipalType.USER])` on the real
server: upstream calls it with a user's session; with an API key every case is refused with 403
before the flow is looked up. (Documented mode answers an API key as a user: tests/test_flow_versions.py.)"""

from __future__ import annotations

from tests.conftest import Tenant, TenantFactory
from tests.upstream.helpers import create_flow

REFUSED = {"code": "AUTHORIZATION", "params": {"message": "principal is not allowed for this route"}}


# "GET /:flowId/versions (List Flow Versions)" / "should list versions for a flow"
async def test_should_list_versions_for_a_flow(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    response = await tenant.client.get(f"/v1/flows/{flow['id']}/versions")
    assert (response.status_code, response.json()) == (403, REFUSED)


# "GET /:flowId/versions (List Flow Versions)" / "should paginate versions"
async def test_should_paginate_versions(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    response = await tenant.client.get(f"/v1/flows/{flow['id']}/versions", params={"limit": "2"})
    assert (response.status_code, response.json()) == (403, REFUSED)


# "GET /:flowId/versions (List Flow Versions)" / "should return 404 for non-existent flow"
async def test_should_return_404_for_non_existent_flow(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/flows/zzzzzzzzzzzzzzzzzzzzz/versions")
    assert (response.status_code, response.json()) == (403, REFUSED)


# "GET /:flowId/versions (List Flow Versions)" / "should not return versions for flow in another project"
async def test_should_not_return_versions_for_flow_in_another_project(make_tenant: TenantFactory) -> None:
    owner, stranger = await make_tenant(), await make_tenant()
    flow = await create_flow(owner)
    response = await stranger.client.get(f"/v1/flows/{flow['id']}/versions")
    assert response.status_code == 403
