#!/usr/bin/env bash
# Makes sure the Redis that the shared rate-limit test uses is reachable: starts a local,
# memory-only server when nothing answers. The test fails (never skips) without it.
set -euo pipefail

url="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
host=$(python3 -c "import sys,urllib.parse as u;print(u.urlsplit(sys.argv[1]).hostname or '127.0.0.1')" "$url")
port=$(python3 -c "import sys,urllib.parse as u;print(u.urlsplit(sys.argv[1]).port or 6379)" "$url")

ready() { python3 -c "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 2).close()" "$host" "$port" 2>/dev/null; }

if ! ready && command -v redis-server >/dev/null 2>&1 && [ "$host" = "127.0.0.1" ]; then
  echo "Starting Redis on $host:$port (memory only)..."
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" \
    --appendonly no --dir /tmp --logfile /tmp/agent-orchestrator-redis.log
  for _ in $(seq 1 20); do ready && break; sleep 0.5; done
fi
if ! ready; then
  echo "error: Redis is not reachable at $host:$port; install redis-server or set TEST_REDIS_URL" >&2
  exit 1
fi
echo "Redis ready at $host:$port"
