# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The disk copy engine against curl, side by side in one run, over the lab simulator's HTTPS
/folder endpoint (loopback TLS).

    bash benchmarks/run.sh disk_copy [--sizes-gib 1,4] [--workers 4] [--repeat 3]

Disks are random data with zero regions (16 MiB of every 64 MiB), put into simulator VMs by the
lab's workload helper. Measured in the same run, each on a cold target file:
  curl -o (one stream)             vs  the engine, raw out and qcow2 out (copy + checksums + flush + finalise)
  four curl -o at once (4 disks)   vs  four engines at once (4 processes, as 4 vm_migrate tasks)
  curl -o, then qemu-img convert   (the usual two-step qcow2 route)
Each measure runs --repeat times (3), round-robin; the median run is printed: seconds, MB/s, CPU seconds
per GiB (user and system apart), and against curl the speed ratio (>1 = the engine is faster; goal >= 1.0)
and the CPU ratio (goal <= 1.2).
"""
import argparse
import json
import multiprocessing
import os
import shutil
import ssl
import subprocess
import sys
import time

from pyVim.connect import Disconnect, SmartConnect

from common import engine_copy, warm_memory

from ansible_collections.vmshift.virt.plugins.module_utils.migration.disk_copy import MIB, Journal

GIB = 1024 * MIB
LAB = os.environ.get("VMSHIFT_LAB_DIR", "/var/lib/vmshift-lab")
WORK = os.path.join(LAB, "bench-disk")
OUT = os.path.join(LAB, "pool")  # where vm_migrate writes: the lab pool's filesystem
CA = os.environ["VMSHIFT_LAB_CA"]
HOST, PORT = os.environ["VMWARE_HOST"], int(os.environ["VMWARE_PORT"])
WORKLOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lab", "workload.py")


def make_image(path, size):
    """Random data, 16 MiB of zeros in every 64 MiB."""
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    with open(path, "wb") as f:
        for offset in range(0, size, 64 * MIB):
            f.write(os.urandom(48 * MIB))
            f.truncate(offset + 64 * MIB)
            f.seek(offset + 64 * MIB)


def source_vm(name, image):
    env = dict(os.environ, VMWARE_CA_PATH=CA)
    out = subprocess.run([sys.executable, WORKLOAD, "create", name, image, "--power", "off"], env=env, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    info = json.loads(out)
    ds, path = info["disk"][1:].split("] ", 1)
    return {"datacenter": info["datacenter"], "datastore": ds, "path": path, "flat": path[:-5] + "-flat.vmdk"}


def cookie():
    si = SmartConnect(host=HOST, port=PORT, user=os.environ["VMWARE_USER"], pwd=os.environ["VMWARE_PASSWORD"],
                      sslContext=ssl.create_default_context(cafile=CA))
    value = si._stub.cookie
    return si, value


def url(vm):
    return "https://%s:%d/folder/%s?dcPath=%s&dsName=%s" % (HOST, PORT, vm["flat"], vm["datacenter"], vm["datastore"])


def clean(*paths):
    for path in paths:
        if os.path.exists(path):
            os.unlink(path)


def children_cpu():
    """(user, system) CPU seconds of this process's finished children (curl, qemu-img)."""
    usage = os.times()
    return usage.children_user, usage.children_system


def own_cpu():
    """(user, system) CPU seconds of this process (the engine, its threads included)."""
    usage = os.times()
    return usage.user, usage.system


def since(before, after):
    return tuple(b - a for a, b in zip(before, after))


def curl_cmd(vm, session, target):
    return ["curl", "-sf", "--cacert", CA, "-H", "Cookie: " + session.split(";")[0], "-o", target, url(vm)]


def run_curls(vms, session):
    targets = [os.path.join(OUT, "bench-curl-%d.raw" % i) for i in range(len(vms))]
    clean(*targets)
    os.sync()  # no dirty pages of an earlier measurement are written back during this one
    cpu, start = children_cpu(), time.monotonic()
    procs = [subprocess.Popen(curl_cmd(vm, session, t)) for vm, t in zip(vms, targets)]
    if any(p.wait() != 0 for p in procs):
        sys.exit("curl failed")
    result = time.monotonic() - start, since(cpu, children_cpu())
    clean(*targets)
    return result


def engine(vm, session, fmt, workers, index=0):
    """What vm_migrate does for one disk: descriptor, copy with checksums, flush, finalise. Returns (seconds, cpu, stats)."""
    final = os.path.join(OUT, "bench-engine-%d.%s" % (index, fmt))
    journal = Journal(os.path.join(WORK, "bench-%d.journal" % index), {"i": index})
    clean(final + ".part", final, journal.path)
    os.sync()
    cpu, start = own_cpu(), time.monotonic()
    stats = engine_copy(vm["datacenter"], vm["datastore"], vm["path"], session, final, fmt, journal, workers)
    seconds, used = time.monotonic() - start, since(cpu, own_cpu())
    stats["allocated_bytes"] = os.stat(final).st_blocks * 512
    clean(final + ".part", final, journal.path)
    return seconds, used, stats


def engine_worker(args):
    return engine(*args)


