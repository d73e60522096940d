# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real guest's downtime: vmshift against the field's own path, in the same run, on the same disk.

    bash benchmarks/run.sh real_guest [ROUNDS]

The lab's real Debian 12 guest (tests/lab/guest/build-debian.sh) is a running simulator VM, twice.
- vmshift: vm_migrate with its defaults (ad-hoc `ansible`): inspection before the power-off (not downtime),
  power-off, copy, interface names pinned, virt-v2v-in-place, define and start; then the guest is pinged
  until it answers on its static address.
- the field's path: power-off, `curl -o` of the flat disk from the datastore, `virt-v2v -i disk ... -o local
  -of qcow2` (conversion and its own copy into qcow2), the output booted on the same virtio hardware; then
  the serial console is watched for the guest's ready line and its address pinged.
Downtime runs from the source's power-off to the first answer (for the field's path, which keeps no
interface name, to the ready line when no answer comes). Each phase is printed, and the ratio last; each
path's client CPU per GiB of disk (user and system) beside its wall time. Goal: vmshift <= 1.0x.
ROUNDS (2) rounds, the two paths in turn (which goes first alternates), the medians compared: a conversion's
time under TCG varies by tens of seconds from run to run, mostly in the trim of its file systems ("Mapping
filesystem data", printed for the field's path).
"""
import re
import statistics
import json
import os
import shutil
import subprocess
import sys
import time

from common import cpu, cpu_per_gib, session_cookie

LAB = os.environ.get("VMSHIFT_LAB_DIR", "/var/lib/vmshift-lab")
WORK = os.path.join(LAB, "bench-real")
REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
WORKLOAD = os.path.join(REPO, "tests", "lab", "workload.py")
CA = os.environ["VMSHIFT_LAB_CA"]
GUEST = json.load(open(os.path.join(LAB, "guest", "debian.json")))
IMAGE = os.path.join(LAB, "guest", "debian.raw")
HOST_ADDRESS = "198.18.254.254/24"
ENV = dict(os.environ, VMWARE_CA_PATH=CA, LIBGUESTFS_BACKEND="direct", LIBGUESTFS_BACKEND_SETTINGS="force_tcg")
BRIDGE = os.environ["VMSHIFT_LAB_BRIDGE"]


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, text=True, env=ENV, **kwargs).stdout


def workload(*args):
    return run([sys.executable, WORKLOAD] + list(args))


def until_answered(serial, started, limit=600):
    """Seconds from ``started`` to the guest's ready line on ``serial`` and to its first answer to ping
    (None when it never answers)."""
    ready = None
    address = GUEST["address"].split("/")[0]
    while time.monotonic() - started < limit:
        if ready is None and os.path.exists(serial):
            with open(serial, errors="replace") as f:
                if GUEST["ready_marker"] + " " in f.read():
                    ready = time.monotonic() - started
        if subprocess.run(["ping", "-c", "1", "-W", "1", address], stdout=subprocess.DEVNULL, check=False).returncode == 0:
            return ready, time.monotonic() - started
        if ready is not None and time.monotonic() - started - ready > 60:
            return ready, None  # up for a minute and still silent: its address is gone
        time.sleep(0.5)
    return ready, None


def domain_xml(name, disk, serial, mac):
    """The field's output on virtio hardware. Its NIC lands in PCI slot 2, where the guest's own name (ens2)
    comes from: on real VMware the name is ens160/ens192, which no slot here gives back."""
    return """<domain type='%s'><name>%s</name><memory unit='MiB'>512</memory><vcpu>1</vcpu>
      <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><features><acpi/></features>
      <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='%s'/>
      <target dev='vda' bus='virtio'/></disk><interface type='bridge'><mac address='%s'/><source bridge='%s'/>
      <model type='virtio'/></interface><serial type='file'><source path='%s'/><target port='0'/></serial></devices></domain>""" % (
        os.environ["VMSHIFT_LAB_DOMAIN_TYPE"], name, disk, mac, BRIDGE, serial)


def cleanup(names):
    for name in names:
        subprocess.run(["virsh", "-q", "destroy", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        subprocess.run(["virsh", "-q", "undefine", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        subprocess.run([sys.executable, WORKLOAD, "delete", name], env=ENV, check=False)
        for entry in os.listdir(os.path.join(LAB, "pool")):
            if entry.startswith(name):
                os.unlink(os.path.join(LAB, "pool", entry))
    subprocess.run(["virsh", "-q", "pool-refresh", os.environ["VMSHIFT_LAB_POOL"]], stdout=subprocess.DEVNULL, check=False)


def vmshift(name, mac):
    serial = os.path.join(LAB, "log", name + ".serial")
    args = dict(name=name, ca_path=CA, pool=os.environ["VMSHIFT_LAB_POOL"], domain_type=os.environ["VMSHIFT_LAB_DOMAIN_TYPE"],
                network_map={"VM Network": {"bridge": BRIDGE}}, work_dir=os.path.join(WORK, "records"), wait_for="none",
                serial_log=serial)
    before = cpu()
    proc = subprocess.run([os.path.join(os.environ["VMSHIFT_VENV"], "bin", "ansible"), "localhost", "-o", "-m",
                           "vmshift.virt.vm_migrate", "-a", json.dumps(args), "-e", "ansible_python_interpreter=" + sys.executable],
                          stdout=subprocess.PIPE, text=True, env=ENV, check=False)
    ended = time.monotonic()
    used = tuple(b - a for a, b in zip(before, cpu()))
    if proc.returncode != 0:
        sys.exit("vm_migrate failed:\n" + proc.stdout[-3000:])
    result = json.loads(proc.stdout.split("=>", 1)[1])
    steps = dict((s["step"], s["seconds"]) for s in result["steps"])
    ready, answered = until_answered(serial, ended)
    phases = [("inspection (before the power-off)", result["guest"]["seconds"], False)]
    phases += [(step, steps[step], True) for step in ("power_off", "copy", "pin_names", "convert", "define", "start") if step in steps]
    phases += [("boot to the ready line", ready, True), ("boot to ping", answered, True)]
    downtime = sum(s for p, s, down in phases[:-2] if down) + (answered if answered is not None else ready or 0)
    return phases, downtime, answered is not None, used


def field(name, mac):
    serial = os.path.join(LAB, "log", name + ".serial")
    out = os.path.join(WORK, "v2v")
    os.makedirs(out)
    info = json.loads(workload("info", name))
    flat = info["disks"][0][1:].split("] ", 1)[1][:-5] + "-flat.vmdk"
    cookie = session_cookie()
    before = cpu()
    start = time.monotonic()
    workload("power", name, "off")
    off = time.monotonic()
    raw = os.path.join(WORK, name + ".raw")
    run(["curl", "-sf", "--cacert", CA, "-H", "Cookie: " + cookie, "-o", raw,
         "https://%s:%s/folder/%s?dcPath=DC0&dsName=LocalDS_0" % (os.environ["VMWARE_HOST"], os.environ["VMWARE_PORT"], flat)])
    copied = time.monotonic()
    said = run(["virt-v2v", "-i", "disk", raw, "-o", "local", "-os", out, "-of", "qcow2", "-on", name])
    converted = time.monotonic()
    # virt-v2v's own timestamps: the trim of the guest's file systems, from "Mapping filesystem data" to the next line
    marks = re.findall(r"^\[\s*([\d.]+)\] (.*)$", said, re.M)
    trim = next((float(marks[i + 1][0]) - float(t) for i, (t, what) in enumerate(marks[:-1]) if what.startswith("Mapping")), None)
    disk = os.path.join(LAB, "pool", name + "-sda.qcow2")
    shutil.move(os.path.join(out, name + "-sda"), disk)
    run(["virsh", "-q", "create", "/dev/stdin"], input=domain_xml(name, disk, serial, mac))
    defined = time.monotonic()
    used = tuple(b - a for a, b in zip(before, cpu()))
    ready, answered = until_answered(serial, defined)
    phases = [("power_off", off - start, True), ("copy (curl -o)", copied - off, True),
              ("convert (virt-v2v -i disk -o local)", converted - copied, True),
              ("  of which the trim of its file systems", trim, False),  # within the conversion: counted there
              ("define and start", defined - converted, True),
              ("boot to the ready line", ready, True), ("boot to ping", answered, True)]
    downtime = (defined - start) + (answered if answered is not None else ready or 0)
    return phases, downtime, answered is not None, used


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    names = {"vmshift": ("bench-real-a", "00:50:56:40:00:01"), "field": ("bench-real-b", "00:50:56:40:00:02")}
    cleanup(n for n, m in names.values())
    subprocess.run(["ip", "addr", "replace", HOST_ADDRESS, "dev", BRIDGE], check=True)
    try:
        results = dict((path, []) for path in names)
        for i in range(rounds):
            for path in (("vmshift", "field") if i % 2 == 0 else ("field", "vmshift")):
                name, mac = names[path]
                workload("create", name, IMAGE, "--mac", mac, "--memory-mib", "512")
                # one at a time: each has both cores, and the guest's address is the same
                results[path].append((vmshift if path == "vmshift" else field)(name, mac))
                cleanup([name])
                shutil.rmtree(os.path.join(WORK, "v2v"), ignore_errors=True)
        size = os.path.getsize(IMAGE)
        print("real guest (%s, %.1f GiB disk), source running; downtime from power-off to the first answer; median of %d "
              "rounds" % (GUEST["hostname"], size / float(1 << 30), rounds))
        downtimes = {}
        for path, runs in results.items():
            downtimes[path] = statistics.median(r[1] for r in runs)
            print("  %s: downtime %.1f s (runs: %s)%s; client CPU %s" % (
                path, downtimes[path], ", ".join("%.1f" % r[1] for r in runs),
                "" if all(r[2] for r in runs) else " (to the ready line where it never answered on its static address)",
                cpu_per_gib([r[3] for r in runs], size)))
            for j, (phase, dummy, down) in enumerate(runs[0][0]):
                seconds = [r[0][j][1] for r in runs if r[0][j][1] is not None]
                shown = ("%.1f s (runs: %s)" % (statistics.median(seconds), ", ".join("%.1f" % x for x in seconds))
                         if seconds else "after the answer" if phase.startswith("boot") else "not said")
                print("    %-40s %s%s" % (phase, shown, "" if down or phase.startswith("  ") else " (not downtime)"))
        print("  ratio vmshift / field: %.2fx (goal <= 1.0x); per round: %s" % (
            downtimes["vmshift"] / downtimes["field"],
            ", ".join("%.2fx" % (a[1] / b[1]) for a, b in zip(results["vmshift"], results["field"]))))
    finally:
        subprocess.run(["ip", "addr", "del", HOST_ADDRESS, "dev", BRIDGE], check=False)
        cleanup(n for n, m in names.values())
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
