# shellcheck shell=bash
# Build the lab's real guest: Debian 12 as it lives on VMware, from Debian packages only.
#
#   build-debian.sh OUT_DIR
#
# Produces OUT_DIR/debian.raw (3 GiB, sparse): an msdos label, one ext4 partition (fstab by UUID),
# systemd, Debian's kernel and GRUB on the disk itself (it boots alone), open-vm-tools, a fixed host name
# and machine-id, and a static IPv4 address on ens2, the name a vmxnet3 NIC in PCI slot 2 gets. Its
# initramfs holds the drivers of VMware-like hardware only (pvscsi, vmxnet3; MODULES=list), so it has
# no virtio block driver: on virtio it does not find its root file system until it is converted. Once
# up it prints READY_MARKER with its host name and machine-id, then its failed units, on the serial
# console (ttyS0). OUT_DIR/debian.json says what a test checks against. Cached: rebuilt only when this
# script changes. Needs root, debootstrap, sfdisk and losetup.
set -euo pipefail

OUT=${1:?usage: build-debian.sh OUT_DIR}
SELF_SUM=$(sha256sum "$0" | cut -c1-16)
HOSTNAME_=vmshift-real-guest
MACHINE_ID=5e1f0c2a7d3b4e6f8a9b0c1d2e3f4a5b
ROOT_UUID=7f3c2a1e-5b4d-4e6f-9a8b-0c1d2e3f4a5b
ADDRESS=198.18.254.50/24  # RFC 2544 benchmarking range: no interface of the lab machine is on it
IFACE=ens2
READY_MARKER=VMSHIFT-REAL-GUEST-READY
mkdir -p "$OUT"
if [[ -s "$OUT/debian.raw" && "$(cat "$OUT/debian.stamp" 2>/dev/null)" == "$SELF_SUM" ]]; then
  echo "real guest image up to date: $OUT/debian.raw"
  exit 0
fi

# The Debian mirror this machine's apt uses (deb822 or one-line sources), not a security suite.
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/{print $2}' | grep -v security | head -1 || true)
[[ -n "$mirror" ]] || mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | grep -v security | awk '{print $2}' | head -1 || true)
[[ -n "$mirror" ]] || { echo "no Debian mirror in the apt sources" >&2; exit 1; }