def row(label, seconds, cpu, nbytes, base=None):
    """One measure: wall time, rate, CPU per GiB (user and system), and against ``base`` (curl's (seconds, cpu)):
    the speed ratio and the CPU ratio. Returns (speed ratio, CPU ratio), or None without a base."""
    gib = nbytes / float(GIB)
    user, system = cpu[0] / gib, cpu[1] / gib
    ratios = None if base is None else (base[0] / seconds, sum(cpu) / sum(base[1]))
    print("  %-44s %7.2f s %7.0f MB/s %5.2f user + %5.2f sys CPU-s/GiB %s" % (
        label, seconds, nbytes / seconds / 1e6, user, system,
        "" if ratios is None else "%6.2fx speed, %5.2fx CPU" % ratios))
    return ratios


def median_runs(measures, repeat):
    """Each measure run ``repeat`` times, round-robin so that drift touches all alike; the median run of each
    (by seconds) as (seconds, cpu, extra)."""
    runs = dict((label, []) for label, fn in measures)
    for dummy in range(repeat):
        for label, fn in measures:
            runs[label].append(fn())
    return dict((label, sorted(r, key=lambda x: x[0])[len(r) // 2]) for label, r in runs.items())


def curl_convert(vm, session):
    target = os.path.join(OUT, "bench-curl-convert.raw")
    qcow = target + ".qcow2"
    clean(target, qcow)
    os.sync()
    cpu0, start = children_cpu(), time.monotonic()
    subprocess.run(curl_cmd(vm, session, target), check=True)
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", target, qcow], check=True)
    result = time.monotonic() - start, since(cpu0, children_cpu())
    clean(target, qcow)
    return result


def four_engines(vms, session, workers):
    os.sync()
    start = time.monotonic()
    with multiprocessing.get_context("fork").Pool(4) as pool:
        results = pool.map(engine_worker, [(v, session, "raw", workers, i) for i, v in enumerate(vms)])
    return time.monotonic() - start, tuple(sum(r[1][i] for r in results) for i in (0, 1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes-gib", default="1,4")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measure; the median is printed")
    args = parser.parse_args()
    os.makedirs(WORK, exist_ok=True)
    si, session = cookie()
    ratios = {}
    sizes = [int(s) for s in args.sizes_gib.split(",")]
    warm_memory(OUT, (2 * max(sizes + [4]) + 1) * GIB)
    try:
        for gib in sizes:
            size = gib * GIB
            image = os.path.join(WORK, "disk-%dg.raw" % gib)
            make_image(image, size)
            vm = source_vm("bench-disk-%dg" % gib, image)
            print("\n%d GiB disk (25%% zeros), %d workers per engine, median of %d runs" % (gib, args.workers, args.repeat))
            m = median_runs([("curl", lambda: run_curls([vm], session)),
                             ("raw", lambda: engine(vm, session, "raw", args.workers)),
                             ("qcow2", lambda: engine(vm, session, "qcow2", args.workers)),
                             ("convert", lambda: curl_convert(vm, session))], args.repeat)
            base = m["curl"][:2]
            row("curl -o (one stream)", m["curl"][0], m["curl"][1], size)
            for fmt, label in (("raw", "engine, raw out (copy+checksums)"), ("qcow2", "engine, qcow2 out (copy+checksums)")):
                seconds, cpu, stats = m[fmt]
                ratios["%dG %s vs curl" % (gib, fmt)] = row(label, seconds, cpu, size, base)
                print("  %-44s %s (allocated %d MiB of %d MiB)" % (
                    "  zero regions left unallocated", stats["allocated_bytes"] <= size - size // 4 + 2 * MIB,
                    stats["allocated_bytes"] // MIB, size // MIB))
            row("curl -o, then qemu-img convert (qcow2)", m["convert"][0], m["convert"][1], size, base)
        image = os.path.join(WORK, "disk-1g.raw")
        make_image(image, GIB)
        vms = [source_vm("bench-disk-par%d" % i, image) for i in range(4)]
        print("\nfour 1 GiB disks at once, median of %d runs" % args.repeat)
        m = median_runs([("curls", lambda: run_curls(vms, session)),
                         ("engines", lambda: four_engines(vms, session, args.workers))], args.repeat)
        row("four curl -o at once", m["curls"][0], m["curls"][1], 4 * GIB)
        ratios["4x1G raw vs 4 curls"] = row("four engines at once, raw out", m["engines"][0], m["engines"][1], 4 * GIB,
                                            m["curls"])
    finally:
        Disconnect(si)
        env = dict(os.environ, VMWARE_CA_PATH=CA)
        for name in ["bench-disk-%sg" % s for s in sizes] + ["bench-disk-par%d" % i for i in range(4)]:
            subprocess.run([sys.executable, WORKLOAD, "delete", name], env=env, check=False)
    # the bars: each engine at least as fast as curl, on at most 1.2 times curl's CPU for each GiB
    print("\nratios (engine / curl: speed, goal >= 1.0; CPU per GiB, goal <= 1.2)")
    for key, (speed, cpu) in ratios.items():
        print("  %-28s speed %5.2fx %-8s CPU %5.2fx %s" % (
            key, speed, "met" if speed >= 1.0 else "NOT met", cpu, "met" if cpu <= 1.2 else "NOT met"))
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
