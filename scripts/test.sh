#!/usr/bin/env bash
# Set up everything the tests need on a fresh Debian machine, then run them all.
# Usage: bash scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests need: PostgreSQL (cross-engine tests), Java (Spark) and
# Debian's chromium (browser tests of the report and dashboard; Playwright drives it and
# never downloads a browser of its own).
need=()
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
bash scripts/postgres.sh

python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'

.venv/bin/ruff check src tests benchmarks
.venv/bin/python -m pytest "$@"
