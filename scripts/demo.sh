#!/usr/bin/env bash
# The demo: components on one bus (sensors, a controller, a logger). Ctrl-C shuts it down in order.
# Arguments are passed to the demo (see `swift run BusDemo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift run -c release BusDemo "$@"
