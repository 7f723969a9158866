# A test of your own Activepieces client against openpieces. Install openpieces and the
# `openpieces` fixture is there: a real server, on an embedded PostgreSQL, with an API key.
import httpx


def test_create_and_list_projects(openpieces):
    client = httpx.Client(base_url=openpieces.api_url, headers={"Authorization": f"Bearer {openpieces.api_key}"})
    created = client.post("/projects", json={"displayName": "From my tests"})
    assert created.status_code == 201
    listed = client.get("/projects", params={"displayName": "my tests"}).json()
    assert [p["id"] for p in listed["data"]] == [created.json()["id"]]
