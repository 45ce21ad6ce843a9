# A service's image, one Dockerfile for the four: the build argument SERVICE names it (contacts,
# journey, loyalty or notify) and the port arguments say what it listens on. From the
# repository root (compose passes the same arguments):
#   docker build -f deploy/docker/service.Dockerfile --build-arg SERVICE=journey \
#     --build-arg GRPC_PORT=50052 --build-arg HTTP_PORT=8082 --build-arg METRICS_PORT=9102 \
#     -t touchstone/journey:0.1.0 .

# Runtime dependencies only, each at the version and with the hashes requirements/service.lock
# names (`make lock` makes it from [project].dependencies of pyproject.toml; the tests run the
# same versions from requirements/dev.lock); the `local` and `dev` extras stay out of the image.
FROM python:3.11.14-slim-bookworm AS deps
WORKDIR /src
COPY requirements/service.lock ./
RUN pip install --no-cache-dir --disable-pip-version-check --require-hashes --no-deps --prefix=/install -r service.lock

FROM python:3.11.14-slim-bookworm
ARG SERVICE
ARG GRPC_PORT
ARG HTTP_PORT
ARG METRICS_PORT
LABEL org.opencontainers.image.title="touchstone-${SERVICE}" \
      org.opencontainers.image.description="Touchstone's ${SERVICE} service: a Kafka batch consumer and a gRPC server (and the same API over HTTP/JSON) in one process" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11.14-slim-bookworm"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    TOUCHSTONE_SERVICE=${SERVICE} \
    TOUCHSTONE_EMBEDDED=0 \
    TOUCHSTONE_GRPC_HOST=0.0.0.0 \
    TOUCHSTONE_STATE_DIR=/tmp/touchstone
COPY --from=deps /install /usr/local
# The platform and the shared kernel, every context's generated contracts (services consume
# each other's events), then the service itself: nothing else of the repository.
COPY services/platform/touchstone/ /app/touchstone/
COPY services/contacts/touchstone/contacts/__init__.py /app/touchstone/contacts/
COPY services/contacts/touchstone/contacts/v1/ /app/touchstone/contacts/v1/
COPY services/journey/touchstone/journey/__init__.py /app/touchstone/journey/
COPY services/journey/touchstone/journey/v1/ /app/touchstone/journey/v1/
COPY services/loyalty/touchstone/loyalty/__init__.py /app/touchstone/loyalty/
COPY services/loyalty/touchstone/loyalty/v1/ /app/touchstone/loyalty/v1/
COPY services/notify/touchstone/notify/__init__.py /app/touchstone/notify/
COPY services/notify/touchstone/notify/v1/ /app/touchstone/notify/v1/
COPY services/${SERVICE}/touchstone/${SERVICE}/ /app/touchstone/${SERVICE}/
# a build without SERVICE stops here, saying so; then compiled once (the root filesystem is
# read-only at run time)
RUN test -f "/app/touchstone/${SERVICE}/__main__.py" \
      || { echo "--build-arg SERVICE= must be contacts, journey, loyalty or notify" >&2; exit 1; } \
    && python -m compileall -q /app
WORKDIR /app
USER 10001:10001
EXPOSE ${GRPC_PORT} ${METRICS_PORT} ${HTTP_PORT}
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/bin/sh", "-c", "exec python -m touchstone.platform.runtime.health \"$TOUCHSTONE_SERVICE\""]
ENTRYPOINT ["/bin/sh", "-c", "exec python -m \"touchstone.$TOUCHSTONE_SERVICE\""]
