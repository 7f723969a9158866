"""Several independent `openpieces serve` processes on one database (behind PgBouncer, as in
production) behave as one server: limits and uniqueness hold across them, a key deletion or a reset
through one is obeyed by all at once (LISTEN/NOTIFY on the direct URL), faults and the request log
are shared; and a replica restarted under load (SIGTERM, drain, start again) fails no request."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from app.kit.db import run_migrations
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.pg import fresh_database
from tests.pgbouncer import PgBouncerUnavailable, pgbouncer
from tests.processes import free_port, openpieces_command

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "replicas-admin-token"
PARALLEL = 30
# Long enough that only a notification can explain a cache forgetting a key in time.
CACHE_TTL_SECONDS = 60
DRAIN_DELAY_SECONDS = 0.5
# Enough keep-alive clients that every replica is busy when a deletion commits.
CLIENTS = 48
KEYS = 150
# The suite's sizes; the probe's scenario by hand: OPENPIECES_REPLICA_WORKERS=2 OPENPIECES_REVOCATION_TRIALS=20.
REPLICA_WORKERS = int(os.environ.get("OPENPIECES_REPLICA_WORKERS", "1"))
REVOCATION_TRIALS = int(os.environ.get("OPENPIECES_REVOCATION_TRIALS", "3"))


@dataclass
class Replica:
    """One `openpieces serve` process on a fixed port, so it can be stopped and started again."""

    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        log = (self.log_dir / f"replica-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [*openpieces_command(), "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"replica exited with {self.process.returncode}: {self.log()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"replica did not start: {self.log()[-3000:]}")

    def terminate(self) -> None:
        """SIGTERM, as an orchestrator sends on a deploy (the replica drains, then exits)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)

    def wait(self, timeout: float = 60) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.terminate()
            try:
                self.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def log(self) -> str:
        return "".join(path.read_text(errors="replace") for path in self.log_dir.glob(f"replica-{self.port}.log"))


def database_env(stack: ExitStack, database_url: str) -> dict[str, str]:
    """As in production, behind PgBouncer (which also keeps the shared test PostgreSQL's connection
    slots free); straight on PostgreSQL where PgBouncer cannot be had."""
    try:
        pooled_url = stack.enter_context(pgbouncer(database_url, pool_size=8))
    except PgBouncerUnavailable as exc:
        print(f"\nreplicas run straight on PostgreSQL: {exc}")
        return {"AP_DATABASE_URL": database_url}
    return {
        "AP_DATABASE_URL": pooled_url,
        "AP_DATABASE_POOLER": "transaction",
        "AP_DATABASE_DIRECT_URL": database_url,
    }


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Replica]]:
    """Three replicas on one new database; each has its own data dir (nothing shared but PostgreSQL)."""
    with fresh_database() as database_url, ExitStack() as stack:
        run_migrations(database_url)
        database = database_env(stack, database_url)
        started: list[Replica] = []
        try:
            for index in range(3):
                data_dir = tmp_path_factory.mktemp(f"replica{index}")
                env = {
                    **database,
                    "AP_DATA_DIR": str(data_dir),
                    "AP_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
                    "AP_ADMIN_TOKEN": ADMIN_TOKEN,
                    "AP_AUTH_CACHE_TTL_SECONDS": str(CACHE_TTL_SECONDS),
                    "AP_SHUTDOWN_DELAY_SECONDS": str(DRAIN_DELAY_SECONDS),
                    "AP_LOG_REQUESTS": "false",
                    # Few connections each: the test PostgreSQL is shared with the rest of the suite.
                    "AP_DB_POOL_SIZE": "2",
                    "AP_DB_MAX_OVERFLOW": "4",
                }
                replica = Replica(env, data_dir, workers=REPLICA_WORKERS)
                replica.start()
                started.append(replica)
            yield started
        finally:
            for replica in started:
                replica.stop()


def admin(replica: Replica) -> httpx.Client:
    return httpx.Client(base_url=replica.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30)


def new_platform(replica: Replica, edition: str = "ENTERPRISE") -> dict[str, str]:
    with admin(replica) as client:
        created = client.post("/admin/platforms", json={"name": f"Replicated {edition}", "edition": edition})
    assert created.status_code == 201, created.text
    return dict(created.json())


