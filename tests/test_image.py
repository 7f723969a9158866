"""The image and `docker compose up`, for real: the unchanged Dockerfile built, the image run, and the
development compose file's services (the server against PostgreSQL) started, used and restarted.

Docker, its daemon and Docker Compose are installed and started when missing (`tests/docker_images.py`);
the base images come from the registry where it answers, else from stand-ins built from Debian packages.
The run says which, in the summary (`openpieces image tests: ...`). Where Docker cannot be had the tests
skip, except in CI (`CI` set, as `.ci/run` does), where they fail.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from app.kit.crypto import KEY_FILE_NAME, KEY_REQUIRED
from tests.docker_images import USED, Docker, DockerUnavailable, docker_for_tests, ensure_base_images
from tests.processes import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "openpieces-test/server:latest"
BOOTSTRAP_KEY = "sk-local-development-key-change-me"  # docker-compose.yml's default
ENCRYPTION_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
HEALTHY_WITHIN = 120


@pytest.fixture(scope="module")
def docker() -> Docker:
    started = time.monotonic()
    try:
        found = docker_for_tests()
    except DockerUnavailable as missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Docker for the image tests: {missing}")
        pytest.skip(f"Docker is not available here: {missing}")
    ensure_base_images(found)
    USED.append(f"openpieces image tests: {found.describe()} (set up in {time.monotonic() - started:.0f} s)")
    return found


@pytest.fixture(scope="module")
def image(docker: Docker) -> str:
    started = time.monotonic()
    docker.run("build", "--force-rm", "-t", IMAGE, str(ROOT), timeout=1800)
    USED.append(f"openpieces image tests: the image built in {time.monotonic() - started:.0f} s")
    return IMAGE


def _health(docker: Docker, container: str) -> str:
    return docker.run("inspect", "-f", "{{.State.Health.Status}}", container).stdout.strip()


def _wait_healthy(docker: Docker, container: str) -> None:
    deadline = time.monotonic() + HEALTHY_WITHIN
    status = ""
    while time.monotonic() < deadline:
        status = _health(docker, container)
        if status == "healthy":
            return
        if docker.run("inspect", "-f", "{{.State.Running}}", container).stdout.strip() != "true":
            break
        time.sleep(1)
    output = docker.run("logs", container, check=False)
    raise AssertionError(f"{container} is {status!r}, not healthy:\n{output.stdout[-3000:]}{output.stderr[-3000:]}")


def test_the_image_refuses_to_start_without_a_key_and_runs_healthy_as_uid_10001(docker: Docker, image: str) -> None:
    refused = docker.run("run", "--rm", image, timeout=120, check=False)
    assert refused.returncode != 0
    assert KEY_REQUIRED in " ".join(refused.stderr.split()), refused.stderr

    name = f"openpieces-image-test-{os.getpid()}"
    docker.run("run", "-d", "--name", name, "-e", f"AP_ENCRYPTION_KEY={ENCRYPTION_KEY}", image)
    try:
        _wait_healthy(docker, name)
        assert docker.run("exec", name, "id", "-u").stdout.strip() == "10001"
        assert docker.run("exec", name, "id", "-g").stdout.strip() == "10001"
        # The server itself (pid 1) runs as that user, and the key passed in was not written beside the data.
        status = docker.run("exec", name, "cat", "/proc/1/status").stdout
        assert re.search(r"^Uid:\t10001\t", status, re.M), status
        assert docker.run("exec", name, "test", "-e", f"/var/lib/openpieces/{KEY_FILE_NAME}", check=False).returncode
    finally:
        docker.run("rm", "-f", "-v", name, check=False)


class Compose:
    def __init__(self, docker: Docker, project: str, port: int) -> None:
        self.docker = docker
        self.command = [*docker.compose, "-p", project, "-f", str(ROOT / "docker-compose.yml")]
        self.env = {**os.environ, **docker.build_env, "AP_PORT": str(port)}
        for name in ("AP_BOOTSTRAP_API_KEY", "AP_BOOTSTRAP_EDITION", "AP_ENCRYPTION_KEY"):
            self.env.pop(name, None)  # the file's defaults, as a developer gets them

    def __call__(self, *args: str, timeout: float = 1200, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*self.command, *args], capture_output=True, text=True, timeout=timeout, env=self.env, cwd=ROOT, check=False
        )
        if check and result.returncode != 0:
            logs = subprocess.run([*self.command, "logs", "--no-color"], capture_output=True, text=True, env=self.env)
            raise AssertionError(
                f"compose {' '.join(args)} failed:\n{result.stderr[-3000:]}\nlogs:\n{logs.stdout[-4000:]}"
            )
        return result

    def container(self, service: str) -> str:
        return self("ps", "-q", service).stdout.strip()


@pytest.fixture
def compose(docker: Docker, image: str) -> Iterator[Compose]:
    running = Compose(docker, "openpiecesimagetest", free_port())
    running("down", "-v", "--remove-orphans", check=False)  # what a killed run may have left
    try:
        yield running
    finally:
        running("down", "-v", "--remove-orphans", check=False)


def _head_revision() -> str:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def _up(compose: Compose) -> httpx.Client:
    compose("up", "-d", "--build")
    for service in ("postgres", "server"):
        _wait_healthy(compose.docker, compose.container(service))
    port = compose.env["AP_PORT"]
    return httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"}, timeout=10
    )


def test_compose_up_serves_the_bootstrap_key_against_postgres_and_keeps_data_across_a_restart(
    compose: Compose,
) -> None:
    started = time.monotonic()
    with _up(compose) as client:
        migrated = compose(
            "exec", "-T", "postgres", "psql", "-U", "openpieces", "-d", "openpieces", "-tAc",
            "SELECT version_num FROM alembic_version",
        )  # fmt: skip
        assert migrated.stdout.strip() == _head_revision()

        assert client.get("/v1/health/ready").status_code == 200
        listed = client.get("/api/v1/projects")
        assert listed.status_code == 200, listed.text
        assert httpx.get(client.base_url.join("/api/v1/projects")).status_code == 401
        created = client.post("/api/v1/projects", json={"displayName": "In Docker", "externalId": "docker-1"})
        assert created.status_code == 201, created.text
        project = created.json()

    # Down (the volumes kept) and up again: the same database, the same bootstrap platform, the project.
    compose("down")
    with _up(compose) as client:
        kept = client.get(f"/v1/projects/{project['id']}")
        assert kept.status_code == 200, kept.text
        assert kept.json() == project
        assert client.get("/v1/projects", params={"externalId": "docker-1"}).json()["data"] == [project]
    USED.append(f"openpieces image tests: compose up, restart and checks in {time.monotonic() - started:.0f} s")
