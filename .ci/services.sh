#!/usr/bin/env bash
# Make sure the servers the tests talk to are up on loopback; start or install them if not.
set -euo pipefail

have_port() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 ||
    { as_root apt-get update >/dev/null 2>&1 && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null; }
}
wait_port() {
  for _ in $(seq 1 60); do have_port "$1" && return 0; sleep 0.5; done
  echo "port $1 did not open" >&2; return 1
}

# PostgreSQL on 5432 with trust auth for local TCP.
if ! have_port 5432; then
  if ! ls /etc/postgresql >/dev/null 2>&1; then apt_install postgresql; fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  wait_port 5432
fi
echo "postgresql: up"
