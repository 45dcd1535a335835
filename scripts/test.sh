#!/usr/bin/env bash
# Set up everything the tests need on a fresh Debian machine, then run them all.
# Usage: bash scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'

.venv/bin/ruff check src tests benchmarks
.venv/bin/python -m pytest "$@"
