# The operator's image: the `touchstone` command (topics, migrate, simulate, status, dlq,
# standards, rescore, replay: whatever `touchstone --help` lists). Build it from the repository root:
#   docker build -f deploy/docker/tools.Dockerfile -t touchstone/tools:0.1.0 .
# and the console's, from the same layers:
#   docker build -f deploy/docker/tools.Dockerfile --target console -t touchstone/console:0.1.0 .
# It installs the touchstone package with its runtime dependencies only, locked with their hashes
# (requirements/service.lock): the `local` extra
# (embedded broker, Postgres, mail catcher) and `dev` stay out, so `touchstone run` and
# `touchstone bench`, which start the embedded stack, do not work here; everything that talks
# to an existing Kafka and Postgres does.

FROM python:3.11.14-slim-bookworm AS deps
WORKDIR /src
COPY requirements/service.lock ./
RUN pip install --no-cache-dir --disable-pip-version-check --require-hashes --no-deps --prefix=/install -r service.lock
COPY pyproject.toml README.md ./
COPY services/ services/
RUN pip install --no-cache-dir --disable-pip-version-check --no-deps --prefix=/install .

# What both images run: the package and its locked dependencies, as nobody in particular.
FROM python:3.11.14-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TOUCHSTONE_EMBEDDED=0 \
    TOUCHSTONE_STATE_DIR=/tmp/touchstone
COPY --from=deps /install /usr/local
# the mount points of compose's key volumes: a new volume takes this owner, so `init` writes them
RUN mkdir /keys /signing && chown 10001:10001 /keys /signing && chmod 700 /signing

# The console (`--target console`): the journey map, recovery board, customers and control
# figures for staff, on 8080 of every interface. Beyond loopback it starts only behind TLS
# (TOUCHSTONE_CONSOLE_URL=https://...) or when told plaintext is fine (compose).
FROM runtime AS console
LABEL org.opencontainers.image.title="touchstone-console" \
      org.opencontainers.image.description="Touchstone's console: the journey map, recovery board, customers and control figures, calling the services with each user's token" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11.14-slim-bookworm"
ENV TOUCHSTONE_CONSOLE_HOST=0.0.0.0 \
    TOUCHSTONE_CONSOLE_PORT=8080
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('TOUCHSTONE_CONSOLE_PORT', '8080'), timeout=4)"]
ENTRYPOINT ["touchstone", "console"]

# The operator's command (the default target).
FROM runtime AS tools
LABEL org.opencontainers.image.title="touchstone-tools" \
      org.opencontainers.image.description="Touchstone's operator command: topics, migrations, simulator, dead letters, standards, re-scoring, replay" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11.14-slim-bookworm"
USER 10001:10001
ENTRYPOINT ["touchstone"]
CMD ["--help"]
