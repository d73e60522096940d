# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: libvirt_vm against community.libvirt.virt on the lab libvirtd, side by side.

    bash benchmarks/run.sh libvirt_vm_rerun [COUNT]      (default COUNT=100)

Defines and starts COUNT small VMs with each tool (one play, one loop, same domain XML: the peer
is given the XML libvirt_vm renders), reruns both with nothing to change, then changes one VM's
memory with libvirt_vm. Prints the per-VM cost of each run and the ratios. Goal: the no-change
rerun of libvirt_vm costs at most 1.2x the peer's per VM; the change is detected on exactly one VM;
no rerun redefines anything.
The VMs boot nothing (a blank disk): QEMU sits in the BIOS, so 2 cores hold 2xCOUNT of them.
"""
import json
import os
import re
import sys
import tempfile

from common import timed_playbook

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 100
LAB = os.environ["VMSHIFT_LAB_DIR"]
POOL = os.environ["VMSHIFT_LAB_POOL"]
DOMAIN_TYPE = os.environ["VMSHIFT_LAB_DOMAIN_TYPE"]
PEER_VENV = os.environ["VMSHIFT_PEER_VENV"]
OURS = [{"name": "bench-ours-%03d" % i, "memory_mib": 32,
         "disks": [{"name": "root", "size_bytes": 1048576, "source": {"blank": True}, "format": "raw"}],
         "nics": [{"network": os.environ["VMSHIFT_LAB_NETWORK"], "mac": "52:54:00:b0:%02x:%02x" % (i // 256, i % 256)}]}
        for i in range(COUNT)]


def peer_xml(i):
    """The XML libvirt_vm renders for the same VM, for the peer (its own name, volume and MAC)."""
    sys.path.insert(0, os.path.join(LAB, "collections"))
    from ansible_collections.vmshift.virt.plugins.module_utils.libvirt.domain_xml import render_domain
    spec = dict(OURS[i], name="bench-peer-%03d" % i,
                nics=[dict(OURS[i]["nics"][0], mac="52:54:00:b1:%02x:%02x" % (i // 256, i % 256))])
    disk = {"path": os.path.join(LAB, "pool", "bench-peer-%03d-root.img" % i), "format": "raw", "bus": "virtio",
            "boot_order": 1}
    return render_domain(spec, DOMAIN_TYPE, [disk])


def play(tasks, workdir, name):
    """One play; every looped task registers, and the last task prints how many items changed."""
    tasks = [dict(t, register="r%d" % n) for n, t in enumerate(tasks)]
    count = " + ".join("(r%d.results | default([]) | select('changed') | list | length)" % n for n in range(len(tasks)))
    tasks.append({"name": "count", "ansible.builtin.debug": {"msg": "CHANGED={{ %s }}" % count}})
    path = os.path.join(workdir, name + ".yml")
    with open(path, "w") as f:
        json.dump([{"name": name, "hosts": "localhost", "connection": "local", "gather_facts": False,
                    "tasks": tasks}], f)
    return path


def run(playbook, venv):
    elapsed, stdout = timed_playbook(playbook, venv)
    return elapsed, int(re.search(r"CHANGED=(\d+)", stdout).group(1))


def ours_task(vms):
    return [{"name": "libvirt_vm", "vmshift.virt.libvirt_vm": {
        "spec": "{{ item }}", "pool": POOL, "domain_type": DOMAIN_TYPE, "state": "started", "wait_for": "running"},
        "loop": vms}]


def main():
    ours_venv = os.environ["VMSHIFT_VENV"]
    workdir = tempfile.mkdtemp(prefix="vmshift-bench-")
    peer_vols = [{"name": "volumes for the peer", "ansible.builtin.command": {
        "cmd": "virsh -q -c qemu:///system vol-create-as %s bench-peer-%03d-root.img 1M --format raw" % (POOL, i),
        "creates": os.path.join(LAB, "pool", "bench-peer-%03d-root.img" % i)}} for i in range(COUNT)]
    peer_task = [{"name": "community.libvirt.virt define", "community.libvirt.virt": {
        "command": "define", "xml": "{{ item }}"}, "loop": [peer_xml(i) for i in range(COUNT)]},
        {"name": "community.libvirt.virt running", "community.libvirt.virt": {
            "name": "{{ item }}", "state": "running"}, "loop": ["bench-peer-%03d" % i for i in range(COUNT)]}]
    cleanup = [{"name": "remove", "vmshift.virt.libvirt_vm": {
        "spec": "{{ item }}", "pool": POOL, "state": "absent", "remove_volumes": True},
        "loop": [{"name": vm["name"], "disks": vm["disks"]} for vm in OURS] +
                [{"name": "bench-peer-%03d" % i, "disks": [{"name": "root", "source": {"blank": True}}]}
                 for i in range(COUNT)]}]
    try:
        run(play(cleanup, workdir, "cleanup-before"), ours_venv)
        ours_first, ours_first_changed = run(play(ours_task(OURS), workdir, "ours-first"), ours_venv)
        run(play(peer_vols, workdir, "peer-volumes"), PEER_VENV)
        peer_first, peer_first_changed = run(play(peer_task, workdir, "peer-first"), PEER_VENV)
        ours_rerun, ours_rerun_changed = run(play(ours_task(OURS), workdir, "ours-rerun"), ours_venv)
        peer_rerun, peer_rerun_changed = run(play(peer_task, workdir, "peer-rerun"), PEER_VENV)
        changed_vms = [dict(vm, memory_mib=48) if i == 0 else vm for i, vm in enumerate(OURS)]
        ours_change, ours_change_changed = run(play(ours_task(changed_vms), workdir, "ours-change"), ours_venv)
    finally:
        run(play(cleanup, workdir, "cleanup-after"), ours_venv)
    print("libvirt_vm vs community.libvirt.virt, %d VMs, domain type %s" % (COUNT, DOMAIN_TYPE))
    print("  %-34s %8s %12s %8s" % ("run", "wall s", "ms per VM", "changed"))
    for label, seconds, changed in (
            ("libvirt_vm define+start", ours_first, ours_first_changed),
            ("community.libvirt.virt define+start", peer_first, peer_first_changed),
            ("libvirt_vm rerun, no change", ours_rerun, ours_rerun_changed),
            ("community.libvirt.virt rerun", peer_rerun, peer_rerun_changed),
            ("libvirt_vm, 1 VM's memory changed", ours_change, ours_change_changed)):
        print("  %-34s %8.1f %12.1f %8d" % (label, seconds, 1000 * seconds / COUNT, changed))
    ratio = ours_rerun / peer_rerun
    print("ratio: libvirt_vm rerun / peer rerun per VM = %.2f (goal <= 1.2: %s)" % (ratio, "met" if ratio <= 1.2 else "NOT met"))
    print("ratio: libvirt_vm first run / peer first run = %.2f" % (ours_first / peer_first))
    print("change detection: %d VM changed of %d (goal 1); spurious redefines on rerun: %d (goal 0)"
          % (ours_change_changed, COUNT, ours_rerun_changed))


if __name__ == "__main__":
    main()
