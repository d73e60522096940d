# shellcheck shell=bash
# vmshift.virt lab: a "KVM host" network in a network namespace, for nmstate_apply and host_network.
#
#   host-netns.sh reset    (re)create it: netns vmshift-nm-host with eth1, eth2, eth3 (veths) and
#                          netns vmshift-nm-gw, the "switch" with the gateway 192.0.2.1 behind eth1 only;
#                          eth1 holds 192.0.2.10/24 and the default route via 192.0.2.1
#   host-netns.sh delete   remove both
#
# Real kernel networking (veths, Linux bridges, addresses, routes, ping); nmstatectl is the lab's
# stand-in (tests/lab/nmstatectl). Prints the interpreter to give Ansible so a module runs inside.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_DIR=${VMSHIFT_LAB_DIR:-/var/lib/vmshift-lab}
VENV=${VMSHIFT_VENV:-$REPO/.venv}
HOST=vmshift-nm-host
GW=vmshift-nm-gw

delete() {
  ip netns del "$HOST" 2>/dev/null || true
  ip netns del "$GW" 2>/dev/null || true
}

reset() {
  delete
  ip netns add "$HOST"
  ip netns add "$GW"
  # Answer ARP only on the interface that holds the address: the gateway is behind eth1, not eth2/eth3.
  ip netns exec "$GW" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.default.arp_ignore=1
  ip -n "$GW" link add gwbr type bridge
  ip -n "$GW" addr add 192.0.2.1/24 dev gwbr
  ip -n "$GW" link set gwbr up
  for i in 1 2 3; do
    ip link add "vmshift-h$i" type veth peer name "vmshift-g$i"
    ip link set "vmshift-h$i" netns "$HOST"
    ip link set "vmshift-g$i" netns "$GW"
    ip -n "$HOST" link set "vmshift-h$i" name "eth$i"
    ip -n "$GW" link set "vmshift-g$i" name "gw$i"
    ip -n "$GW" link set "gw$i" up
  done
  ip -n "$GW" link set gw1 master gwbr   # only eth1 leads to the gateway
  ip -n "$HOST" link set lo up
  ip -n "$HOST" addr add 192.0.2.10/24 dev eth1
  ip -n "$HOST" link set eth1 up
  ip -n "$HOST" route add default via 192.0.2.1 proto static
  mkdir -p "$LAB_DIR/netns"
  cat >"$LAB_DIR/netns/python" <<PY
#!/bin/sh
# Runs Ansible's module Python inside the lab's host network namespace, with the nmstatectl stand-in first on PATH.
exec ip netns exec $HOST env PATH=$REPO/tests/lab/nmstatectl:$VENV/bin:\$PATH $VENV/bin/python "\$@"
PY
  chmod +x "$LAB_DIR/netns/python"
  echo "$LAB_DIR/netns/python"
}

case "${1:-}" in
  reset) reset ;;
  delete) delete ;;
  *) sed -n '2,11p' "$0"; exit 2 ;;
esac
