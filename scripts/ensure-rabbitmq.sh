#!/usr/bin/env bash
# Make sure a RabbitMQ broker with the management plugin answers on this machine.
# Start it if installed; install it with apt-get when we may; otherwise say exactly what to do.
# A KRING_AMQP_URI naming another host is left alone: that broker is not ours to manage.
set -euo pipefail

AMQP_PORT=5672
MGMT_URL=http://127.0.0.1:15672/api/overview

if [ -n "${KRING_AMQP_URI:-}" ] && ! [[ "$KRING_AMQP_URI" =~ @(127\.0\.0\.1|localhost)(:|/|$) ]]; then
  echo "rabbitmq: KRING_AMQP_URI names another host; not managing a local broker"
  exit 0
fi

if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"; else SUDO="none"; fi

amqp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$AMQP_PORT") 2>/dev/null; }
mgmt_ok() { curl -fsS -m 3 -u guest:guest "$MGMT_URL" >/dev/null 2>&1; }
ping_ok() { command -v rabbitmq-diagnostics >/dev/null 2>&1 && rabbitmq-diagnostics -q ping >/dev/null 2>&1; }

wait_for() {  # wait_for SECONDS CHECK
  local deadline=$((SECONDS + $1))
  until "$2"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 1
  done
}

instructions() {
  cat >&2 <<MSG
RabbitMQ is not running and this script cannot start it ($1).
Do one of these, then run make again:
  Debian/Ubuntu:  sudo apt-get install -y rabbitmq-server
                  sudo rabbitmq-server -detached        (or: sudo systemctl start rabbitmq-server)
                  sudo rabbitmq-plugins enable rabbitmq_management
  macOS:          brew install rabbitmq && brew services start rabbitmq
  Docker:         docker run -d --name kring-rabbitmq -p 5672:5672 -p 15672:15672 rabbitmq:3-management
Kring expects guest/guest on 127.0.0.1:5672 (management API on :15672), or set KRING_AMQP_URI.
MSG
  exit 1
}

as_root() { if [ "$SUDO" = none ]; then return 1; fi; $SUDO "$@"; }

# 1. Already there (a local install, or a container published on the standard ports).
if amqp_open && mgmt_ok; then
  echo "rabbitmq: running (management API answers)"
  exit 0
fi

# 2. Installed here but not running: start it.
if ! amqp_open && ! ping_ok; then
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$SUDO" != none ]; then
      echo "rabbitmq: installing rabbitmq-server with apt-get (once)"
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
    else
      instructions "it is not installed, and apt-get as root is not available"
    fi
  fi
  if ! ping_ok; then
    echo "rabbitmq: starting rabbitmq-server"
    as_root rabbitmq-server -detached || instructions "starting rabbitmq-server needs root"
    wait_for 60 ping_ok || { echo "rabbitmq: did not answer a ping within 60 s" >&2; exit 1; }
  fi
fi

# 3. The tests create throwaway virtual hosts through the management API.
if ! mgmt_ok; then
  if command -v rabbitmq-plugins >/dev/null 2>&1; then
    echo "rabbitmq: enabling the management plugin"
    as_root rabbitmq-plugins enable -q rabbitmq_management >/dev/null \
      || { echo "rabbitmq: run: sudo rabbitmq-plugins enable rabbitmq_management" >&2; exit 1; }
  else
    echo "rabbitmq: the broker answers but its management API does not ($MGMT_URL, guest/guest)." >&2
    echo "Enable it: rabbitmq-plugins enable rabbitmq_management (or use the rabbitmq:3-management image)" >&2
    exit 1
  fi
  wait_for 60 mgmt_ok || { echo "rabbitmq: management API did not answer within 60 s at $MGMT_URL" >&2; exit 1; }
fi
echo "rabbitmq: running (management API answers)"
