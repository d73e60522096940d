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
per GiB, and against curl the speed ratio (>1 = the engine is faster; goal >= 1.0) and the CPU ratios
(goal <= 1.2). Two CPU figures: the client's (the tool's own processes, user and system apart), and the
host's (the whole machine's busy time but the simulator's, until the bytes are on disk). They differ in the
writeback of the dirty pages: curl leaves it to the kernel's flusher threads, which the client's figure
does not count, while the engine starts it itself (so that a journal line never claims bytes not on disk).
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

from common import cpu as client_cpu, engine_copy, host_cpu, warm_memory

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


def since(before, after):
    return tuple(b - a for a, b in zip(before, after))


def measure(work):
    """``work()`` timed from a clean page cache: (wall seconds, the client's (user, system) CPU seconds, the host's
    CPU seconds until the bytes are on disk, what ``work`` returned). The client's CPU is this process's and its
    children's (curl, qemu-img, the four engines' processes); the host's is every process's and the kernel's own threads'
    (the writeback of the dirty pages a tool leaves, which curl leaves to them), less the simulator's."""
    os.sync()  # no dirty pages of an earlier measurement are written back during this one
    client, host, start = client_cpu(), host_cpu(), time.monotonic()
    extra = work()
    seconds, client = time.monotonic() - start, since(client, client_cpu())
    os.sync()
    return seconds, client, host_cpu() - host, extra


def curl_cmd(vm, session, target):
    return ["curl", "-sf", "--cacert", CA, "-H", "Cookie: " + session.split(";")[0], "-o", target, url(vm)]


def run_curls(vms, session):
    targets = [os.path.join(OUT, "bench-curl-%d.raw" % i) for i in range(len(vms))]
    clean(*targets)

    def work():
        procs = [subprocess.Popen(curl_cmd(vm, session, t)) for vm, t in zip(vms, targets)]
        if any(p.wait() != 0 for p in procs):
            sys.exit("curl failed")
    result = measure(work)
    clean(*targets)
    return result


def engine_files(index, fmt):
    final = os.path.join(OUT, "bench-engine-%d.%s" % (index, fmt))
    return final, final + ".part", os.path.join(WORK, "bench-%d.journal" % index)


def engine(vm, session, fmt, workers, index=0):
    """What vm_migrate does for one disk: descriptor, copy with checksums, flush, finalise. Returns its statistics."""
    final, part, journal = engine_files(index, fmt)
    clean(final, part, journal)
    stats = engine_copy(vm["datacenter"], vm["datastore"], vm["path"], session, final, fmt, Journal(journal, {"i": index}), workers)
    stats["allocated_bytes"] = os.stat(final).st_blocks * 512
    return stats


def engine_worker(args):
    return engine(*args)


def one_engine(vm, session, fmt, workers):
    result = measure(lambda: engine(vm, session, fmt, workers))
    clean(*engine_files(0, fmt))
    return result


def row(label, measured, nbytes, base=None):
    """One measure: wall time, rate, CPU per GiB (the client's user and system, the host's), and against ``base``
    (curl's measure): the speed ratio and the CPU ratios. Returns (speed, client CPU, host CPU) ratios, or None."""
    seconds, cpu, host = measured[:3]
    gib = nbytes / float(GIB)
    ratios = None if base is None else (base[0] / seconds, sum(cpu) / sum(base[1]), host / base[2])
    print("  %-40s %6.2f s %5.0f MB/s %5.2f user + %5.2f sys, host %5.2f CPU-s/GiB %s" % (
        label, seconds, nbytes / seconds / 1e6, cpu[0] / gib, cpu[1] / gib, host / gib,
        "" if ratios is None else "%5.2fx speed, CPU %5.2fx, host %5.2fx" % ratios))
    return ratios


def median_runs(measures, repeat):
    """Each measure run ``repeat`` times, round-robin so that drift touches all alike; the median run of each
    (by seconds)."""
    runs = dict((label, []) for label, fn in measures)
    for dummy in range(repeat):
        for label, fn in measures:
            runs[label].append(fn())
    return dict((label, sorted(r, key=lambda x: x[0])[len(r) // 2]) for label, r in runs.items())


def curl_convert(vm, session):
    target = os.path.join(OUT, "bench-curl-convert.raw")
    qcow = target + ".qcow2"
    clean(target, qcow)

    def work():
        subprocess.run(curl_cmd(vm, session, target), check=True)
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", target, qcow], check=True)
    result = measure(work)
    clean(target, qcow)
    return result


def four_engines(vms, session, workers):
    def work():
        with multiprocessing.get_context("fork").Pool(4) as pool:
            pool.map(engine_worker, [(v, session, "raw", workers, i) for i, v in enumerate(vms)])
    result = measure(work)
    for i in range(len(vms)):
        clean(*engine_files(i, "raw"))
    return result


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
                             ("raw", lambda: one_engine(vm, session, "raw", args.workers)),
                             ("qcow2", lambda: one_engine(vm, session, "qcow2", args.workers)),
                             ("convert", lambda: curl_convert(vm, session))], args.repeat)
            row("curl -o (one stream)", m["curl"], size)
            for fmt, label in (("raw", "engine, raw out (copy+checksums)"), ("qcow2", "engine, qcow2 out (copy+checksums)")):
                ratios["%dG %s vs curl" % (gib, fmt)] = row(label, m[fmt], size, m["curl"])
                stats = m[fmt][3]
                print("  %-40s %s (allocated %d MiB of %d MiB)" % (
                    "  zero regions left unallocated", stats["allocated_bytes"] <= size - size // 4 + 2 * MIB,
                    stats["allocated_bytes"] // MIB, size // MIB))
            row("curl -o, then qemu-img convert (qcow2)", m["convert"], size, m["curl"])
        image = os.path.join(WORK, "disk-1g.raw")
        make_image(image, GIB)
        vms = [source_vm("bench-disk-par%d" % i, image) for i in range(4)]
        print("\nfour 1 GiB disks at once, median of %d runs" % args.repeat)
        m = median_runs([("curls", lambda: run_curls(vms, session)),
                         ("engines", lambda: four_engines(vms, session, args.workers))], args.repeat)
        row("four curl -o at once", m["curls"], 4 * GIB)
        ratios["4x1G raw vs 4 curls"] = row("four engines at once, raw out", m["engines"], 4 * GIB, m["curls"])
    finally:
        Disconnect(si)
        env = dict(os.environ, VMWARE_CA_PATH=CA)
        for name in ["bench-disk-%sg" % s for s in sizes] + ["bench-disk-par%d" % i for i in range(4)]:
            subprocess.run([sys.executable, WORKLOAD, "delete", name], env=env, check=False)
    # the bars: each engine at least as fast as curl, on at most 1.2 times curl's CPU for each GiB
    print("\nratios (engine / curl: speed, goal >= 1.0; CPU per GiB, the client's and the host's, goal <= 1.2)")
    for key, (speed, cpu, host) in ratios.items():
        print("  %-22s speed %5.2fx %-8s CPU %5.2fx %-8s host CPU %5.2fx %s" % (
            key, speed, "met" if speed >= 1.0 else "NOT met", cpu, "met" if cpu <= 1.2 else "NOT met", host,
            "met" if host <= 1.2 else "NOT met"))
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
