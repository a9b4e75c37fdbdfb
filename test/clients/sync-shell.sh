#!/bin/sh
# A test instance in shell, with nothing but `tgc sync` (which tgc puts on the PATH): every
# subcommand once, then its outcome. The group's param `fail` (TGC_PARAMS) makes it report a failure.
set -eu
n=$(tgc sync signal ready)
tgc sync barrier ready
gathered=$(tgc sync signal-wait gathered "$TGC_INSTANCES")
seq=$(tgc sync publish names "{\"name\":\"$TGC_INSTANCE\"}")
tgc sync subscribe names --take "$TGC_INSTANCES" >"$TGC_OUTPUTS/names.jsonl"
tgc sync wait-network
tgc sync configure '{"latency":"5ms"}' --callback configured
tgc sync barrier configured
tgc sync record arrival "$n" th
tgc sync message "signal $n, gathered $gathered, published as $seq"
case "$TGC_PARAMS" in *'"fail":true'*) tgc sync outcome failure "asked to fail"; exit 0 ;; esac
lines=$(wc -l <"$TGC_OUTPUTS/names.jsonl")
if [ "$lines" -ne "$TGC_INSTANCES" ]; then
  tgc sync outcome failure "saw $lines names"
else
  tgc sync outcome success
fi
