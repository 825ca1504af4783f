#!/usr/bin/env bash
# Makes a fresh machine ready to run Cardplane: pnpm, dependencies, Chromium (for the reveal-page
# browser test), and the local PostgreSQL and Redis the services and tests use. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

if ! command -v pnpm >/dev/null 2>&1; then
  say "installing pnpm"
  npm install -g pnpm@9.15.9 >/dev/null 2>&1 || corepack enable pnpm
fi

say "installing dependencies"
if [ "${CI:-}" = "true" ]; then pnpm install --frozen-lockfile --reporter=silent; else pnpm install --reporter=silent; fi

if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  say "installing Chromium (headless browser tests)"
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || say "warning: could not install chromium; browser tests will fail"
fi

PG_HOST=127.0.0.1; PG_PORT=5432
if ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; then
  if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && break; sleep 1; done
  fi
fi
pg_isready -q -h "$PG_HOST" -p "$PG_PORT" || { echo "PostgreSQL is not reachable at $PG_HOST:$PG_PORT (set CARDPLANE_PG_URL to point elsewhere)" >&2; exit 1; }

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null 2>&1; then
    say "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "Redis is not reachable at 127.0.0.1:6379 (set CARDPLANE_REDIS_URL to point elsewhere)" >&2; exit 1; }
say "ready"
