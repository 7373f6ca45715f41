#!/usr/bin/env bash
# The local platform behind `make run` / `make stop`: PostgreSQL, Redis, s3rver, maildev and an SMS sink under .local/ (data kept
# between runs), then every app of dapr.yaml with its dev sidecar. Ctrl-C stops everything.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STATE=${OVASABI_LOCAL_DIR:-$ROOT/.local}
PG_PORT=5433
REDIS_PORT=6380
S3_PORT=4569
# The bucket of components/blobstore.yaml.
S3_BUCKET=ovasabi-assets
S3RVER=$ROOT/.tools/node_modules/.bin/s3rver
# The SMTP server and web inbox of components/email.yaml.
SMTP_PORT=1025
MAIL_WEB_PORT=1080
MAILDEV=$ROOT/.tools/node_modules/.bin/maildev
# The stand-in for the HTTP providers of components/sms.yaml and components/webhook.yaml.
SINK_PORT=1090
SIDECAR=$ROOT/tools/Ovasabi.DevSidecar/bin/Release/net10.0/dev-sidecar.dll
RUNNER_PID=$STATE/runner.pid

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; else ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1; fi
}

start_postgres() {
  local bin; bin=$(pg_bin)
  mkdir -p "$STATE/postgres" "$STATE/logs"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$STATE/postgres" "$STATE/logs"
  if [ ! -f "$STATE/postgres/data/PG_VERSION" ]; then
    echo "initialising PostgreSQL in $STATE/postgres"
    as_postgres "$bin/initdb" -D "$STATE/postgres/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$STATE/postgres/data" status >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl" -D "$STATE/postgres/data" -l "$STATE/logs/postgres.log" -w \
      -o "-p $PG_PORT -k $STATE/postgres -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  echo "PostgreSQL  127.0.0.1:$PG_PORT  (user postgres, trust auth)"
}

start_redis() {
  mkdir -p "$STATE/redis" "$STATE/logs"
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$STATE/redis" --appendonly yes \
      --daemonize yes --pidfile "$STATE/redis/redis.pid" --logfile "$STATE/logs/redis.log"
    until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do sleep 0.1; done
  fi
  echo "Redis       127.0.0.1:$REDIS_PORT"
}

answers() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A server that cannot daemonise, started in the background with its pid kept for `stop`: waits for its port.
launch() {
  local name=$1 port=$2; shift 2
  [ -x "$1" ] || { echo "$name not found at $1: run make deps" >&2; exit 1; }
  nohup "$@" >"$STATE/logs/$name.log" 2>&1 &
  echo $! > "$STATE/$name.pid"
  local tries=0
  until answers "$port"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ]; then echo "$name did not start; see $STATE/logs/$name.log" >&2; exit 1; fi
    sleep 0.1
  done
}

start_s3() {
  mkdir -p "$STATE/s3" "$STATE/logs"
  answers "$S3_PORT" || launch s3rver "$S3_PORT" "$S3RVER" -d "$STATE/s3" -a 127.0.0.1 -p "$S3_PORT" --configure-bucket "$S3_BUCKET"
  echo "s3rver      127.0.0.1:$S3_PORT  (bucket $S3_BUCKET, keys S3RVER/S3RVER)"
}

start_maildev() {
  mkdir -p "$STATE/maildev" "$STATE/logs"
  answers "$SMTP_PORT" || launch maildev "$SMTP_PORT" "$MAILDEV" --ip 127.0.0.1 --smtp "$SMTP_PORT" --web-ip 127.0.0.1 --web "$MAIL_WEB_PORT" \
    --incoming-user ovasabi --incoming-pass maildev --mail-directory "$STATE/maildev"
  echo "maildev     127.0.0.1:$SMTP_PORT  web inbox http://127.0.0.1:$MAIL_WEB_PORT  (SMTP user ovasabi / maildev)"
}

start_http_sink() {
  mkdir -p "$STATE/http-sink" "$STATE/logs"
  answers "$SINK_PORT" || launch http-sink "$SINK_PORT" "$ROOT/tools/local/http-sink.js" "$SINK_PORT" "$STATE/http-sink"
  echo "HTTP sink   127.0.0.1:$SINK_PORT  SMS and webhooks received http://127.0.0.1:$SINK_PORT/messages"
}

create_databases() {
  # The database each app of dapr.yaml names in its connection string, and the analytics binding's (components/analytics.yaml).
  for db in $(sed -n 's/.*Database=\([a-z0-9_-]*\).*/\1/p' "$ROOT/dapr.yaml") analytics; do
    if ! psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
      psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE \"$db\"" >/dev/null
    fi
  done
}

signing_key() {
  # A local signing key for the auth service, named by today's date; rotate by adding a later-named entry.
  local file=$STATE/secrets.json
  if [ ! -f "$file" ]; then
    mkdir -p "$STATE"
    local pem; pem=$(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | awk '{printf "%s\\n", $0}')
    printf '{"auth-signing-keys":{"%s":"%s"}}\n' "$(date -u +%Y-%m-%d)" "$pem" > "$file"
    chmod 600 "$file"
    echo "generated the auth signing key in $file"
  fi
}

stop_runner() {
  # Stops the apps (the runner signals each and waits) before the backing services they use go away.
  local pid; pid=$(cat "$RUNNER_PID" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

stop_backing() {
  local bin; bin=$(pg_bin)
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  for server in s3rver maildev http-sink; do
    if [ -f "$STATE/$server.pid" ]; then
      kill -TERM "$(cat "$STATE/$server.pid")" 2>/dev/null || true
      rm -f "$STATE/$server.pid"
    fi
  done
  if [ -f "$STATE/postgres/data/PG_VERSION" ]; then
    as_postgres "$bin/pg_ctl" -D "$STATE/postgres/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

case "${1:-run}" in
  run)
    start_postgres
    start_redis
    start_s3
    start_maildev
    start_http_sink
    create_databases
    signing_key
    # A script's background jobs ignore SIGINT, so Ctrl-C reaches the runner only through these traps.
    trap 'exit 130' INT TERM
    trap 'stop_runner; stop_backing; rm -f "$RUNNER_PID"' EXIT
    # The runner prints the table of apps and ports, then their health once every app is ready. Each app and its
    # sidecar get an app API token of their own for this run; the sidecars find each other through a
    # name-resolution file of this platform's own and keep Dapr jobs in its scheduler file. The console shows the
    # apps' JSON log lines as plain ones; the log files keep the JSON.
    DAPR_DEV_NAME_RESOLUTION_DB="$STATE/nameresolution.db" DAPR_DEV_SCHEDULER_DB="$STATE/scheduler.db" \
      dotnet "$SIDECAR" run -f "$ROOT/dapr.yaml" --app-api-tokens --plain-app-logs &
    echo $! > "$RUNNER_PID"
    wait "$(cat "$RUNNER_PID")"
    ;;
  stop)
    stop_runner
    stop_backing
    ;;
  *)
    echo "usage: $0 run|stop" >&2
    exit 2
    ;;
esac
