# syntax=docker/dockerfile:1
# Two stages: the first installs the package into a virtualenv (where a compiler would be, should a
# dependency ever need one); the final image gets only that virtualenv, runs as an unprivileged
# user, and keeps no pip cache, sources or build tools.

FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/openpieces
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN /opt/openpieces/bin/pip install .

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/openpieces/bin:$PATH \
    AP_DATA_DIR=/var/lib/openpieces \
    AP_ENCRYPTION_KEY_REQUIRED=true
RUN groupadd --system --gid 10001 openpieces \
    && useradd --system --uid 10001 --gid openpieces --home-dir /var/lib/openpieces --shell /usr/sbin/nologin openpieces \
    && install -d -o openpieces -g openpieces -m 0700 /var/lib/openpieces
COPY --from=build /opt/openpieces /opt/openpieces
USER openpieces:openpieces
WORKDIR /var/lib/openpieces
# Only the embedded PostgreSQL (no AP_DATABASE_URL) keeps anything here. The encryption key is
# never generated into it: AP_ENCRYPTION_KEY must be passed in (see the README).
VOLUME ["/var/lib/openpieces"]
EXPOSE 8080
# Liveness: the process answers. Compose files and load balancers use /v1/health/ready instead.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/v1/health/live', timeout=2)"]
STOPSIGNAL SIGTERM
CMD ["openpieces", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
