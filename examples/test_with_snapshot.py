# Every test from the same state: build it once, and `openpieces_restored` restores it before each
# test (in milliseconds), whatever the test before it changed.
import httpx
import pytest


def api(server):
    return httpx.Client(base_url=server.api_url, headers={"Authorization": f"Bearer {server.api_key}"})


@pytest.fixture(scope="session")
def openpieces_snapshot(openpieces):
    with api(openpieces) as client:
        for name in ("Sales", "Support"):
            client.post("/projects", json={"displayName": name}).raise_for_status()
    return openpieces.export_snapshot()  # or the path of a snapshot file


@pytest.mark.parametrize("name", ["Marketing", "Finance"])
def test_each_test_starts_from_the_snapshot(openpieces_restored, name):
    with api(openpieces_restored) as client:
        assert client.post("/projects", json={"displayName": name}).status_code == 201
        names = [p["displayName"] for p in client.get("/projects", params={"limit": 100}).json()["data"]]
    assert {"Sales", "Support", name} <= set(names)
    assert len(names) == 4  # the other test's project is gone
