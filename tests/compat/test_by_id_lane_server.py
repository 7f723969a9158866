"""The by-id read lane answers as FastAPI does with `AP_COMPAT=server` too (tests/test_by_id_lane.py)."""

from tests.conftest import TenantFactory
from tests.test_by_id_lane import assert_lane_answers_as_fastapi


async def test_the_lane_answers_byte_for_byte_as_fastapi_in_server_mode(make_tenant: TenantFactory) -> None:
    statuses = await assert_lane_answers_as_fastapi(await make_tenant(), await make_tenant())
    assert {200, 400} <= set(statuses), statuses
