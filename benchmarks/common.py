# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmarks share: running an Ansible command from a venv and timing it."""
import os
import ssl
import statistics
import subprocess
import sys
import time

from ansible_collections.vmshift.virt.plugins.module_utils.migration.disk_copy import transfer
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.datastore import DatastoreFiles, disk_reader, parse_descriptor


def cpu():
    """(user, system) CPU seconds of this process and its finished children so far: what the client side of a
    measure costs (the simulator serving the data runs apart and is counted for no tool)."""
    times = os.times()
    return times.user + times.children_user, times.system + times.children_system


def host_cpu():
    """CPU seconds the whole machine has been busy so far (every process, and the kernel's threads that write dirty
    pages back), less the simulator's: what the KVM host pays, vCenter serving the data being elsewhere in an
    estate."""
    with open("/proc/stat", encoding="ascii") as f:
        user, nice, system, idle, iowait, irq, softirq = (int(x) for x in f.readline().split()[1:8])
    busy = user + nice + system + irq + softirq
    with open(os.path.join(os.environ.get("VMSHIFT_LAB_DIR", "/var/lib/vmshift-lab"), "vcsim.pid"), encoding="ascii") as f:
        with open("/proc/%d/stat" % int(f.read()), encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    simulator = int(fields[11]) + int(fields[12])  # utime, stime
    return float(busy - simulator) / os.sysconf("SC_CLK_TCK")


def cpu_per_gib(spans, nbytes):
    """'U user + S sys CPU-s/GiB', the medians of ``spans`` ((user, system) per run) over ``nbytes``."""
    gib = nbytes / float(1 << 30)
    user = statistics.median(u for u, s in spans) / gib
    system = statistics.median(s for u, s in spans) / gib
    return "%.2f user + %.2f sys CPU-s/GiB" % (user, system)


def session_cookie():
    """A logged-in session's cookie for the simulator's /folder endpoint (the session is left open: curl and the
    engine use it after this returns)."""
    from pyVim.connect import SmartConnect
    si = SmartConnect(host=os.environ["VMWARE_HOST"], port=int(os.environ["VMWARE_PORT"]), user=os.environ["VMWARE_USER"],
                      pwd=os.environ["VMWARE_PASSWORD"], sslContext=ssl.create_default_context(cafile=os.environ["VMSHIFT_LAB_CA"]))
    return si._stub.cookie.split(";")[0]


def timed(argv, venv, env_extra=None):
    """Run ``argv`` with ``venv``'s bin first on PATH; return (wall seconds, stdout). Exit on failure."""
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               **(env_extra or {}))
    env["PATH"] = os.path.join(venv, "bin") + ":" + env["PATH"]
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit("%s failed:\n%s\n%s" % (" ".join(argv), proc.stdout[-3000:], proc.stderr[-3000:]))
    return elapsed, proc.stdout


def timed_playbook(playbook, venv):
    """ansible-playbook from ``venv``, with that venv's Python for the modules."""
    return timed([os.path.join(venv, "bin", "ansible-playbook"), "-e",
                  "ansible_python_interpreter=" + os.path.join(venv, "bin", "python"), playbook], venv)


def warm_memory(directory, nbytes):
    """Write and delete ``nbytes`` in ``directory`` once before measuring. On a VM whose memory the
    hypervisor maps on first touch (this one), the first use of a guest page costs a host fault: without
    this, it lands on whichever tool runs first (measured: 1 GiB written in 1.4-2.7 s cold, 0.18 s warm)."""
    path = os.path.join(directory, "bench-warm.raw")
    block = os.urandom(16 * 1024 * 1024)
    with open(path, "wb") as f:
        for dummy in range(0, nbytes, len(block)):
            f.write(block)
    os.unlink(path)


def engine_copy(datacenter, datastore, path, cookie, final, fmt, journal, workers):
    """What vm_migrate does for one disk of the lab simulator (VMDK descriptor ``path``): read the descriptor,
    copy (checksummed, journaled, flushed) into ``final`` + '.part', rename. Returns the copy's statistics."""
    files = DatastoreFiles(os.environ["VMWARE_HOST"], int(os.environ["VMWARE_PORT"]),
                           ssl.create_default_context(cafile=os.environ["VMSHIFT_LAB_CA"]), cookie, datacenter, datastore)
    try:
        extents = parse_descriptor(files.read_text(path), path)
        return transfer(disk_reader(files, extents), sum(e["size"] for e in extents), final + ".part", final, fmt, journal,
                        workers=workers)
    finally:
        files.close()
