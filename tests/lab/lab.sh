# shellcheck shell=bash
# vmshift.virt lab: real vSphere simulator, real libvirt/QEMU, a booting test guest, and a
# Kubernetes API emulator (a stand-in), all on loopback of one Debian 12 machine, as root.
#
#   lab.sh setup    install Debian packages and the venv, build the simulator and the guest (cached)
#   lab.sh tools    only what needs no service: the packages to build with, the venv, the simulator
#   lab.sh start    setup, then start every service and wait for it (idempotent); writes env.sh
#   lab.sh status   show what runs
#   lab.sh stop     stop every service the lab started
#   lab.sh env      print the environment (source it: eval "$(tests/lab/lab.sh env)")
#   lab.sh reset-estate   restart the simulator and the Kubernetes emulator with the lab's model only
#
# State and logs: $VMSHIFT_LAB_DIR (default /var/lib/vmshift-lab), logs in $VMSHIFT_LAB_DIR/log.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_SRC="$REPO/tests/lab"
LAB_DIR=${VMSHIFT_LAB_DIR:-/var/lib/vmshift-lab}
LOG_DIR="$LAB_DIR/log"
VENV=${VMSHIFT_VENV:-$REPO/.venv}
PYTHON=${VMSHIFT_PYTHON:-python3}
VCSIM_PORT=${VMSHIFT_VCSIM_PORT:-18989}
K8S_PORT=${VMSHIFT_K8S_PORT:-16443}
LIBVIRT_URI=qemu:///system
SSH_PORT=${VMSHIFT_SSH_PORT:-2222}
POOL=vmshift-lab
NETWORK=vmshift-lab
BRIDGE=vmshift-br0

APT_PACKAGES=(
  golang-go golang-github-vmware-govmomi-dev
  libvirt-daemon-system libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev pkg-config gcc
  qemu-system-x86 qemu-utils ovmf dnsmasq-base iproute2 genisoimage
  syslinux syslinux-common mtools dosfstools cpio
  openssl curl git python3-venv python3-dev openssh-server openssh-client iputils-ping
  debootstrap fdisk e2fsprogs shellcheck
  virt-v2v nbdkit libnbd-bin libguestfs-tools linux-image-amd64
  chromium
)
# What `tools` needs: the venv (libvirt-python builds against libvirt-dev), the simulator's build, and the
# real tools the unit tests and ansible-test sanity run (qemu-img, genisoimage and its isoinfo, shellcheck).
TOOLS_PACKAGES=(
  golang-go golang-github-vmware-govmomi-dev libvirt-dev pkg-config gcc
  python3-venv python3-dev git openssl ca-certificates qemu-utils genisoimage shellcheck
)

log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
stamp_ok() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }

need_root() { [[ $EUID -eq 0 ]] || die "the lab runs as root (it installs packages and runs libvirtd)"; }

setup_apt() { # packages...
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  log "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >>"$LOG_DIR/apt.log" 2>&1
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$LOG_DIR/apt.log" 2>&1 \
    || die "apt-get install failed, see $LOG_DIR/apt.log"
}

