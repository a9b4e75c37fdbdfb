#!/bin/sh
# Builds the examples' image once and tags it with every name the example plans use
# (tgc-example-<name>:latest). Run from anywhere after `npm run build`; needs the runtime image.
set -eu
repo="$(cd "$(dirname "$0")/.." && pwd)"
base="${1:-tgc-runtime:0.1.0}"
[ -f "$repo/dist/runtime/sdk.mjs" ] || { echo "build-examples: run npm run build first" >&2; exit 3; }
docker build -q -f "$repo/images/examples/Dockerfile" --build-arg "BASE=$base" -t tgc-examples:latest "$repo" >/dev/null
for plan in "$repo"/examples/*/plan.toml; do
  name="$(basename "$(dirname "$plan")")"
  docker tag tgc-examples:latest "tgc-example-$name:latest"
  echo "tgc-example-$name:latest"
done
