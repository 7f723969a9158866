"""Docker for the image tests: the daemon, Docker Compose, and the base images the project's files name.

Everything missing is installed where we may (root on Debian, as CI runs): Debian's `docker.io`,
`debootstrap` and a Compose (the `docker-compose-plugin` where Debian has it, else `docker-compose`).
A daemon that does not answer is started (`dockerd`, its log in a temp file).

Base images (`python:3.12-slim`, `postgres:16`) are pulled from the registry when it answers. Where it
does not, stand-ins are built from Debian packages and tagged with the same names, so the Dockerfile and
the compose file run unchanged:

- a Debian bookworm root file system made with `debootstrap --variant=minbase`, cached as a tarball under
  `~/.cache/openpieces-test-images` (or `$AP_TEST_IMAGE_CACHE`) and imported with `docker import`;
- `python:3.12-slim`: that system with Debian's `python3` and `python3-venv` (Python 3.11, which the
  package accepts), `python` on the PATH as in the real image;
- `postgres:16`: that system with Debian's `postgresql-15` and an entrypoint that honours
  `POSTGRES_USER`, `POSTGRES_PASSWORD`, `POSTGRES_DB` and `POSTGRES_INITDB_ARGS` as the real image does
  (a cluster made on first start, SCRAM passwords over TCP), `pg_isready` on the PATH.

The stand-ins are labelled with a hash of their recipe: a later run reuses them, and a changed recipe
rebuilds them. Without the registry the build uses Docker's classic builder (BuildKit would fetch the
Dockerfile's `# syntax=` frontend from the registry). `pip` inside the build still reaches PyPI.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CACHE = Path(os.environ.get("AP_TEST_IMAGE_CACHE", Path.home() / ".cache" / "openpieces-test-images"))
MIRROR = os.environ.get("AP_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SUITE = "bookworm"
BASE_TAG = f"openpieces-test/debian-{SUITE}-minbase"
RECIPE_LABEL = "org.openpieces.test.recipe"
PULL_TIMEOUT = 30
# What the run used, for the summary (tests/conftest.py).
USED: list[str] = []


class DockerUnavailable(Exception):
    """Docker, its daemon or Docker Compose is missing and could not be installed or started here."""


def _run(args: list[str], *, timeout: float = 600, env: dict[str, str] | None = None, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, check=False, **kwargs)


def _apt_install(*packages: str) -> subprocess.CompletedProcess[str]:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise DockerUnavailable(f"{' '.join(packages)} missing and this is not a root Debian host to install it on")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    result = _run(install, env=env)
    if result.returncode != 0:  # the package lists may never have been fetched on this host
        _run(["apt-get", "update", "-q"], env=env)
        result = _run(install, env=env)
    return result


def _apt_candidate(package: str) -> bool:
    if not shutil.which("apt-cache"):
        return False
    policy = _run(["apt-cache", "policy", package]).stdout
    return "Candidate:" in policy and "Candidate: (none)" not in policy


@dataclass
class Docker:
    docker: str
    compose: list[str]
    daemon_log: Path | None = None
    bases: dict[str, str] = field(default_factory=dict)
    # Without the registry, builds use the classic builder (see the module's docstring).
    build_env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, timeout: float = 600, check: bool = True, env: dict[str, str] | None = None):
        result = _run([self.docker, *args], timeout=timeout, env={**os.environ, **self.build_env, **(env or {})})
        if check and result.returncode != 0:
            output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            raise AssertionError(f"docker {' '.join(args)} failed ({result.returncode}):\n{output}")
        return result

    def describe(self) -> str:
        bases = ", ".join(f"{name}: {how}" for name, how in self.bases.items())
        daemon = f"dockerd started by the tests (log {self.daemon_log})" if self.daemon_log else "dockerd running"
        return f"docker {self.docker}, {daemon}, compose {' '.join(self.compose)}; base images: {bases}"


def _docker_binary() -> str:
    found = shutil.which("docker")
    if found:
        return found
    _apt_install("docker.io")
    found = shutil.which("docker")
    if not found:
        raise DockerUnavailable("docker is not installed and `apt-get install docker.io` did not install it")
    return found


def _daemon(docker: str) -> Path | None:
    """Starts dockerd when nothing answers; returns its log file (None when it was already running)."""
    if _run([docker, "info"], timeout=60).returncode == 0:
        return None
    dockerd = shutil.which("dockerd") or ("/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None)
    if dockerd is None:
        _apt_install("docker.io")
        dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    if os.geteuid() != 0 or not Path(dockerd).exists():
        raise DockerUnavailable("the Docker daemon does not answer and cannot be started here (needs root)")
    log = Path(tempfile.mkdtemp(prefix="openpieces-dockerd-")) / "dockerd.log"
    with log.open("wb") as out:
        # Left running after the tests, as a daemon started by the host's init would be.
        subprocess.Popen([dockerd], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _run([docker, "info"], timeout=30).returncode == 0:
            return log
        time.sleep(1)
    raise DockerUnavailable(f"dockerd did not answer within 60 s; its log:\n{log.read_text()[-3000:]}")


def compose_command(docker: str | None = None) -> list[str]:
    """`docker compose` or `docker-compose`, installing Debian's when neither works (no daemon needed)."""
    docker = docker or shutil.which("docker") or "docker"

    def works(command: list[str]) -> bool:
        return shutil.which(command[0]) is not None and _run([*command, "version"], timeout=60).returncode == 0

    for command in ([docker, "compose"], ["docker-compose"]):
        if works(command):
            return command
    # Debian's Compose v2 plugin where the release has it, else Debian's docker-compose (1.29 on bookworm).
    for package, command in (("docker-compose-plugin", [docker, "compose"]), ("docker-compose", ["docker-compose"])):
        if _apt_candidate(package):
            _apt_install(package)
            if works(command):
                return command
            if package == "docker-compose-plugin" and works(["/usr/bin/docker", "compose"]):
                return ["/usr/bin/docker", "compose"]
    raise DockerUnavailable("Docker Compose is not installed and no Debian package for it installed")


