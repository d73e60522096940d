# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A migration wave against curl, in the same run: 20 simulator VMs with 256 MiB disks (random data)
migrated with 5 copies at a time onto the lab's libvirtd, against 20 `curl -o` of the same flat files,
5 at a time (xargs -P 5). Goal: the wave's wall time <= 1.2x curl's, and <= 1.1x curl's then sync.

    bash benchmarks/run.sh wave [VMS] [MIB] [PARALLEL] [ROUNDS]

As a migration team runs it: playbooks/plan_waves.yml once (discovery, assessment, the plan; timed and
printed on its own), then playbooks/migrate_wave.yml for wave 1 (the migration_wave role: each VM's
preflight, power-off of the sources, copy (checksummed, flushed), qcow2 out, domain definition, verification
of the domains, report). The guests are not booted (target_power_state: stopped), so the measure is the
migration, not QEMU's boot under TCG. ROUNDS (3) round-robin runs of both; the medians are compared
(runs here vary by 10-30 %, curl's the most). Also timed in each round: the copy engine alone on the same
disks, 5 at a time with 1 and with 4 ranged reads a disk (vm_migrate's default in a batch of 5 is 1), and
the host's CPU until the data is on disk (all but the simulator's, the writeback curl leaves to the kernel
included). The wave beyond the engine alone is printed: its fixed part, which a wave of small disks cannot
hide (`bash benchmarks/run.sh wave 20 1 5 1` measures it with 1 MiB disks).
Each round also runs the wave with its progress said every 2 s and without any (goal: progress adds at most
3 %), and each wave says before it starts how long it will take (migration_estimate in the role: the first
from a pilot read of the datastore and the defaults of the steps its VMs have, the next from the reports of
the waves before), printed against what it took (goal: within 25 %).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from common import cpu, cpu_per_gib, engine_copy, host_cpu, session_cookie, timed, warm_memory

from ansible_collections.vmshift.virt.plugins.module_utils.migration.disk_copy import Journal

LAB = os.environ.get("VMSHIFT_LAB_DIR", "/var/lib/vmshift-lab")
WORK = os.path.join(LAB, "bench-wave")
REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
WORKLOAD = os.path.join(REPO, "tests", "lab", "workload.py")
CA = os.environ["VMSHIFT_LAB_CA"]


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, text=True, env=dict(os.environ, VMWARE_CA_PATH=CA), **kwargs).stdout


def cleanup(names):
    for name in names:
        subprocess.run(["virsh", "-q", "undefine", name, "--nvram"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        for suffix in ("-disk0.qcow2", "-disk0.qcow2.vmshift-part"):
            path = os.path.join(LAB, "pool", name + suffix)
            if os.path.exists(path):
                os.unlink(path)
    subprocess.run(["virsh", "-q", "pool-refresh", os.environ["VMSHIFT_LAB_POOL"]], stdout=subprocess.DEVNULL, check=False)


def engine_alone(disks, cookie, parallel, streams):
    """The copy engine by itself on the same disks, PARALLEL at a time with STREAMS ranged reads each (what the
    wave's copies do, without Ansible, the VMs' preflight, define and notes). Returns the wall seconds."""
    def one(index):
        datastore, path = disks[index]["disk"][1:].split("] ", 1)
        final = os.path.join(LAB, "pool", "bench-engine-%d.qcow2" % index)
        journal = Journal(os.path.join(WORK, "engine-%d.journal" % index), {"disk": index})
        try:
            engine_copy(disks[index]["datacenter"], datastore, path, cookie, final, "qcow2", journal, streams)
        finally:
            for name in (final, final + ".part", journal.path):
                if os.path.exists(name):
                    os.unlink(name)
    start = time.monotonic()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one, range(len(disks))))
    return time.monotonic() - start


