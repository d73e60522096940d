# shellcheck shell=bash
# Build the lab's tiny bootable test guest from Debian packages, without mounting anything.
#
#   build.sh OUT_DIR
#
# Produces OUT_DIR/guest.raw: a FAT "superfloppy" disk with syslinux as bootloader, Debian's cloud
# kernel and an initramfs whose init (busybox) prints the marker below on the serial console
# (ttyS0), followed by the disk's serial number when the kernel passes it. The image is cached: it is
# rebuilt only when this script changes. Convert it with `qemu-img convert -O vmdk` for vSphere.
set -euo pipefail

OUT=${1:?usage: build.sh OUT_DIR}
MARKER=${VMSHIFT_GUEST_MARKER:-VMSHIFT-GUEST-READY}
SELF_SUM=$(sha256sum "$0" | cut -c1-16)
mkdir -p "$OUT"
if [[ -s "$OUT/guest.raw" && "$(cat "$OUT/guest.stamp" 2>/dev/null)" == "$SELF_SUM" ]]; then
  echo "guest image up to date: $OUT/guest.raw"
  exit 0
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

kpkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
[[ -n "$kpkg" ]] || { echo "cannot resolve Debian's cloud kernel package (run apt-get update)" >&2; exit 1; }
apt-get download -q "$kpkg" busybox-static >/dev/null
dpkg -x linux-image-*.deb kernel
dpkg -x busybox-static_*.deb bb
vmlinuz=$(ls kernel/boot/vmlinuz-*)

mkdir -p initrd/{bin,dev,proc,sys,sbin,lib/modules}
cp bb/bin/busybox initrd/bin/busybox
for applet in sh echo cat mount sleep poweroff ls uname insmod ip udhcpc ifconfig; do
  ln -s busybox "initrd/bin/$applet"
done
# virtio-net and what it needs, in load order, so the guest can ask a libvirt network for a DHCP lease.
NET_MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net"
for m in $NET_MODULES; do
  find kernel/lib/modules -name "$m.ko" -exec cp {} initrd/lib/modules/ \;
done
cat > initrd/bin/dhcp-event <<'DHCP'
#!/bin/sh
[ "$1" = bound ] || exit 0
ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
echo "VMSHIFT-GUEST-IP $ip" > /dev/console
DHCP
chmod +x initrd/bin/dhcp-event
cat > initrd/init <<INIT
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "$MARKER kernel=\$(uname -r)" > /dev/console
for m in $NET_MODULES; do insmod /lib/modules/\$m.ko 2>/dev/null; done
for nic in /sys/class/net/eth*; do
  [ -e "\$nic" ] || continue
  nic=\${nic##*/}
  ip link set "\$nic" up
  udhcpc -i "\$nic" -n -q -t 5 -T 2 -s /bin/dhcp-event >/dev/null 2>&1 &
done
while true; do sleep 3600; done
INIT
chmod +x initrd/init
(cd initrd && find . | cpio -o -H newc --quiet | gzip -9) > initrd.gz

cat > syslinux.cfg <<CFG
DEFAULT vmshift
PROMPT 0
TIMEOUT 1
LABEL vmshift
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND console=ttyS0,115200 quiet panic=5
CFG

truncate -s 32M guest.raw
mkfs.fat -n VMSHIFT guest.raw >/dev/null
syslinux --install guest.raw
mcopy -i guest.raw "$vmlinuz" ::vmlinuz
mcopy -i guest.raw initrd.gz ::initrd.gz
mcopy -i guest.raw syslinux.cfg ::syslinux.cfg
mv guest.raw "$OUT/guest.raw.tmp"
mv "$OUT/guest.raw.tmp" "$OUT/guest.raw"
echo "$SELF_SUM" > "$OUT/guest.stamp"
echo "built guest image: $OUT/guest.raw (kernel $kpkg)"
