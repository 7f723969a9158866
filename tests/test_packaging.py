"""The image and the compose files: what a production user relies on (non-root, multi-stage, health
checks, PgBouncer in transaction mode with a direct URL, the encryption key passed in), and
`docker compose config` on each compose file (Docker Compose installed when missing; tests/test_image.py
builds the image and runs the development compose file)."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from app.kit.crypto import KEY_REQUIRED, InvalidEncryptionKey, load_or_create_key
from tests.docker_images import DockerUnavailable, compose_command
from tests.processes import run_cli

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILES = ["docker-compose.yml", "docker-compose.production.yml"]
# What the production file insists on being given.
REQUIRED_ENV = {"POSTGRES_PASSWORD": "not-a-real-password", "AP_ENCRYPTION_KEY": "not-a-real-key"}


def _compose_command() -> list[str]:
    """Docker Compose, installed from Debian's packages when missing (tests/docker_images.py); where it
    cannot be had the compose checks skip, except in CI (`CI` set), where they fail."""
    try:
        return compose_command()
    except DockerUnavailable as missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Docker Compose for the compose file checks: {missing}")
        pytest.skip(f"Docker Compose is not available here (compose files not checked): {missing}")


def _compose(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_docker_compose_config_accepts_the_file(name: str, tmp_path: Path) -> None:
    command = _compose_command()
    env = {"PATH": str(Path(shutil.which(command[0]) or "").parent) + ":/usr/bin:/bin", "HOME": str(tmp_path)}
    checked = subprocess.run(
        [*command, "-f", str(ROOT / name), "config", "-q"],
        capture_output=True,
        text=True,
        env={**env, **REQUIRED_ENV},
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    if name == "docker-compose.production.yml":
        refused = subprocess.run(
            [*command, "-f", str(ROOT / name), "config", "-q"], capture_output=True, text=True, env=env, check=False
        )
        assert refused.returncode != 0
        assert "POSTGRES_PASSWORD" in refused.stderr or "AP_ENCRYPTION_KEY" in refused.stderr


def test_production_compose_runs_replicas_behind_a_balancer_and_pgbouncer() -> None:
    services = _compose("docker-compose.production.yml")["services"]
    assert set(services) == {"postgres", "pgbouncer", "migrate", "server", "lb"}
    # Every long-running service says when it is healthy, and waits for what it needs to be.
    for name in ("postgres", "pgbouncer", "server", "lb"):
        assert services[name]["healthcheck"]["test"], name
    assert "/v1/health/ready" in " ".join(services["server"]["healthcheck"]["test"])
    assert services["server"]["deploy"]["replicas"] == "${AP_REPLICAS:-3}"
    assert services["server"]["depends_on"] == {
        "pgbouncer": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert services["lb"]["depends_on"] == {"server": {"condition": "service_healthy"}}

    env = services["server"]["environment"]
    assert env is services["migrate"]["environment"]
    assert env["AP_DATABASE_POOLER"] == "transaction"
    assert "@pgbouncer:6432/" in env["AP_DATABASE_URL"]
    assert "@postgres:5432/" in env["AP_DATABASE_DIRECT_URL"]
    assert env["AP_ENCRYPTION_KEY"].startswith("${AP_ENCRYPTION_KEY:?")
    assert env["AP_RUN_MIGRATIONS"] == "false"

    pgbouncer_ini = (ROOT / "deploy/pgbouncer/pgbouncer.ini").read_text()
    assert re.search(r"^pool_mode = transaction$", pgbouncer_ini, re.M)
    nginx_conf = (ROOT / "deploy/nginx/nginx.conf").read_text()
    assert "server server:8080 resolve" in nginx_conf
    assert services["lb"]["volumes"] == ["./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro"]


def test_the_image_is_multi_stage_non_root_with_a_healthcheck_and_no_generated_key() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(.+)$", dockerfile, re.M)
    assert len(stages) == 2 and stages[0].endswith(" AS build")
    final = dockerfile.split("\nFROM ")[-1]
    assert "COPY --from=build /opt/openpieces /opt/openpieces" in final
    # Nothing is built in the final stage, so no compiler or pip cache can be left in it.
    assert not re.search(r"pip install|apt-get|gcc|build-essential", final)
    assert re.search(r"^USER openpieces:openpieces$", final, re.M)
    assert re.search(r"^HEALTHCHECK .*\n.*/v1/health/live", final, re.M)
    assert "AP_ENCRYPTION_KEY_REQUIRED=true" in final
    assert "PIP_NO_CACHE_DIR=1" in dockerfile


def test_a_required_key_is_never_generated(tmp_path: Path) -> None:
    with pytest.raises(InvalidEncryptionKey) as refused:
        load_or_create_key(None, tmp_path, required=True)
    assert str(refused.value) == KEY_REQUIRED
    assert list(tmp_path.iterdir()) == []
    # A key that was passed in is used as it is.
    key = base64.urlsafe_b64encode(bytes(range(32))).decode()
    assert load_or_create_key(key, tmp_path, required=True) == bytes(range(32))


@pytest.mark.slow
def test_serve_refuses_to_start_without_a_required_key(tmp_path: Path) -> None:
    refused = run_cli(
        "serve",
        env={"AP_ENCRYPTION_KEY_REQUIRED": "true", "AP_ENCRYPTION_KEY": "", "AP_DATA_DIR": str(tmp_path)},
    )
    assert refused.returncode == 2
    assert KEY_REQUIRED in " ".join(refused.stderr.split())
    assert list(tmp_path.iterdir()) == []

    made = run_cli("new-encryption-key", env={})
    assert made.returncode == 0
    assert len(base64.urlsafe_b64decode(made.stdout.strip())) == 32
