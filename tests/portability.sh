# shellcheck shell=bash
# `tests/run.sh portability`: the set-up and the stages that need no running service (packages, venv,
# simulator build, unit, sanity, lint, build) on another Debian release, in a tree made with debootstrap
# and entered with chroot. Debian 13 (trixie) by default: VMSHIFT_PORTABILITY_RELEASE=bookworm|trixie|...
# The tree is kept in $LAB_DIR/portability/<release> and reused; the collection is copied in each run.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_DIR=${VMSHIFT_LAB_DIR:-/var/lib/vmshift-lab}
RELEASE=${VMSHIFT_PORTABILITY_RELEASE:-trixie}
ROOT="$LAB_DIR/portability/$RELEASE"
LOG="$LAB_DIR/log/portability-$RELEASE.log"

[[ $EUID -eq 0 ]] || { echo "portability runs as root (debootstrap, chroot)" >&2; exit 1; }
mkdir -p "$LAB_DIR/log"
command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap >>"$LOG" 2>&1

# The Debian mirror this machine's apt uses (deb822 or one-line sources), not a security suite.
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/{print $2}' | grep -v security | head -1 || true)
[[ -n "$mirror" ]] || mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | grep -v security | awk '{print $2}' | head -1 || true)
[[ -n "$mirror" ]] || { echo "no Debian mirror in the apt sources" >&2; exit 1; }

if [[ ! -f "$ROOT/.vmshift-ready" ]]; then
  echo "debootstrap $RELEASE into $ROOT (a few minutes; log: $LOG)"
  rm -rf "$ROOT" && mkdir -p "$ROOT"
  debootstrap --variant=minbase "$RELEASE" "$ROOT" "$mirror" >>"$LOG" 2>&1 || { tail -20 "$LOG"; exit 1; }
  touch "$ROOT/.vmshift-ready"
fi

mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
for m in dev dev/pts proc sys; do
  mkdir -p "$ROOT/$m"
  mount --bind "/$m" "$ROOT/$m"
  mounted+=("$ROOT/$m")
done
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
# pip's settings as this machine has them
for f in /etc/pip.conf /etc/xdg/pip/pip.conf /etc/xdg/pip/constraints.txt; do
  if [[ -f "$f" ]]; then mkdir -p "$ROOT$(dirname "$f")" && cp "$f" "$ROOT$f"; fi
done
# This machine's trusted CAs join the tree's (its package index may be reached through a TLS proxy whose CA
# only this machine trusts); ansible-test gives pip a clean environment, so the trust store is what counts.
# (update-ca-certificates takes one certificate a file)
rm -rf "$ROOT/usr/local/share/ca-certificates/vmshift-host" && mkdir -p "$ROOT/usr/local/share/ca-certificates/vmshift-host"
awk -v dir="$ROOT/usr/local/share/ca-certificates/vmshift-host" \
  '/BEGIN CERTIFICATE/{n++} n{print > (dir "/" n ".crt")}' /etc/ssl/certs/ca-certificates.crt
if [[ -x "$ROOT/usr/sbin/update-ca-certificates" ]]; then chroot "$ROOT" update-ca-certificates >>"$LOG" 2>&1; fi

# The collection as it would be committed, with a git history of its own (the stages copy what git tracks).
dest="$ROOT/work/vmshift"
rm -rf "$dest" && mkdir -p "$dest"
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$dest/")
(cd "$dest" && git init -q && git add -A && git -c user.email=ci@lab -c user.name=ci commit -qm tree)

echo "running the offline stages in Debian $(cat "$ROOT/etc/debian_version") ($RELEASE)"
chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  bash /work/vmshift/tests/run.sh offline
echo "portability: Debian $(cat "$ROOT/etc/debian_version") ($RELEASE) passed the offline stages"