setup_venv() {
  local want
  want=$(cat "$LAB_SRC/requirements.txt" <("$PYTHON" -VV) | sha256sum | cut -c1-16)
  stamp_ok "$VENV/.vmshift-stamp" "$want" && return 0
  log "venv: $VENV"
  [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$LAB_SRC/requirements.txt" \
    >>"$LOG_DIR/pip.log" 2>&1 || die "pip install failed, see $LOG_DIR/pip.log"
  echo "$want" >"$VENV/.vmshift-stamp"
}

setup_vcsim() {
  local want
  want=$(cat "$LAB_SRC/vcsim/main.go" <(dpkg-query -W golang-github-vmware-govmomi-dev golang-go) | sha256sum | cut -c1-16)
  stamp_ok "$LAB_DIR/bin/vcsim.stamp" "$want" && [[ -x "$LAB_DIR/bin/vmshift-vcsim" ]] && return 0
  log "building the vSphere simulator (govmomi, GOPATH mode)"
  mkdir -p "$LAB_DIR/bin" "$LAB_DIR/gobuild"
  cp "$LAB_SRC/vcsim/main.go" "$LAB_DIR/gobuild/main.go"
  (cd "$LAB_DIR/gobuild" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$LAB_DIR/gocache" \
    GOFLAGS='' go build -o "$LAB_DIR/bin/vmshift-vcsim" main.go) >>"$LOG_DIR/build.log" 2>&1 \
    || die "simulator build failed, see $LOG_DIR/build.log"
  echo "$want" >"$LAB_DIR/bin/vcsim.stamp"
}

setup_pki() {
  local pki="$LAB_DIR/pki"
  [[ -s "$pki/server.pem" && -s "$pki/vcsim.password" && -s "$pki/k8s.token" ]] && return 0
  log "writing the lab CA, a server certificate for 127.0.0.1/localhost, and lab secrets"
  mkdir -p "$pki" && chmod 700 "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -subj "/CN=vmshift lab CA"
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 3650 -extfile ext.cnf
    # a second, unrelated CA: tests use it to prove that a wrong CA is refused
    openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 3650 -subj "/CN=not the lab CA"
    openssl rand -hex 12 >vcsim.password
    openssl rand -hex 24 >k8s.token
    chmod 600 ./*.key vcsim.password k8s.token
    chmod 644 ca.pem other-ca.pem server.pem
  ) >>"$LOG_DIR/pki.log" 2>&1 || die "openssl failed, see $LOG_DIR/pki.log"
}

setup_guest() {
  bash "$LAB_SRC/guest/build.sh" "$LAB_DIR/guest" >>"$LOG_DIR/guest.log" 2>&1 \
    || die "guest image build failed, see $LOG_DIR/guest.log"
  log "building the real guest (Debian 12 as on VMware; cached)"
  bash "$LAB_SRC/guest/build-debian.sh" "$LAB_DIR/guest" >>"$LOG_DIR/guest-debian.log" 2>&1 \
    || die "real guest image build failed, see $LOG_DIR/guest-debian.log"
}

# The upstream API types (tests/types): the manifests are checked against them (tsc, in the unit stage), and the
# Kubernetes stand-in validates what it is sent against JSON Schemas generated from them here. Node from Debian's
# packages when the machine has none; the npm packages tests/types/package.json pins, installed once per version.
setup_types() {
  command -v npm >/dev/null || setup_apt nodejs npm
  local dir="$LAB_DIR/types" src="$REPO/tests/types" want
  want=$(cat "$src/package.json" "$src/types.ts" "$src/tsconfig.json" <(node --version) | sha256sum | cut -c1-16)
  stamp_ok "$dir/.vmshift-stamp" "$want" && return 0
  log "npm: the API types, and JSON Schemas of them for the Kubernetes stand-in ($dir)"
  rm -rf "$dir" && mkdir -p "$dir"
  cp "$src/package.json" "$src/types.ts" "$src/tsconfig.json" "$dir/"
  (cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error &&
    node_modules/.bin/ts-json-schema-generator --path types.ts --tsconfig tsconfig.json --type '*' --expose export \
      --jsDoc none --functions hide --no-type-check --out schemas.json) >>"$LOG_DIR/npm.log" 2>&1 \
    || die "the API types' set-up failed, see $LOG_DIR/npm.log"
  echo "$want" >"$dir/.vmshift-stamp"
}

# kubernetes.core, the collection the cluster modules build on (galaxy.yml's dependency), beside this one in the
# lab's collection path. Galaxy is not among the registries these machines reach: it is taken from the `ansible`
# package on PyPI, which ships it.
KUBERNETES_CORE_FROM="ansible==12.3.0"
setup_collections() {
  local root="$LAB_DIR/collections/ansible_collections" tmp
  stamp_ok "$LAB_DIR/collections/.kubernetes-core-stamp" "$KUBERNETES_CORE_FROM" && return 0
  log "kubernetes.core from the $KUBERNETES_CORE_FROM package"
  tmp=$(mktemp -d)
  "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary=:all: -d "$tmp" "$KUBERNETES_CORE_FROM" \
    >>"$LOG_DIR/pip.log" 2>&1 || die "pip download $KUBERNETES_CORE_FROM failed, see $LOG_DIR/pip.log"
  rm -rf "$root/kubernetes/core" && mkdir -p "$root"
  "$VENV/bin/python" -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith("ansible_collections/kubernetes/core/")])' \
    "$(ls "$tmp"/ansible-*.whl)" "$LAB_DIR/collections" || die "unpacking $KUBERNETES_CORE_FROM failed"
  rm -rf "$tmp"
  echo "$KUBERNETES_CORE_FROM" >"$LAB_DIR/collections/.kubernetes-core-stamp"
}

cmd_setup() {
  need_root
  mkdir -p "$LAB_DIR" "$LOG_DIR"
  setup_apt "${APT_PACKAGES[@]}"
  setup_pki
  setup_venv
  setup_collections
  setup_types
  setup_vcsim
  setup_guest
}

# A live process of that pid file (a zombie no one reaped does not count: it serves nothing).
pid_alive() {
  [[ -f "$1" ]] || return 1
  local pid state
  pid=$(cat "$1")
  state=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z* ]]
}

wait_for() { # seconds description command...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out waiting for $what"
    sleep 0.2
  done
}

start_vcsim() {
  if ! pid_alive "$LAB_DIR/vcsim.pid"; then
    log "starting the vSphere simulator on 127.0.0.1:$VCSIM_PORT"
    rm -f "$LAB_DIR/vcsim.url"
    rm -rf /tmp/govcsim-*  # datastores of a simulator that was killed (it removes them when it stops)
    VCSIM_PASSWORD=$(cat "$LAB_DIR/pki/vcsim.password") setsid "$LAB_DIR/bin/vmshift-vcsim" \
      -l "127.0.0.1:$VCSIM_PORT" -dc 1 -cluster 1 -host 2 -standalone-host 1 -vm 2 -ds 1 -pg 2 \
      -tls-cert "$LAB_DIR/pki/server.pem" -tls-key "$LAB_DIR/pki/server.key" \
      -url-file "$LAB_DIR/vcsim.url" >>"$LOG_DIR/vcsim.log" 2>&1 </dev/null &
    echo $! >"$LAB_DIR/vcsim.pid"
  fi
  wait_for 30 "the vSphere simulator" curl -sf --cacert "$LAB_DIR/pki/ca.pem" \
    "https://127.0.0.1:$VCSIM_PORT/about"
}

start_k8s() {
  if ! pid_alive "$LAB_DIR/k8s.pid"; then
    log "starting the Kubernetes API emulator (stand-in) on 127.0.0.1:$K8S_PORT"
    setsid "$VENV/bin/python" "$LAB_SRC/k8s_emulator.py" --port "$K8S_PORT" \
      --cert "$LAB_DIR/pki/server.pem" --key "$LAB_DIR/pki/server.key" \
      --token-file "$LAB_DIR/pki/k8s.token" --schemas "$LAB_DIR/types/schemas.json" >>"$LOG_DIR/k8s.log" 2>&1 </dev/null &
    echo $! >"$LAB_DIR/k8s.pid"
  fi
  wait_for 30 "the Kubernetes emulator" curl -sf --cacert "$LAB_DIR/pki/ca.pem" \
    -H "Authorization: Bearer $(cat "$LAB_DIR/pki/k8s.token")" "https://127.0.0.1:$K8S_PORT/version"
  umask 077
  cat >"$LAB_DIR/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: vmshift-lab
  cluster:
    server: https://127.0.0.1:$K8S_PORT
    certificate-authority: $LAB_DIR/pki/ca.pem
users:
- name: vmshift-lab-admin
  user:
    token: $(cat "$LAB_DIR/pki/k8s.token")
contexts:
- name: vmshift-lab
  context: {cluster: vmshift-lab, user: vmshift-lab-admin, namespace: vmshift-lab}
current-context: vmshift-lab
KC
  umask 022
}

virsh_() { virsh -q -c "$LIBVIRT_URI" "$@"; }

# A live process of that name (a zombie left for a parent that does not reap it does not count).
running() { pgrep -x "$1" | xargs -r ps -o stat= -p | grep -v '^Z' >/dev/null; }

stop_daemon() {
  running "$1" || return 0
  pkill -x "$1" || true
  local deadline=$((SECONDS + 20))
  while running "$1" && ((SECONDS < deadline)); do sleep 0.2; done
}

start_libvirt() {
  mkdir -p /var/log/libvirt /run/libvirt
  running virtlogd || { log "starting virtlogd"; virtlogd -d; }
  # The qemu hook (fault injection for tests) is read when libvirtd starts: restart it on a change.
  mkdir -p /etc/libvirt/hooks "$LAB_DIR/fault"
  local hook
  hook=$(sed "s#/var/lib/vmshift-lab#$LAB_DIR#g" "$LAB_SRC/libvirt-hooks/qemu")
  if [[ "$hook" != "$(cat /etc/libvirt/hooks/qemu 2>/dev/null)" ]]; then
    printf '%s\n' "$hook" >/etc/libvirt/hooks/qemu
    chmod 0755 /etc/libvirt/hooks/qemu
    stop_daemon libvirtd
  fi
  if ! running libvirtd; then
    log "starting libvirtd"
    libvirtd -d
  fi
  wait_for 30 "libvirtd" virsh -c "$LIBVIRT_URI" version

  mkdir -p "$LAB_DIR/pool"
  if ! virsh_ pool-info "$POOL" >/dev/null 2>&1; then
    log "defining storage pool $POOL"
    virsh_ pool-define-as "$POOL" dir --target "$LAB_DIR/pool" >/dev/null
    virsh_ pool-autostart "$POOL" >/dev/null
  fi
  virsh_ pool-info "$POOL" | grep running >/dev/null || virsh_ pool-start "$POOL" >/dev/null
  virsh_ pool-refresh "$POOL" >/dev/null

  # A Linux bridge for bridge-attached NICs (like br0 on a KVM host) ...
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    log "creating Linux bridge $BRIDGE"
    ip link add "$BRIDGE" type bridge
  fi
  ip link set "$BRIDGE" up
  # ... and an isolated libvirt network for network-attached NICs.
  if ! virsh_ net-info "$NETWORK" >/dev/null 2>&1; then
    # An isolated subnet that no interface on this machine uses already.
    local net=""
    for candidate in 198.51.100 203.0.113 10.254.254 172.31.254; do
      ip -4 route | grep -q "^$candidate\." || { net=$candidate; break; }
    done
    [[ -n "$net" ]] || die "no free subnet for the libvirt network $NETWORK"
    log "defining libvirt network $NETWORK ($net.0/24, isolated)"
    cat >"$LAB_DIR/network.xml" <<NET
<network>
  <name>$NETWORK</name>
  <bridge name='vmshift-virbr0' stp='on' delay='0'/>
  <ip address='$net.1' netmask='255.255.255.0'>
    <dhcp><range start='$net.100' end='$net.200'/></dhcp>
  </ip>
</network>
NET
    virsh_ net-define "$LAB_DIR/network.xml" >/dev/null
    virsh_ net-autostart "$NETWORK" >/dev/null
  fi
  virsh_ net-info "$NETWORK" | grep -E "^Active: +yes" >/dev/null || virsh_ net-start "$NETWORK" >/dev/null
  detect_domain_type
}

# Boot the test guest to learn which domain type works: /dev/kvm can exist while a Linux guest
# hangs early under nested KVM, so only a printed marker counts.
boot_probe() { # type timeout
  local type=$1 timeout=$2 name="vmshift-lab-probe-$1" serial="$LAB_DIR/probe-$1.serial"
  virsh_ destroy "$name" >/dev/null 2>&1 || true
  rm -f "$serial"
  cp --sparse=always "$LAB_DIR/guest/guest.raw" "$LAB_DIR/probe-$type.raw"
  cat >"$LAB_DIR/probe-$type.xml" <<XML
<domain type='$type'>
  <name>$name</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file='$LAB_DIR/probe-$type.raw'/><target dev='vda' bus='virtio'/></disk>
    <serial type='file'><source path='$serial'/><target port='0'/></serial>
  </devices>
</domain>
XML
  local ok=1
  if virsh_ create "$LAB_DIR/probe-$type.xml" >>"$LOG_DIR/probe.log" 2>&1; then
    local deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
      grep -q VMSHIFT-GUEST-READY "$serial" 2>/dev/null && { ok=0; break; }
      sleep 0.5
    done
  fi
  virsh_ destroy "$name" >/dev/null 2>&1 || true
  rm -f "$LAB_DIR/probe-$type.raw"
  return $ok
}

detect_domain_type() {
  [[ -s "$LAB_DIR/domain_type" ]] && return 0
  # What Debian's udev rule does on a host with udev: /dev/kvm for the kvm group (libvirt-qemu's).
  if [[ -c /dev/kvm ]] && getent group kvm >/dev/null; then chgrp kvm /dev/kvm && chmod 660 /dev/kvm; fi
  log "probing which domain type boots the test guest (kvm, else qemu/TCG)"
  if boot_probe kvm 20; then
    echo kvm >"$LAB_DIR/domain_type"
  elif boot_probe qemu 60; then
    echo qemu >"$LAB_DIR/domain_type"
  else
    die "the test guest booted neither under kvm nor qemu; see $LOG_DIR/probe.log and $LAB_DIR/probe-*.serial"
  fi
  log "domain type: $(cat "$LAB_DIR/domain_type")"
}

write_env() {
  umask 077
  cat >"$LAB_DIR/env.sh" <<ENV
# vmshift.virt lab environment (written by tests/lab/lab.sh). The same variables AAP credentials inject.
export VMWARE_HOST=127.0.0.1
export VMWARE_PORT=$VCSIM_PORT
export VMWARE_USER=administrator@vsphere.local
export VMWARE_PASSWORD=$(cat "$LAB_DIR/pki/vcsim.password")
export VMWARE_VALIDATE_CERTS=true
export VMSHIFT_LAB_CA=$LAB_DIR/pki/ca.pem
export VMSHIFT_LAB_OTHER_CA=$LAB_DIR/pki/other-ca.pem
export LIBVIRT_DEFAULT_URI=$LIBVIRT_URI
export VMSHIFT_LAB_SSH_URI='$(ssh_uri)'
export VMSHIFT_LAB_POOL=$POOL
export VMSHIFT_LAB_NETWORK=$NETWORK
export VMSHIFT_LAB_BRIDGE=$BRIDGE
export VMSHIFT_LAB_DOMAIN_TYPE=$(cat "$LAB_DIR/domain_type")
export VMSHIFT_LAB_GUEST_IMAGE=$LAB_DIR/guest/guest.raw
export VMSHIFT_LAB_DIR=$LAB_DIR
export K8S_AUTH_KUBECONFIG=$LAB_DIR/kubeconfig
export VMSHIFT_VENV=$VENV
# libguestfs's appliance (guest inspection, virt-v2v) boots the host's kernel package under TCG: with nested
# KVM it hangs on these machines.
export LIBGUESTFS_BACKEND=direct
export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
export PATH=$VENV/bin:\$PATH
ENV
  umask 022
}

# sshd on loopback with a lab key, so the same libvirtd is also reached as a remote KVM host
# (qemu+ssh), the way the collection talks to real ones.
start_sshd() {
  local ssh="$LAB_DIR/ssh"
  mkdir -p "$ssh" /run/sshd
  [[ -s "$ssh/id_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -C vmshift-lab -f "$ssh/id_ed25519"
  [[ -s "$ssh/host_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -C vmshift-lab-host -f "$ssh/host_ed25519"
  cp "$ssh/id_ed25519.pub" "$ssh/authorized_keys" && chmod 600 "$ssh/authorized_keys"
  cat >"$ssh/sshd_config" <<SSHD
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $ssh/host_ed25519
AuthorizedKeysFile $ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
PidFile $LAB_DIR/sshd.pid
SSHD
  if ! pid_alive "$LAB_DIR/sshd.pid"; then
    log "starting sshd on 127.0.0.1:$SSH_PORT (for qemu+ssh)"
    /usr/sbin/sshd -f "$ssh/sshd_config" -E "$LOG_DIR/sshd.log"
  fi
  wait_for 15 "sshd" virsh -c "$(ssh_uri)" version
}

ssh_uri() { echo "qemu+ssh://root@127.0.0.1:$SSH_PORT/system?keyfile=$LAB_DIR/ssh/id_ed25519&no_verify=1"; }

cmd_start() {
  cmd_setup
  start_libvirt
  start_sshd
  start_vcsim
  start_k8s
  write_env
  log "lab up: vSphere https://127.0.0.1:$VCSIM_PORT/sdk, libvirt $LIBVIRT_URI ($(cat "$LAB_DIR/domain_type")), Kubernetes https://127.0.0.1:$K8S_PORT (emulator)"
}

stop_pid() {
  if pid_alive "$1"; then
    kill "$(cat "$1")" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while pid_alive "$1" && ((SECONDS < deadline)); do sleep 0.1; done
  fi
  rm -f "$1"
}

cmd_stop() {
  stop_pid "$LAB_DIR/vcsim.pid"
  stop_pid "$LAB_DIR/k8s.pid"
  stop_pid "$LAB_DIR/sshd.pid"
  if running libvirtd; then
    for d in $(virsh_ list --name 2>/dev/null | grep '^vmshift-' || true); do virsh_ destroy "$d" >/dev/null || true; done
  fi
  stop_daemon libvirtd
  stop_daemon virtlogd
  log "lab stopped"
}

cmd_status() {
  pid_alive "$LAB_DIR/vcsim.pid" && echo "vsphere simulator: running" || echo "vsphere simulator: stopped"
  pid_alive "$LAB_DIR/k8s.pid" && echo "kubernetes emulator: running" || echo "kubernetes emulator: stopped"
  pid_alive "$LAB_DIR/sshd.pid" && echo "sshd (qemu+ssh): running" || echo "sshd (qemu+ssh): stopped"
  running libvirtd && echo "libvirtd: running ($(cat "$LAB_DIR/domain_type" 2>/dev/null || echo '?'))" || echo "libvirtd: stopped"
}

case "${1:-}" in
  tools)
    need_root
    mkdir -p "$LAB_DIR" "$LOG_DIR"
    setup_apt "${TOOLS_PACKAGES[@]}"
    setup_venv
    setup_collections
    setup_types
    setup_vcsim ;;
  setup) cmd_setup ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cat "$LAB_DIR/env.sh" ;;
  reset-estate)  # the simulator's and the emulator's inventories back to the lab's model (tests start from it)
    stop_pid "$LAB_DIR/vcsim.pid"
    stop_pid "$LAB_DIR/k8s.pid"
    cmd_start ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
