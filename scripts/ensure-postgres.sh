#!/usr/bin/env bash
# Makes sure the PostgreSQL the tests use is reachable: starts the local cluster when it
# is down and creates the test database. The tests fail (never skip) without it.
set -euo pipefail

url="${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
host=$(python3 -c "import sys,urllib.parse as u;print(u.urlsplit(sys.argv[1]).hostname or '127.0.0.1')" "$url")
port=$(python3 -c "import sys,urllib.parse as u;print(u.urlsplit(sys.argv[1]).port or 5432)" "$url")
user=$(python3 -c "import sys,urllib.parse as u;print(u.urlsplit(sys.argv[1]).username or 'postgres')" "$url")

ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "error: PostgreSQL client tools are missing; install postgresql (apt-get install postgresql)" >&2
  exit 1
fi
if ! ready; then
  if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    for version in $(ls /etc/postgresql); do
      echo "Starting PostgreSQL $version cluster 'main'..."
      if [ "$(id -u)" -eq 0 ]; then
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
      else
        sudo pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
      fi
    done
  fi
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi
if ! ready; then
  echo "error: PostgreSQL is not reachable at $host:$port; start it or set TEST_POSTGRES_URL" >&2
  exit 1
fi
exists=$(psql -h "$host" -p "$port" -U "$user" -d postgres -tAc \
  "select 1 from pg_database where datname = 'agent_orchestrator_test'")
if [ "$exists" != "1" ]; then
  psql -h "$host" -p "$port" -U "$user" -d postgres -qc "create database agent_orchestrator_test"
fi
echo "PostgreSQL ready at $host:$port"