def docker_for_tests() -> Docker:
    """The docker binary (daemon answering) and a Compose command, installing and starting what is missing."""
    docker = _docker_binary()
    log = _daemon(docker)
    return Docker(docker=docker, compose=compose_command(docker), daemon_log=log)


# --- base images --------------------------------------------------------------------------------------------

PYTHON_RECIPE = f"""\
FROM {BASE_TAG}
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
RUN printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \\
    && apt-get update -q \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \\
       python3 python3-venv ca-certificates \\
    && ln -s /usr/bin/python3 /usr/local/bin/python \\
    && rm -rf /var/lib/apt/lists/*
# The host's trusted certificates (where TLS to PyPI goes through an intercepting proxy, its CA is there).
COPY host-ca-certificates.crt /etc/ssl/certs/host-ca-certificates.crt
ENV PIP_CERT=/etc/ssl/certs/host-ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/host-ca-certificates.crt
CMD ["python3"]
"""

POSTGRES_ENTRYPOINT = r"""#!/bin/sh
# What the compose files use of the real postgres image's entrypoint: a cluster in $PGDATA made on first
# start for POSTGRES_USER (default postgres) with POSTGRES_PASSWORD, the database POSTGRES_DB, local
# connections trusted and TCP ones by SCRAM password; then postgres in the foreground.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec runuser -u postgres -- "$0" "$@"
fi
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}" > "$pwfile"
    # shellcheck disable=SC2086
    initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth-local=trust ${POSTGRES_INITDB_ARGS:-}
    rm -f "$pwfile"
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
    if [ "$db" != postgres ]; then
        psql -v ON_ERROR_STOP=1 -U "$user" -d postgres -c "CREATE DATABASE \"$db\""
    fi
    pg_ctl -D "$PGDATA" -m fast -w stop
fi
exec postgres -D "$PGDATA" "$@"
"""

POSTGRES_RECIPE = f"""\
FROM {BASE_TAG}
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    LANG=C.UTF-8 PGDATA=/var/lib/postgresql/data
RUN printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \\
    && mkdir -p /etc/postgresql-common \\
    && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \\
    && apt-get update -q \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-15 \\
    && rm -rf /var/lib/apt/lists/*
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
"""