def power_on(names):
    """The sources as the wave found them (it powers them off), all at once."""
    procs = [subprocess.Popen([sys.executable, WORKLOAD, "power", name, "on"], env=dict(os.environ, VMWARE_CA_PATH=CA),
                              stdout=subprocess.DEVNULL) for name in names]
    if any(proc.wait() != 0 for proc in procs):
        sys.exit("could not power the sources on again")


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    parallel = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    names = ["bench-wave-%02d" % i for i in range(count)]
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    cleanup(names)
    image = os.path.join(WORK, "disk.raw")
    with open(image, "wb") as f:
        f.write(os.urandom(mib * 1024 * 1024))
    disks = []
    for i, name in enumerate(names):
        info = json.loads(run([sys.executable, WORKLOAD, "create", name, image, "--mac", "00:50:56:b0:00:%02x" % i]))
        disks.append(info)
    # The wave as a migration team runs it: plan_waves.yml once (discovery, assessment, plan), then
    # migrate_wave.yml per wave (an AAP job template each). The planning is timed and printed on its own;
    # the wave's wall time is migrate_wave.yml's.
    with open(os.path.join(WORK, "vars.json"), "w") as f:
        json.dump(dict(VARS, plan_dir=WORK, migration_wave_report_dir=os.path.join(WORK, "reports"),
                       migration_wave_work_dir=os.path.join(WORK, "records"),
                       plan_filters={"names": names, "ca_path": CA},
                       plan_constraints={"max_vms_per_wave": 100, "max_parallel": parallel, "max_parallel_per_source_host": parallel,
                                         "max_parallel_per_target_host": parallel}), f)
    playbook = [os.path.join(os.environ["VMSHIFT_VENV"], "bin", "ansible-playbook"), "-i", "localhost,", "-e",
                "ansible_python_interpreter=" + sys.executable, "-e", "@" + os.path.join(WORK, "vars.json")]
    env = {"VMWARE_CA_PATH": CA}
    plan_s, out = timed(playbook + [os.path.join(REPO, "playbooks", "plan_waves.yml")], os.environ["VMSHIFT_VENV"], env)
    # curl: the same flat files, PARALLEL at a time, with a session cookie from a login.
    cookie = session_cookie()
    urls = ["https://%s:%s/folder/%s-flat.vmdk?dcPath=%s&dsName=LocalDS_0" % (
        os.environ["VMWARE_HOST"], os.environ["VMWARE_PORT"], d["disk"].split("] ", 1)[1][:-5], d["datacenter"]) for d in disks]
    curls, synced, waves, reports, engines = [], [], [], [], {1: [], 4: []}
    estimates = []  # (the estimate made before a wave, the wave's seconds as its report says, playbook seconds)
    with_progress = {2: [], 0: []}  # playbook seconds of the wave with its progress every 2 s, and without
    steps = {}  # step -> seconds, each VM of each round (the wave report's)
    used = dict(curl=[], wave=[], engine1=[], engine4=[], progress2=[], progress0=[])  # (user, system) CPU seconds per run
    host_used = dict(curl=[], wave=[])  # the host's CPU seconds (all but the simulator) until the data is on disk

    def spent(since):
        return tuple(b - a for a, b in zip(since, cpu()))

    def warm():
        warm_memory(os.path.join(LAB, "pool"), 2 * count * mib * 1024 * 1024)

    for dummy in range(rounds):  # round-robin; each tool starts on memory warmed the same way (see warm_memory)
        os.makedirs(os.path.join(WORK, "curl"))
        warm()
        start, before, host = time.monotonic(), cpu(), host_cpu()
        subprocess.run(["xargs", "-P", str(parallel), "-n", "3", "curl", "-sf", "--cacert", CA, "-H", "Cookie: " + cookie],
                       input="\n".join("-o %s/%d.raw %s" % (os.path.join(WORK, "curl"), i, u) for i, u in enumerate(urls)),
                       text=True, check=True)
        curls.append(time.monotonic() - start)
        used["curl"].append(spent(before))
        os.sync()  # curl leaves its data in the page cache; the wave's copies are on disk when it ends
        synced.append(time.monotonic() - start)
        host_used["curl"].append(host_cpu() - host)
        shutil.rmtree(os.path.join(WORK, "curl"))
        for streams in sorted(engines):
            warm()
            before = cpu()
            engines[streams].append(engine_alone(disks, cookie, parallel, streams))
            used["engine%d" % streams].append(spent(before))
        # the wave as it runs by default (its progress every 30 s: too seldom to show here), and with its progress
        # said every 2 s and without any, in turn (which goes first alternates by round)
        for progress in ((None, 2, 0) if len(waves) % 2 == 0 else (None, 0, 2)):
            warm()
            before, host = cpu(), host_cpu()
            extra = [] if progress is None else ["-e", "migration_wave_progress_interval=%d" % progress]
            wave_s, out = timed(playbook + ["-e", "wave=1", "-e", "plan_file=" + os.path.join(WORK, "plan.json")] + extra
                                + [os.path.join(REPO, "playbooks", "migrate_wave.yml")], os.environ["VMSHIFT_VENV"], env)
            report = json.load(open(os.path.join(WORK, "reports", "wave-1.json")))
            estimates.append((report["summary"]["estimate"], report["summary"]["seconds"], wave_s))
            if progress is not None:
                with_progress[progress].append(wave_s)
                used["progress%d" % progress].append(spent(before))
            else:
                waves.append(wave_s)
                used["wave"].append(spent(before))
                os.sync()  # nothing is left to write back, but measured as for curl
                host_used["wave"].append(host_cpu() - host)
                reports.append(report["summary"]["counts"])
                for vm in report["vms"]:
                    for step in vm.get("steps") or []:
                        steps.setdefault(step["step"], []).append(step.get("seconds") or 0)
            # the next wave starts from the same state: no domains or volumes, no records, the sources on
            cleanup(names)
            shutil.rmtree(os.path.join(WORK, "records"))
            power_on(names)  # the reports stay: the next wave's estimate is made from them
    curl_s, wave_s = statistics.median(curls), statistics.median(waves)
    total = count * mib * 1024 * 1024
    print("wave of %d VMs x %d MiB, %d at a time; median of %d round-robin runs" % (count, mib, parallel, rounds))
    print("  plan_waves.yml (discovery, assessment, plan; once for all waves): %.1f s" % plan_s)
    print("  curl, %d streams:        %6.1f s  %6.0f MB/s   %s (runs: %s)" % (
        parallel, curl_s, total / curl_s / 1e6, cpu_per_gib(used["curl"], total), ", ".join("%.1f" % c for c in curls)))
    print("  curl, then sync:        %6.1f s              (runs: %s; the data on disk, as the wave leaves it)" % (
        statistics.median(synced), ", ".join("%.1f" % c for c in synced)))
    for streams, runs in sorted(engines.items()):
        print("  copy engine alone, %d stream%s a disk: %4.1f s  %s (runs: %s)" % (
            streams, "" if streams == 1 else "s", statistics.median(runs), cpu_per_gib(used["engine%d" % streams], total),
            ", ".join("%.1f" % r for r in runs)))
    print("  migrate_wave.yml:       %6.1f s  %6.0f MB/s   %s (runs: %s; migrated/failed: %s)" % (
        wave_s, total / wave_s / 1e6, cpu_per_gib(used["wave"], total), ", ".join("%.1f" % w for w in waves),
        ", ".join("%d/%d" % (r["migrated"], r["failed"]) for r in reports)))
    print("  ratio wave / curl: %.2fx (goal <= 1.2x: %s); per round: %s" % (
        wave_s / curl_s, "met" if wave_s / curl_s <= 1.2 else "NOT met", ", ".join("%.2fx" % (w / c) for w, c in zip(waves, curls))))
    synced_ratio = wave_s / statistics.median(synced)
    print("  ratio wave / (curl, then sync): %.2fx (goal <= 1.1x: %s)" % (synced_ratio, "met" if synced_ratio <= 1.1 else "NOT met"))
    host_curl, host_wave = (statistics.median(host_used[k]) / (total / float(1 << 30)) for k in ("curl", "wave"))
    print("  host CPU until the data is on disk (all but the simulator; the wave's with Ansible): curl then sync %.2f, "
          "wave %.2f CPU-s/GiB (%.2fx)" % (host_curl, host_wave, host_wave / host_curl))
    print("  the wave beyond the copy engine alone (Ansible, the role's other tasks, the module's start, the first claims): "
          "%.1f s" % (wave_s - statistics.median(engines[1])))
    # Where a VM's time goes in the wave (its steps as vm_migrate times them): what the wave adds to the copy.
    print("  wave, a VM's steps (median / max s over VMs and rounds): " + ", ".join(
        "%s %.2f / %.2f" % (name, statistics.median(secs), max(secs)) for name, secs in steps.items()))
    print("  progress every 2 s vs none: %.1f s vs %.1f s = %+.1f %% (goal <= 3 %%: %s; runs: %s vs %s)" % (
        statistics.median(with_progress[2]), statistics.median(with_progress[0]),
        (statistics.median(with_progress[2]) / statistics.median(with_progress[0]) - 1) * 100,
        "met" if statistics.median(with_progress[2]) <= 1.03 * statistics.median(with_progress[0]) else "NOT met",
        ", ".join("%.1f" % w for w in with_progress[2]), ", ".join("%.1f" % w for w in with_progress[0])))
    # CPU varies less than wall time from run to run: what the progress costs the client side, said apart
    print("  progress every 2 s vs none, client CPU: %s vs %s" % (cpu_per_gib(used["progress2"], total), cpu_per_gib(used["progress0"], total)))
    # The estimate each wave made before it started (migration_estimate, in the role), against what it took: the
    # first from the defaults, the next from the reports of the waves before.
    for i, (estimate, took, wall) in enumerate(estimates):
        print("  wave run %d, estimate %.1f s (from %s) vs the wave's %.1f s: %+.0f %% (goal within 25 %%: %s); playbook %.1f s" % (
            i + 1, estimate["seconds"], estimate["from"], took, (estimate["seconds"] / took - 1) * 100,
            "met" if abs(estimate["seconds"] / took - 1) <= 0.25 else "NOT met", wall))
    for name in names:
        subprocess.run([sys.executable, WORKLOAD, "delete", name], env=dict(os.environ, VMWARE_CA_PATH=CA), check=False)
    shutil.rmtree(WORK, ignore_errors=True)


VARS = {
    "plan_targets": [{"name": "localhost"}],
    "plan_network_map": {"VM Network": os.environ["VMSHIFT_LAB_NETWORK"]},
    "migration_wave_target_defaults": {"pool": os.environ["VMSHIFT_LAB_POOL"], "domain_type": os.environ["VMSHIFT_LAB_DOMAIN_TYPE"],
                                       "network_map": {"VM Network": {"network": os.environ["VMSHIFT_LAB_NETWORK"]}},
                                       "target_power_state": "stopped", "wait_for": "none",
                                       "guest_inspection": "never"},  # the busybox guest: nothing to inspect
}

if __name__ == "__main__":
    main()
