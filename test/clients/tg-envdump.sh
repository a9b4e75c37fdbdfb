#!/bin/sh
# A Testground-style test program for the tests: writes the variables Testground programs read
# to its outputs (env.txt), then reports success with tgc's SDK. Runs from the repository or,
# in an image, beside the SDK at /app/node_modules/tgc.
set -eu
env | grep -E '^(TEST_[A-Z_]+|SYNC_SERVICE_HOST|SYNC_SERVICE_PORT|PPROF_PORT|TGC_COORDINATOR)=' | sort >"$TEST_OUTPUTS_PATH/env.txt"
here="$(cd "$(dirname "$0")" && pwd)"
sdk="$here/../../dist/runtime/sdk.mjs"
[ -f "$sdk" ] || sdk=/app/node_modules/tgc/dist/runtime/sdk.mjs
exec node --input-type=module -e "const { run } = await import('$sdk'); await run(async () => {});"
