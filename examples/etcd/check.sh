#!/bin/sh
# The etcd example's checker: etcdctl and tgc sync, nothing else.
set -u
ALL="http://etcd-0:2379,http://etcd-1:2379,http://etcd-2:2379"
ctl() { etcdctl --dial-timeout=2s --command-timeout=3s "$@"; }
fail() { tgc sync outcome failure "$1"; exit 1; }
# Try a command for up to $1 seconds.
retry() {
  n=$(($1 * 2)); shift
  while [ "$n" -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; n=$((n - 1)); sleep 0.5; done
  return 1
}

retry 60 ctl --endpoints="$ALL" endpoint health || fail "the cluster did not come up"
ctl --endpoints="$ALL" put before 1 >/dev/null || fail "the whole cluster could not commit"

# The plan cuts etcd-2 off once the key is written; the majority (etcd-0, etcd-1) elects a
# leader if it has to and commits, and etcd-2, which the checker still reaches, cannot.
tgc sync signal written >/dev/null
tgc sync barrier event:cut 1
retry 20 ctl --endpoints=http://etcd-0:2379,http://etcd-1:2379 put during 2 || fail "the majority could not commit"
if ctl --endpoints=http://etcd-2:2379 put minority x >/dev/null 2>&1; then fail "etcd-2 committed while cut off"; fi
tgc sync message "majority committed, etcd-2 refused, while cut off"

# The plan heals the partition; etcd-2 catches up with what it missed.
tgc sync signal checked-cut >/dev/null
tgc sync barrier event:heal 1
caught_up() { [ "$(ctl --endpoints=http://etcd-2:2379 get during --print-value-only)" = 2 ]; }
retry 30 caught_up || fail "etcd-2 did not catch up after the heal"
tgc sync message "etcd-2 caught up after the heal"
tgc sync outcome success
