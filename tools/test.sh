#!/bin/bash
# The test command: install what the tests need, build, run everything.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --test
make -j"$(nproc)" test-build
exec tests/run-all.sh