async def round_robin(replicas: list[Replica], api_key: str, method: str, path: str, bodies: list[dict]) -> list:
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(headers=headers, timeout=60, limits=httpx.Limits(max_connections=100)) as client:
        return list(
            await asyncio.gather(
                *(
                    client.request(method, replicas[i % len(replicas)].url + path, json=body)
                    for i, body in enumerate(bodies)
                )
            )
        )


def test_the_team_project_limit_holds_across_replicas(replicas: list[Replica]) -> None:
    key = new_platform(replicas[0], "PRO")["apiKey"]
    bodies = [{"displayName": f"Team {i}"} for i in range(PARALLEL)]
    responses = asyncio.run(round_robin(replicas, key, "POST", "/v1/projects", bodies))
    assert Counter(r.status_code for r in responses) == {201: 1, 400: PARALLEL - 1}
    assert {r.json()["code"] for r in responses if r.status_code == 400} == {"FEATURE_DISABLED"}


def test_one_external_id_makes_one_project_across_replicas(replicas: list[Replica]) -> None:
    key = new_platform(replicas[1])["apiKey"]
    bodies = [{"displayName": "Same", "externalId": "one-across-replicas"}] * PARALLEL
    responses = asyncio.run(round_robin(replicas, key, "POST", "/v1/projects", bodies))
    assert Counter(r.status_code for r in responses) == {201: 1, 409: PARALLEL - 1}
    listed = httpx.get(
        f"{replicas[2].url}/v1/projects", params={"types": "TEAM"}, headers={"Authorization": f"Bearer {key}"}
    ).json()
    assert [p["externalId"] for p in listed["data"]] == ["one-across-replicas"]


def statuses_with_key(replicas: list[Replica], api_key: str) -> list[int]:
    headers = {"Authorization": f"Bearer {api_key}"}
    return [httpx.get(f"{r.url}/v1/projects", headers=headers, timeout=10).status_code for r in replicas]


def refused_by_all_within_100_ms(replicas: list[Replica], api_key: str) -> bool:
    """Every replica had the key cached (for CACHE_TTL_SECONDS): only the notification can make all
    of them refuse it 100 ms after the change was answered."""
    time.sleep(0.1)
    return statuses_with_key(replicas, api_key) == [401] * len(replicas)


def test_a_platform_deleted_through_one_replica_is_refused_by_all_at_once(replicas: list[Replica]) -> None:
    platform = new_platform(replicas[0])
    assert statuses_with_key(replicas, platform["apiKey"]) == [200, 200, 200]  # cached on every replica
    with admin(replicas[1]) as client:
        assert client.delete(f"/admin/platforms/{platform['platformId']}").status_code == 204
    assert refused_by_all_within_100_ms(replicas, platform["apiKey"])


def test_a_reset_through_one_replica_is_obeyed_by_all_at_once(replicas: list[Replica]) -> None:
    platform = new_platform(replicas[0])
    assert statuses_with_key(replicas, platform["apiKey"]) == [200, 200, 200]
    with admin(replicas[2]) as client:
        assert client.post("/admin/reset").status_code == 200
    assert refused_by_all_within_100_ms(replicas, platform["apiKey"])


def test_a_fault_set_through_one_replica_fires_on_all(replicas: list[Replica]) -> None:
    key = new_platform(replicas[0])["apiKey"]
    headers = {"Authorization": f"Bearer {key}"}
    with admin(replicas[0]) as client:
        fault = {"path_pattern": "/v1/projects", "method": "GET", "status": 503, "times": 3}
        assert client.post("/admin/faults", json=fault).status_code == 201
    answers = [httpx.get(f"{r.url}/v1/projects", headers=headers).status_code for r in replicas]
    assert answers == [503, 503, 503]
    assert [httpx.get(f"{r.url}/v1/projects", headers=headers).status_code for r in replicas] == [200, 200, 200]
    with admin(replicas[1]) as client:
        assert [f["remaining"] for f in client.get("/admin/faults").json()] == [0]
        assert client.delete("/admin/faults").status_code == 204


