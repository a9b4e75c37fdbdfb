#!/usr/bin/env bash
# A real three-node Docker Swarm on this machine, for the swarm target's tests.
#
#   swarm-lab.sh up DIR     start it (about 10 s); prints the environment to reach it
#   swarm-lab.sh down DIR   remove everything it made (also after a failed `up`)
#   swarm-lab.sh stop-node DIR N   stop node N's Docker daemon (a node lost)
#   swarm-lab.sh start-node DIR N  start it again (it rejoins the swarm)
#
# Each node is a Docker daemon in a network namespace of its own (tgclab-n1..3), with its own
# data root, /run and hostname; the namespaces are joined by a bridge in a fourth ("switch")
# namespace, never in this one (bridged frames would meet the host's FORWARD policy). This
# namespace gets one veth into the switch (198.19.200.1/24), so tgc reaches the nodes'
# published ports as it would a cluster's. No namespace has a default route: nothing leaves.
# Node N: 198.19.200.1N, bridge 198.19.(120+8N).1/24, pools 198.19.(124+8N).0/22; the swarm's
# overlays come from 198.19.160.0/20. Node 1 is the manager; 2 and 3 join as workers.
set -euo pipefail
cmd=${1:?say up, down or stop-node}
dir=${2:?name the lab directory}
ns=${TGC_LAB_NS:-tgclab}
nodes=(1 2 3)

node_ip() { echo "198.19.200.1$1"; }
sock() { echo "$dir/n$1/run/docker.sock"; }
d() { docker -H "unix://$(sock "$1")" "${@:2}"; }

down() {
  for n in "${nodes[@]}"; do
    [ -S "$(sock "$n")" ] && timeout 20 docker -H "unix://$(sock "$n")" swarm leave --force >/dev/null 2>&1 || true
  done
  for n in "${nodes[@]}"; do
    local pidfile="$dir/n$n/run/docker.pid"
    if [ -f "$pidfile" ]; then
      local pid
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  done
  # What is left in the namespaces (containerd shims, tasks), by pid.
  for n in "${nodes[@]}" sw; do
    if ip netns list | grep -qw "$ns-n$n\|$ns-$n"; then
      for pid in $(ip netns pids "$ns-$( [ "$n" = sw ] && echo sw || echo "n$n")" 2>/dev/null); do
        kill -9 "$pid" 2>/dev/null || true
      done
    fi
  done
  sleep 0.3
  for n in "${nodes[@]}"; do ip netns del "$ns-n$n" 2>/dev/null || true; done
  ip netns del "$ns-sw" 2>/dev/null || true
  ip link del "$ns-h" 2>/dev/null || true
  # Mounts made under the lab directory (none should survive their namespaces; to be sure).
  if [ -d "$dir" ]; then
    { grep -o " $dir[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$dir"
  fi
}

start_node() {
  local n=$1
  mkdir -p "$dir/n$n/run" "$dir/n$n/data"
  local b=$((120 + 8 * n)) p=$((124 + 8 * n))
  # setsid: a caller that kills its process group must not take the daemons with it.
  # `ip netns exec` remounts /sys (the cgroup hierarchies go): mount them again; the node's own
  # /run gives dockerd its usual paths (/var/run/docker.sock …) apart from the other nodes'.
  setsid ip netns exec "$ns-n$n" unshare --uts sh -c "
    hostname node$n
    mount -t tmpfs tgclab /sys/fs/cgroup
    for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
      mkdir -p /sys/fs/cgroup/\$c && mount -t cgroup -o \$c cgroup /sys/fs/cgroup/\$c
    done
    mkdir -p /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
    mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
    mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
    mount --bind '$dir/n$n/run' /run
    exec dockerd --data-root '$dir/n$n/data' -H unix:///var/run/docker.sock \
      --bip 198.19.$b.1/24 --default-address-pool base=198.19.$p.0/22,size=24 \
      --userland-proxy=false --iptables=true
  " >"$dir/n$n/dockerd.log" 2>&1 </dev/null &
}

up() {
  mkdir -p "$dir"
  ip netns add "$ns-sw"
  ip -n "$ns-sw" link add br0 type bridge
  ip -n "$ns-sw" link set br0 up
  ip -n "$ns-sw" link set lo up
  ip link add "$ns-h" type veth peer name host netns "$ns-sw"
  ip -n "$ns-sw" link set host master br0 up
  ip addr add 198.19.200.1/24 dev "$ns-h"
  ip link set "$ns-h" up
  for n in "${nodes[@]}"; do
    ip netns add "$ns-n$n"
    ip link add "$ns-v$n" type veth peer name eth0 netns "$ns-n$n"
    ip link set "$ns-v$n" netns "$ns-sw"
    ip -n "$ns-sw" link set "$ns-v$n" master br0 up
    ip -n "$ns-n$n" addr add "$(node_ip "$n")/24" dev eth0
    ip -n "$ns-n$n" link set eth0 up
    ip -n "$ns-n$n" link set lo up
    start_node "$n"
  done
  for n in "${nodes[@]}"; do
    for _ in $(seq 1 300); do d "$n" info >/dev/null 2>&1 && break; sleep 0.2; done
    d "$n" info >/dev/null 2>&1 || { echo "node$n's dockerd did not answer in 60 s:" >&2; tail -20 "$dir/n$n/dockerd.log" >&2; exit 1; }
  done
  d 1 swarm init --advertise-addr "$(node_ip 1)" --listen-addr "$(node_ip 1):2377" \
    --data-path-addr "$(node_ip 1)" --default-addr-pool 198.19.160.0/20 \
    --default-addr-pool-mask-length 24 >/dev/null
  local token
  token=$(d 1 swarm join-token -q worker)
  for n in 2 3; do
    d "$n" swarm join --token "$token" --advertise-addr "$(node_ip "$n")" \
      --listen-addr "$(node_ip "$n"):2377" --data-path-addr "$(node_ip "$n")" "$(node_ip 1):2377" >/dev/null
  done
  for _ in $(seq 1 100); do
    [ "$(d 1 node ls --format '{{.Status}}' | grep -c Ready)" = 3 ] && break
    sleep 0.2
  done
  for n in "${nodes[@]}"; do d 1 node update --label-add "tgclab=n$n" "node$n" >/dev/null; done
  echo "DOCKER_HOST=unix://$(sock 1)"
  for n in "${nodes[@]}"; do echo "TGC_LAB_NODE$n=unix://$(sock "$n")"; done
}

case "$cmd" in
  up)
    down
    # Whatever step fails (set -e), the lab goes again, and the step is named.
    set -E
    trap 'line=$LINENO' ERR
    trap 'st=$?; if [ "$st" != 0 ]; then echo "swarm-lab: up failed at line ${line:-?} (exit $st)" >&2; down; fi' EXIT
    up
    ;;
  down) down ;;
  stop-node)
    pid=$(cat "$dir/n${3:?name the node: 1, 2 or 3}/run/docker.pid")
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ;;
  start-node)
    start_node "${3:?name the node: 1, 2 or 3}"
    for _ in $(seq 1 150); do d "$3" info >/dev/null 2>&1 && break; sleep 0.2; done
    ;;
  *) echo "say up, down, stop-node or start-node" >&2; exit 2 ;;
esac
