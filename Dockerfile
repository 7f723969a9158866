FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv/openpieces

COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install .

# Without AP_DATABASE_URL the server uses an embedded PostgreSQL kept under AP_DATA_DIR.
ENV AP_DATA_DIR=/var/lib/openpieces
VOLUME ["/var/lib/openpieces"]
EXPOSE 8080
CMD ["openpieces", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
