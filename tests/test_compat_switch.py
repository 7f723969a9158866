"""The switch between the documented answers and the real server's, from the outside: the
`openpieces serve --compat` flag and the `openpieces` pytest fixture's parameter."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from app.testing import serving
from tests.processes import free_port, openpieces_command, run_pytest

pytestmark = pytest.mark.slow

BOOTSTRAP_KEY = "sk-compat-switch-key-0123456789abcdefghijkl"


@pytest.mark.sends_invalid_requests("sends a body without displayName to see the real server's 400")
def test_serve_compat_server_gives_the_real_servers_answers(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "AP_DATABASE_URL": database_url,
        "AP_DATA_DIR": str(tmp_path),
        "AP_BOOTSTRAP_API_KEY": BOOTSTRAP_KEY,
        "AP_COMPAT": "docs",  # the flag wins over the environment
    }
    with serving(
        [*openpieces_command(), "serve", "--port", str(port), "--compat", "server"],
        env=env,
        ready_url=f"http://127.0.0.1:{port}/v1/health",
        log_path=tmp_path / "server.log",
    ):
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"}
        ) as client:
            [personal] = client.get("/v1/projects", params={"types": "PERSONAL"}).json()["data"]
            refused = client.delete(f"/v1/projects/{personal['id']}")
            assert refused.status_code == 409
            assert refused.json() == {
                "code": "VALIDATION",
                "params": {"message": "Personal projects cannot be deleted"},
            }
            shape = client.post("/v1/projects", json={})
            assert shape.json()["code"] == "FST_ERR_VALIDATION"


USERS_SUITE = """
import httpx
import pytest


@pytest.mark.parametrize("openpieces", ["server"], indirect=True)
def test_the_real_servers_answers(openpieces):
    client = httpx.Client(base_url=openpieces.api_url, headers={"Authorization": f"Bearer {openpieces.api_key}"})
    [personal] = client.get("/projects", params={"types": "PERSONAL"}).json()["data"]
    refused = client.delete(f"/projects/{personal['id']}")
    assert refused.status_code == 409
    assert refused.json() == {"code": "VALIDATION", "params": {"message": "Personal projects cannot be deleted"}}
"""


def test_the_pytest_fixture_takes_the_answers_as_a_parameter(tmp_path: Path) -> None:
    suite = tmp_path / "test_users_suite.py"
    suite.write_text(USERS_SUITE)
    result = run_pytest(suite)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