WORK=$(mktemp -d /var/tmp/vmshift-guest.XXXXXX)
ROOT=$WORK/root
LOOP=""
cleanup() {
  for m in dev/pts dev proc sys ""; do umount "$ROOT/$m" 2>/dev/null || true; done
  if [[ -n "$LOOP" ]]; then losetup -d "$LOOP" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

truncate -s 3G "$WORK/disk.raw"
echo 'start=2048, type=83, bootable' | sfdisk -q "$WORK/disk.raw"
LOOP=$(losetup -f --show -P "$WORK/disk.raw")
# No udev here: the kernel's partition scan (devtmpfs) makes the partition device, or partx does.
for _ in $(seq 50); do [[ -b "${LOOP}p1" ]] && break; sleep 0.1; done
[[ -b "${LOOP}p1" ]] || partx -u "$LOOP"
mkfs.ext4 -q -L root -U "$ROOT_UUID" "${LOOP}p1"
mkdir -p "$ROOT"
mount "${LOOP}p1" "$ROOT"

debootstrap --variant=minbase --include=systemd-sysv,udev,ifupdown,iproute2,iputils-ping,kmod \
  bookworm "$ROOT" "$mirror"
for m in dev dev/pts proc sys; do mount --bind "/$m" "$ROOT/$m"; done

echo "$HOSTNAME_" >"$ROOT/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 %s\n' "$HOSTNAME_" >"$ROOT/etc/hosts"
echo "$MACHINE_ID" >"$ROOT/etc/machine-id"
echo "UUID=$ROOT_UUID / ext4 errors=remount-ro 0 1" >"$ROOT/etc/fstab"
cat >"$ROOT/etc/network/interfaces" <<NET
auto lo
iface lo inet loopback

auto $IFACE
iface $IFACE inet static
    address $ADDRESS
NET
# The hardware this guest was installed on, and nothing else, in its initramfs.
mkdir -p "$ROOT/etc/initramfs-tools/conf.d"
echo "MODULES=list" >"$ROOT/etc/initramfs-tools/conf.d/vmshift.conf"
printf '%s\n' vmw_pvscsi sd_mod vmxnet3 ext4 >"$ROOT/etc/initramfs-tools/modules"
cat >"$ROOT/etc/default/grub" <<GRUB
GRUB_DEFAULT=0
GRUB_TIMEOUT=0
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT=""
# rootdelay: a root device that never comes (an unconverted guest on virtio) fails in 15 s, not 180.
GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200 rootdelay=15"
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --speed=115200"
GRUB_DISABLE_OS_PROBER=true
GRUB
cat >"$ROOT/usr/local/sbin/vmshift-ready" <<'READY'
#!/bin/sh
sleep 2
echo "$1 $(hostname) $(cat /etc/machine-id) $(ip -4 -o addr show "$2" | awk '{print $4}')" >/dev/ttyS0
echo "VMSHIFT-FAILED-UNITS: $(systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')" >/dev/ttyS0
READY
chmod 755 "$ROOT/usr/local/sbin/vmshift-ready"
cat >"$ROOT/etc/systemd/system/vmshift-ready.service" <<UNIT
[Unit]
Description=Say on the serial console that the guest is up
After=multi-user.target networking.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/vmshift-ready $READY_MARKER $IFACE
[Install]
WantedBy=multi-user.target
UNIT

in_root() { chroot "$ROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
echo "grub-pc grub-pc/install_devices_empty boolean true" | in_root debconf-set-selections
in_root apt-get install -y -q --no-install-recommends linux-image-amd64 grub-pc open-vm-tools initramfs-tools
in_root systemctl enable vmshift-ready.service
in_root systemctl enable networking.service
in_root update-initramfs -u -k all
in_root grub-install --target=i386-pc "$LOOP"
in_root update-grub
# update-grub names the build's loop device; the disk boots by its file system's UUID.
sed -i -E "s#root=/dev/loop[0-9]+p1#root=UUID=$ROOT_UUID#g" "$ROOT/boot/grub/grub.cfg"
grep -q "root=UUID=$ROOT_UUID" "$ROOT/boot/grub/grub.cfg"
in_root apt-get clean

initrd=$(ls "$ROOT"/boot/initrd.img-*)
modules=$(in_root lsinitramfs "/boot/$(basename "$initrd")" | grep -oE '[A-Za-z0-9_-]+\.ko(\.[a-z]+)?$' | sort -u | tr '\n' ' ')
case " $modules " in
  *" virtio_blk.ko"*|*" virtio_scsi.ko"*) echo "the initramfs has a virtio block driver: $modules" >&2; exit 1 ;;
esac
case " $modules " in
  *" vmw_pvscsi.ko"*) ;;
  *) echo "the initramfs lacks vmw_pvscsi: $modules" >&2; exit 1 ;;
esac

for m in dev/pts dev proc sys ""; do umount "$ROOT/$m"; done
sync; losetup -d "$LOOP"; LOOP=""  # detaching drops the partition device too
mv "$WORK/disk.raw" "$OUT/debian.raw"
cat >"$OUT/debian.json" <<JSON
{"hostname": "$HOSTNAME_", "machine_id": "$MACHINE_ID", "root_uuid": "$ROOT_UUID", "address": "$ADDRESS",
 "interface": "$IFACE", "ready_marker": "$READY_MARKER", "initramfs_modules": "$modules"}
JSON
echo "$SELF_SUM" >"$OUT/debian.stamp"
echo "real guest image built: $OUT/debian.raw"