def test_the_request_log_through_any_replica_shows_every_replicas_requests(replicas: list[Replica]) -> None:
    key = new_platform(replicas[0])["apiKey"]
    sent = []
    for round_ in range(2):
        for index, replica in enumerate(replicas):
            request_id = f"replica-{index}-round-{round_}"
            headers = {"Authorization": f"Bearer {key}", "X-Request-Id": request_id}
            assert httpx.get(f"{replica.url}/v1/projects", headers=headers).status_code == 200
            sent.append(request_id)
    for replica in replicas:
        with admin(replica) as client:
            logged = client.get("/admin/requests", params={"limit": len(sent)}).json()
        assert [entry["requestId"] for entry in logged] == sent


@dataclass
class LoadResult:
    answered: Counter = field(default_factory=Counter)  # by replica port
    failures: list[str] = field(default_factory=list)
    rerouted: int = 0  # connection refused before a request was sent: a load balancer tries another


class RoundRobinBalancer:
    """A tiny load balancer, as the test's client: round robin over the replicas whose health check
    last answered 200 (checked every 50 ms); a connection refused before anything was sent goes to
    the next replica. Any other error, and any non-2xx answer, is a failed request."""

    def __init__(self, replicas: list[Replica], api_key: str, *, health_checks: bool = True) -> None:
        self.health_checks = health_checks
        self.replicas = replicas
        self.healthy = {r.port: True for r in replicas}
        self.api_key = api_key
        self.stop = threading.Event()
        self.result = LoadResult()
        self._next = 0

    async def _check_health(self, client: httpx.AsyncClient) -> None:
        while self.health_checks and not self.stop.is_set():
            for replica in self.replicas:
                try:
                    answer = await client.get(f"{replica.url}/v1/health", timeout=1)
                    self.healthy[replica.port] = answer.status_code == 200
                except httpx.HTTPError:
                    self.healthy[replica.port] = False
            await asyncio.sleep(0.05)

    def _pick(self) -> Replica | None:
        for _ in range(len(self.replicas)):
            replica = self.replicas[self._next % len(self.replicas)]
            self._next += 1
            if self.healthy[replica.port]:
                return replica
        return None

    async def _user(self, client: httpx.AsyncClient, number: int) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        sent = 0
        while not self.stop.is_set():
            replica = self._pick()
            if replica is None:
                await asyncio.sleep(0.01)
                continue
            sent += 1
            if sent % 2:
                method, path, body = "POST", "/v1/projects", {"displayName": f"Load {number}-{sent}"}
            else:
                method, path, body = "GET", "/v1/projects?limit=5", None
            try:
                answer = await client.request(method, replica.url + path, json=body, headers=headers)
            except httpx.ConnectError:
                self.healthy[replica.port] = not self.health_checks  # without them: try it again later
                self.result.rerouted += 1
                continue
            except httpx.HTTPError as exc:
                self.result.failures.append(f"{method} {path} on {replica.port}: {type(exc).__name__}: {exc}")
                continue
            if answer.is_success:
                self.result.answered[replica.port] += 1
            else:
                self.result.failures.append(f"{method} {path} on {replica.port}: {answer.status_code} {answer.text}")

    async def run(self, users: int) -> LoadResult:
        async with httpx.AsyncClient(timeout=30) as client, httpx.AsyncClient(timeout=1) as health_client:
            await asyncio.gather(self._check_health(health_client), *(self._user(client, n) for n in range(users)))
        return self.result