def _host_certificates() -> str:
    for candidate in (os.environ.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text()
    return ""


def _stand_in(image: str) -> tuple[str, dict[str, str]]:
    if image == "python:3.12-slim":
        return PYTHON_RECIPE, {"host-ca-certificates.crt": _host_certificates()}
    return POSTGRES_RECIPE, {"docker-entrypoint.sh": POSTGRES_ENTRYPOINT}


STAND_INS = ("python:3.12-slim", "postgres:16")


def _recipe_hash(recipe: str, files: dict[str, str]) -> str:
    digest = hashlib.sha256(f"{SUITE} {MIRROR}\n{recipe}".encode())
    for name, text in sorted(files.items()):
        digest.update(f"\n{name}\n{text}".encode())
    return digest.hexdigest()[:16]


def _label(docker: Docker, image: str) -> str | None:
    found = docker.run("image", "inspect", "-f", f'{{{{index .Config.Labels "{RECIPE_LABEL}"}}}}', image, check=False)
    return found.stdout.strip() if found.returncode == 0 else None


def _pull(docker: Docker, image: str) -> bool:
    try:
        return docker.run("pull", image, timeout=PULL_TIMEOUT, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def _rootfs_tarball() -> Path:
    """The debootstrap'ed minimal bookworm, as a tarball in the cache (made once)."""
    tarball = CACHE / f"debian-{SUITE}-minbase.tar"
    if tarball.exists():
        return tarball
    if not shutil.which("debootstrap"):
        result = _apt_install("debootstrap")
        if not shutil.which("debootstrap"):
            raise DockerUnavailable(f"debootstrap is missing and could not be installed: {result.stderr[-500:]}")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="openpieces-rootfs-", dir=CACHE) as work:
        root = Path(work) / "root"
        made = _run(["debootstrap", "--variant=minbase", SUITE, str(root), MIRROR], timeout=1800)
        if made.returncode != 0:
            raise DockerUnavailable(f"debootstrap failed:\n{made.stdout[-2000:]}\n{made.stderr[-2000:]}")
        partial = Path(work) / "rootfs.tar"
        packed = _run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."], timeout=600)
        if packed.returncode != 0:
            raise DockerUnavailable(f"tar of the root file system failed: {packed.stderr[-1000:]}")
        partial.replace(tarball)
    return tarball


def _base_image(docker: Docker) -> None:
    tarball = _rootfs_tarball()
    stamp = f"{tarball.stat().st_size}-{int(tarball.stat().st_mtime)}"
    if _label(docker, BASE_TAG) == stamp:
        return
    docker.run(
        "import", "--change", f"LABEL {RECIPE_LABEL}={stamp}", "--change", 'CMD ["/bin/bash"]', str(tarball), BASE_TAG
    )


def _build_stand_in(docker: Docker, image: str) -> str:
    recipe, files = _stand_in(image)
    wanted = _recipe_hash(recipe, files)
    if _label(docker, image) == wanted:
        return f"stand-in from Debian packages (recipe {wanted}, reused)"
    _base_image(docker)
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, text in {"Dockerfile": f"{recipe}LABEL {RECIPE_LABEL}={wanted}\n", **files}.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    built = subprocess.run(
        [docker.docker, "build", "--force-rm", "-t", image, "-"],
        input=context.getvalue(),
        capture_output=True,
        timeout=1800,
        env={**os.environ, **docker.build_env},
        check=False,
    )
    if built.returncode != 0:
        raise AssertionError(f"building the stand-in {image} failed:\n{built.stderr.decode()[-3000:]}")
    return f"stand-in from Debian packages (recipe {wanted}, built)"


def ensure_base_images(docker: Docker) -> None:
    """Each base image from the registry when it answers, else its stand-in (`docker.bases` says which)."""
    for image in STAND_INS:
        if _pull(docker, image):
            docker.bases[image] = "registry (pulled)"
        elif _label(docker, image) == "":
            docker.bases[image] = "registry (present; the registry does not answer now)"
        else:
            docker.build_env = {"DOCKER_BUILDKIT": "0", "COMPOSE_DOCKER_CLI_BUILD": "0"}
            docker.bases[image] = _build_stand_in(docker, image)
