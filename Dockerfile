# syntax=docker/dockerfile:1
# One image for every Kring process; the command picks which one:
#   docker run IMAGE gateway                 admin HTTP API (8080), partner gRPC API (50051), metrics (9100)
#   docker run IMAGE service members         a nameko service (members, networks, sessions, federation)
#   docker run IMAGE migrate                 upgrade every service's database, then exit
#   docker run IMAGE declare                 declare the event queues on RabbitMQ, then exit
# Build: docker build -t kring:dev .      Kubernetes manifests: deploy/k8s/ (README "Deploy").

# The base image of both stages. A release pins it by digest (README "Releasing"), so the image it tested is the one
# it ships: docker build --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:<digest> ...
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: the virtual environment, built where build tools may exist ----------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/kring
WORKDIR /src
# Dependencies first, in a layer of their own: it is rebuilt only when requirements.lock changes, never for a
# change to the code. The runtime lock only (the development tools stay out), every file checked by its hash.
COPY requirements.lock ./
RUN /opt/kring/bin/pip install --require-hashes --no-deps -r requirements.lock
# Then Kring itself, without touching the dependencies (built with the lock's setuptools, no download).
COPY pyproject.toml README.md LICENSE ./
COPY services ./services
RUN /opt/kring/bin/pip install --no-deps --no-build-isolation . \
 && /opt/kring/bin/pip uninstall --yes pip \
 && /opt/kring/bin/python -m compileall -q /opt/kring/lib

# --- final: Python, the virtual environment, nothing else ----------------------------------------------------
FROM ${PYTHON_IMAGE}

# A fixed numeric id, so Kubernetes' runAsNonRoot can verify it (deploy/k8s uses runAsUser 10001).
RUN groupadd --system --gid 10001 kring \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin kring

COPY --from=builder /opt/kring /opt/kring

ENV PATH=/opt/kring/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    KRING_BIND_HOST=0.0.0.0 \
    KRING_DATA_DIR=/tmp/kring \
    KRING_LOG_FORMAT=json

WORKDIR /tmp
USER 10001:10001
EXPOSE 8080 50051 9100-9105

ENTRYPOINT ["kring"]
CMD ["--help"]
