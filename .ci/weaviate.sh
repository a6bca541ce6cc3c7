#!/usr/bin/env bash
# Starts and stops a throwaway single-node Weaviate on 127.0.0.1 for the
# Weaviate adapter's tests.
#
#   eval "$(.ci/weaviate.sh start)"   # builds it once, starts it, prints exports
#   .ci/weaviate.sh stop              # stops it and removes its data
#
# start prints only `export VAR=value` lines on stdout (everything else goes
# to stderr): VECGUARD_WEAVIATE_ADDR (HTTP host:port) and
# VECGUARD_WEAVIATE_GRPC_ADDR. The server is built from its Go module on the
# first run (about five minutes) into a cache that outlives the clone:
# $VECGUARD_CACHE (default: $HOME/.cache/vecguard). Its state (pid, ports,
# data, log) lives in a fresh directory under /tmp recorded in
# .ci/cache/weaviate.state, so stop finds it.
set -euo pipefail

version=v1.35.2
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${VECGUARD_CACHE:-$HOME/.cache/vecguard}
bindir="$cache/weaviate-$version/bin"
server="$bindir/weaviate-server"
statefile="$root/.ci/cache/weaviate.state"
ready_timeout=${VECGUARD_WEAVIATE_READY_TIMEOUT:-180}

log() { printf 'weaviate.sh: %s\n' "$*" >&2; }

# free_port prints a TCP port on 127.0.0.1 that nothing listens on and that
# was not handed out before in this run.
taken=" "
free_port() {
  local p i
  for i in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    case "$taken" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      taken="$taken$p "
      echo "$p"
      return 0
    fi
  done
  log "no free port found"
  return 1
}

# ready reports whether the server answers its readiness probe (curl when
# there is one, else a plain HTTP request through bash's /dev/tcp).
ready() {
  local port=$1
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/v1/.well-known/ready" 2>/dev/null
    return
  fi
  local status
  status=$(
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'GET /v1/.well-known/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    timeout 2 head -n 1 <&3
  ) 2>/dev/null || return 1
  case "$status" in *" 200"*) return 0 ;; esac
  return 1
}

install_server() {
  if [ -x "$server" ]; then
    return 0
  fi
  log "building weaviate-server $version (first run on this machine; takes minutes)"
  mkdir -p "$bindir"
  GOBIN="$bindir" GOFLAGS=-buildvcs=false GOWORK=off \
    go install "github.com/weaviate/weaviate/cmd/weaviate-server@$version" >&2
}

start() {
  if [ -f "$statefile" ]; then
    log "a server seems to be running already (state in $statefile); stopping it first"
    stop
  fi
  install_server
  local dir http grpc gossip data raft raftrpc
  dir=$(mktemp -d /tmp/vecguard-weaviate.XXXXXX)
  http=$(free_port); grpc=$(free_port); gossip=$(free_port)
  data=$(free_port); raft=$(free_port); raftrpc=$(free_port)
  mkdir -p "$dir/data" "$(dirname "$statefile")"

  (
    cd "$dir"
    exec env \
      PERSISTENCE_DATA_PATH="$dir/data" \
      AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true \
      AUTHORIZATION_ENABLE_RBAC=false \
      DEFAULT_VECTORIZER_MODULE=none \
      ENABLE_MODULES= \
      DISABLE_TELEMETRY=true \
      LOG_LEVEL=warning \
      GO_PROFILING_DISABLE=true \
      PROMETHEUS_MONITORING_ENABLED=false \
      AUTOSCHEMA_ENABLED=false \
      CLUSTER_HOSTNAME=node1 \
      CLUSTER_ADVERTISE_ADDR=127.0.0.1 \
      CLUSTER_BIND_ADDR=127.0.0.1 \
      CLUSTER_GOSSIP_BIND_PORT="$gossip" \
      CLUSTER_DATA_BIND_PORT="$data" \
      RAFT_PORT="$raft" \
      RAFT_INTERNAL_RPC_PORT="$raftrpc" \
      RAFT_JOIN=node1 \
      RAFT_BOOTSTRAP_EXPECT=1 \
      GRPC_PORT="$grpc" \
      "$server" --scheme http --host 127.0.0.1 --port "$http" \
      >"$dir/weaviate.log" 2>&1 </dev/null
  ) &
  local pid=$!
  {
    echo "pid=$pid"
    echo "dir=$dir"
    echo "http=$http"
    echo "grpc=$grpc"
  } >"$statefile"

  local deadline=$((SECONDS + ready_timeout))
  until ready "$http"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "weaviate-server exited during startup; last log lines:"
      tail -n 40 "$dir/weaviate.log" >&2 || true
      stop
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "weaviate-server not ready after ${ready_timeout}s; last log lines:"
      tail -n 40 "$dir/weaviate.log" >&2 || true
      stop
      return 1
    fi
    sleep 1
  done
  log "ready: http 127.0.0.1:$http, grpc 127.0.0.1:$grpc, log $dir/weaviate.log"
  echo "export VECGUARD_WEAVIATE_ADDR=127.0.0.1:$http"
  echo "export VECGUARD_WEAVIATE_GRPC_ADDR=127.0.0.1:$grpc"
}

stop() {
  if [ ! -f "$statefile" ]; then
    return 0
  fi
  local pid="" dir=""
  pid=$(sed -n 's/^pid=//p' "$statefile")
  dir=$(sed -n 's/^dir=//p' "$statefile")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "weaviate-server did not stop in 30s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  case "$dir" in
    /tmp/vecguard-weaviate.*) rm -rf "$dir" ;;
  esac
  rm -f "$statefile"
}

logs() {
  local dir
  dir=$(sed -n 's/^dir=//p' "$statefile" 2>/dev/null || true)
  [ -n "$dir" ] && tail -n "${1:-100}" "$dir/weaviate.log"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  logs) logs "${2:-100}" ;;
  *) echo "usage: $0 start|stop|logs [lines]" >&2; exit 2 ;;
esac