def restart_under_load(pair: list[Replica], *, health_checks: bool = True) -> LoadResult:
    """Load through a round-robin balancer while `pair[0]` is stopped (SIGTERM) and started again."""
    key = new_platform(pair[0])["apiKey"]
    with admin(pair[0]) as client:  # slow requests, so some are in flight when the SIGTERM comes
        slow = {"path_pattern": "/v1/projects", "method": "GET", "delay_ms": 300, "times": 100_000}
        assert client.post("/admin/faults", json=slow).status_code == 201
    balancer = RoundRobinBalancer(pair, key, health_checks=health_checks)
    outcome: list[LoadResult] = []
    runner = threading.Thread(target=lambda: outcome.append(asyncio.run(balancer.run(users=6))))
    runner.start()
    try:
        time.sleep(1.5)
        before = balancer.result.answered[pair[0].port]
        pair[0].terminate()
        draining = httpx.get(f"{pair[0].url}/v1/health", timeout=5)
        assert draining.status_code == 503
        assert draining.json()["params"]["message"] == "The server is shutting down"
        assert pair[0].wait(60) == 0
        stopped_at = balancer.result.answered[pair[0].port]
        time.sleep(0.5)  # served by the other replica alone
        pair[0].start()
        time.sleep(1.5)
    finally:
        balancer.stop.set()
        runner.join(60)
    result = outcome[0]
    with admin(pair[1]) as client:
        assert client.delete("/admin/faults").status_code == 204
    assert before > 0 and result.answered[pair[0].port] > stopped_at  # served before and after the restart
    assert result.answered[pair[1].port] > 0
    print(json.dumps({"answered": dict(result.answered), "rerouted": result.rerouted}))
    return result


def test_a_replica_restarted_under_load_fails_no_request(replicas: list[Replica]) -> None:
    assert restart_under_load(replicas[:2]).failures == []


def test_a_replica_of_two_workers_restarted_under_load_fails_no_request(
    replicas: list[Replica], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With several workers the supervisor held the listening socket after its workers had stopped
    accepting, and reset what queued on it when it exited."""
    pair = [
        Replica(
            {**replicas[0].env, "AP_DATA_DIR": str(tmp_path_factory.mktemp(f"workers{n}"))},
            replicas[0].log_dir,
            workers=2,
        )
        for n in range(2)
    ]
    try:
        for replica in pair:
            replica.start()
        failures = []
        # A client that does not watch health: it only goes elsewhere when a connection is refused.
        failures += restart_under_load(pair, health_checks=False).failures
        assert failures == []
    finally:
        for replica in pair:
            replica.stop()


async def _hammer(replicas: list[Replica], keys: list[str], stop: asyncio.Event, sent: list[tuple[float, int]]) -> None:
    """Keep-alive clients on every replica, each sending `GET /v1/projects?limit=1` with a random key
    of the platform, recording when each request was sent and how it was answered."""

    async def client_loop(replica: Replica, seed: int) -> None:
        chooser = random.Random(seed)
        async with httpx.AsyncClient(base_url=replica.url, timeout=30) as client:
            while not stop.is_set():
                key = chooser.choice(keys)
                at = time.monotonic()
                response = await client.get("/v1/projects?limit=1", headers={"Authorization": f"Bearer {key}"})
                sent.append((at, response.status_code))

    await asyncio.gather(*(client_loop(replicas[i % len(replicas)], i) for i in range(CLIENTS)))


def test_no_request_sent_after_a_deletion_is_answered_is_served_with_its_keys(replicas: list[Replica]) -> None:
    """Under load, with many keys (some cached, some being looked up at the moment of the deletion):
    not one request sent after the deleting replica's 204 is served, on any replica."""

    async def trial(number: int) -> list[tuple[float, int]]:
        platform = new_platform(replicas[0])
        with admin(replicas[0]) as client:
            more = [client.post(f"/admin/platforms/{platform['platformId']}/api-keys") for _ in range(KEYS - 1)]
        keys = [platform["apiKey"], *(response.json()["apiKey"] for response in more)]
        stop = asyncio.Event()
        sent: list[tuple[float, int]] = []
        load = asyncio.create_task(_hammer(replicas, keys, stop, sent))
        # Soon after the load starts, while some keys are still being looked up for the first time.
        await asyncio.sleep(0.15)
        async with httpx.AsyncClient(
            base_url=replicas[number % 3].url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
        ) as client:
            deleted = await client.delete(f"/admin/platforms/{platform['platformId']}")
        answered = time.monotonic()
        assert deleted.status_code == 204
        await asyncio.sleep(0.6)
        stop.set()
        await load
        assert any(status == 200 for at, status in sent if at < answered)  # the load did reach the key
        return [(at - answered, status) for at, status in sent if at > answered and status != 401]

    late = [asyncio.run(trial(number)) for number in range(REVOCATION_TRIALS)]
    assert late == [[]] * REVOCATION_TRIALS
