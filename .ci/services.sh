#!/usr/bin/env bash
# Make sure the servers and tools the tests use are present on loopback: PostgreSQL,
# NATS with JetStream, Redis, an S3 API (moto, from PyPI), the OpenAPI validator and client
# generator (from PyPI), Chromium and Node, and the browser journeys' npm packages. Start them,
# or install them from Debian's packages (moto, the OpenAPI tools, aiosmtpd and icalendar from
# PyPI, playwright-core and axe-core from npm), only when missing, so this is safe to run again.
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

# PostgreSQL on 5432 (trust auth on loopback).
if ! have_port 5432; then
  if ! ls /etc/postgresql >/dev/null 2>&1; then apt_install postgresql; fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  wait_port 5432
fi
echo "postgresql: up"

# NATS with JetStream on 4222.
if ! have_port 4222; then
  command -v nats-server >/dev/null || apt_install nats-server
  mkdir -p /var/lib/nats-server
  as_root start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server)" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_port 4222
fi
echo "nats: up"

# Redis on 6379 (the cache's shared backend).
if ! have_port 6379; then
  command -v redis-server >/dev/null || apt_install redis-server
  as_root redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" --appendonly no \
    --logfile /var/log/redis-innkeep.log
  wait_port 6379
fi
echo "redis: up"
# An S3-compatible server (moto, in memory) on 9100 for the object-storage contract.
if ! have_port 9100; then
  command -v moto_server >/dev/null || python3 -m pip install --quiet 'moto[server]' ||
    python3 -m pip install --quiet --break-system-packages 'moto[server]'
  nohup moto_server -H 127.0.0.1 -p 9100 >/tmp/innkeep-moto.log 2>&1 &
  wait_port 9100
fi
echo "s3 (moto): up"

# The OpenAPI tools the document test runs (crates/innkeep/tests/openapi.rs), from PyPI.
if ! command -v openapi-spec-validator >/dev/null || ! command -v openapi-python-client >/dev/null; then
  python3 -m pip install --quiet 'openapi-spec-validator>=0.9,<0.10' 'openapi-python-client>=0.29,<0.30' ||
    python3 -m pip install --quiet --break-system-packages 'openapi-spec-validator>=0.9,<0.10' 'openapi-python-client>=0.29,<0.30'
fi
echo "openapi tools: $(openapi-spec-validator --version 2>&1 | head -1), $(openapi-python-client --version 2>&1 | head -1)"

# aiosmtpd (an SMTP server writing a Maildir) and icalendar, which the notification senders
# tests (crates/notify/tests/senders.rs) run and read the sent mail with, from PyPI.
if ! python3 -c 'import aiosmtpd, icalendar' 2>/dev/null; then
  python3 -m pip install --quiet 'aiosmtpd>=1.4,<2' 'icalendar>=6,<7' ||
    python3 -m pip install --quiet --break-system-packages 'aiosmtpd>=1.4,<2' 'icalendar>=6,<7'
fi
echo "aiosmtpd: $(python3 -c 'import aiosmtpd; print(aiosmtpd.__version__)'), icalendar: $(python3 -c 'import icalendar; print(icalendar.__version__)')"

# pyspark (Spark in local mode on the machine's Java 17), which reads the analytics lake the
# tests write and must agree with DataFusion (crates/innkeep/tests/analytics.rs), and DuckDB,
# the reference beside DataFusion in `innkeep bench analytics`, from PyPI.
if ! python3 -c 'import pyspark, duckdb' 2>/dev/null; then
  python3 -m pip install --quiet 'pyspark>=4,<5' 'duckdb>=1,<3' ||
    python3 -m pip install --quiet --break-system-packages 'pyspark>=4,<5' 'duckdb>=1,<3'
fi
echo "pyspark: $(python3 -c 'import pyspark; print(pyspark.__version__)'), duckdb: $(python3 -c 'import duckdb; print(duckdb.__version__)')"

# xmllint, which validates the camt.053 corpus against ISO 20022's schemas; strace, whose
# fault injection turns the file system read-only under a running server.
command -v xmllint >/dev/null || apt_install libxml2-utils
command -v strace >/dev/null || apt_install strace
echo "xmllint: $(xmllint --version 2>&1 | head -1); strace: $(strace -V 2>&1 | head -1)"

# Chromium and Node for the browser journeys.
[ -x /usr/bin/chromium ] || apt_install chromium
command -v node >/dev/null || apt_install nodejs npm
command -v npm >/dev/null || apt_install npm
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
echo "node: $(node --version)"

# The journeys' npm packages (playwright-core, axe-core) at the versions tests/browser's
# package-lock.json pins, from the npm registry; installed again only when one is missing or
# at another version.
browser_dir="$(cd "$(dirname "$0")/../tests/browser" && pwd)"
if ! (cd "$browser_dir" && node -e '
  const fs = require("fs");
  for (const [path, pkg] of Object.entries(require("./package-lock.json").packages)) {
    if (!path) continue;
    const installed = fs.existsSync(`${path}/package.json`) && JSON.parse(fs.readFileSync(`${path}/package.json`, "utf8")).version;
    if (installed !== pkg.version) process.exit(1);
  }') 2>/dev/null; then
  (cd "$browser_dir" && npm ci --no-audit --no-fund >/dev/null)
fi
echo "npm packages (tests/browser): $(cd "$browser_dir" && node -p 'Object.entries(require("./package-lock.json").packages).filter(([p]) => p).map(([p, v]) => p.replace("node_modules/", "") + " " + v.version).join(", ")')"
