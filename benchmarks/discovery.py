# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: vSphere discovery at 1,000 and 10,000 VMs, side by side.

    bash benchmarks/run.sh discovery [SIZES...]          (default: 1000 10000)

For each size it starts a simulator of its own (govmomi, TLS with the lab CA, 10 clusters), then
times in the same run: the raw floor (one bare pyVmomi RetrievePropertiesEx of the same properties,
one process), vmshift.virt.vsphere_vm_info (ansible-playbook, wall), the vmshift.virt.vsphere inventory
plugin (ansible-inventory --graph and --list, wall), and
community.vmware.vmware_vm_info (ansible-playbook from the peer venv; at 1,000 VMs only unless
VMSHIFT_BENCH_PEER_ALL=1, as it takes minutes at 10,000). Prints the ratios.
Goals: 10,000 VMs under 15 s; >= 10x faster than vmware_vm_info at 1,000; within 1.5x of the floor.
"""
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time

from common import timed, timed_playbook

LAB = os.environ["VMSHIFT_LAB_DIR"]
CA = os.environ["VMSHIFT_LAB_CA"]
PORT = 18990
USER = "administrator@vsphere.local"
PASSWORD = "bench-password"


def start_simulator(count):
    clusters = 10
    proc = subprocess.Popen(
        [os.path.join(LAB, "bin", "vmshift-vcsim"), "-l", "127.0.0.1:%d" % PORT, "-dc", "1", "-cluster", str(clusters),
         "-host", "2", "-standalone-host", "0", "-vm", str(count // clusters), "-ds", "2", "-pg", "4",
         "-username", USER, "-password", PASSWORD, "-tls-cert", os.path.join(LAB, "pki", "server.pem"),
         "-tls-key", os.path.join(LAB, "pki", "server.key")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    start = time.monotonic()
    proc.stdout.readline()  # the URL, once serving
    return proc, time.monotonic() - start


def raw_floor():
    sys.path.insert(0, os.path.join(LAB, "collections"))
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim, vmodl
    from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.vm_facts import VM_PROPERTIES
    start = time.monotonic()
    si = SmartConnect(host="127.0.0.1", port=PORT, user=USER, pwd=PASSWORD,
                      sslContext=ssl.create_default_context(cafile=CA))
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    spec = vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=view, skip=True, selectSet=[
            vmodl.query.PropertyCollector.TraversalSpec(name="v", path="view", skip=False, type=vim.view.ContainerView)])],
        propSet=[vmodl.query.PropertyCollector.PropertySpec(type=vim.VirtualMachine, pathSet=VM_PROPERTIES)])
    count = 0
    result = content.propertyCollector.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions())
    while result:
        count += len(result.objects)
        result = content.propertyCollector.ContinueRetrievePropertiesEx(result.token) if result.token else None
    Disconnect(si)
    return time.monotonic() - start, count


def playbook(venv, module, workdir):
    path = os.path.join(workdir, module.replace(".", "_") + ".yml")
    with open(path, "w") as f:
        f.write("""- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - {module}:
        hostname: 127.0.0.1
        port: {port}
        username: "{user}"
        password: "{password}"
        validate_certs: false
      register: r
    - ansible.builtin.debug:
        msg: >-
          COUNT={{{{ (r.vms if r.vms is defined else r.virtual_machines) | length }}}}
          MODULE={{{{ (r.timings.summary_seconds + r.timings.details_seconds) if r.timings is defined else -1 }}}}
""".format(module=module, port=PORT, user=USER, password=PASSWORD))
    elapsed, stdout = timed_playbook(path, venv)
    count = int(stdout.split("COUNT=")[1].split()[0])
    module_seconds = float(stdout.split("MODULE=")[1].split('"')[0].split()[0])
    return elapsed, count, module_seconds


def inventory(workdir):
    """(seconds to load the inventory and print its groups, seconds for --list, hosts): --graph is the
    plugin's work plus Ansible's own variable handling, as a playbook using the inventory pays it; --list
    adds ansible-inventory's JSON dump of every host's variables."""
    path = os.path.join(workdir, "bench.vsphere.yml")
    with open(path, "w") as f:
        f.write("plugin: vmshift.virt.vsphere\nhostname: 127.0.0.1\nport: %d\nusername: %s\npassword: %s\n"
                "validate_certs: false\n" % (PORT, USER, PASSWORD))
    venv = os.environ["VMSHIFT_VENV"]
    command = [os.path.join(venv, "bin", "ansible-inventory"), "-i", path]
    env = {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}
    graph, stdout = timed(command + ["--graph"], venv, env)
    graphed = set(line.strip(" |-") for line in stdout.splitlines() if "@" not in line)
    listed, stdout = timed(command + ["--list"], venv, env)
    hosts = json.loads(stdout)["_meta"]["hostvars"]
    assert graphed == set(hosts), (len(graphed), len(hosts))
    return graph, listed, len(hosts)


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    workdir = tempfile.mkdtemp(prefix="vmshift-bench-")
    rows = []
    for size in sizes:
        sim, boot = start_simulator(size)
        try:
            floor, n_floor = raw_floor()
            ours, n_ours, ours_work = playbook(os.environ["VMSHIFT_VENV"], "vmshift.virt.vsphere_vm_info", workdir)
            inv, inv_list, n_inv = inventory(workdir)
            peer = n_peer = None
            if size <= 1000 or os.environ.get("VMSHIFT_BENCH_PEER_ALL") == "1":
                peer, n_peer, dummy = playbook(os.environ["VMSHIFT_PEER_VENV"], "community.vmware.vmware_vm_info", workdir)
        finally:
            sim.terminate()
            sim.wait()
        rows.append((size, boot, floor, n_floor, ours, n_ours, peer, n_peer, inv, inv_list, n_inv, ours_work))
    print("vSphere discovery (govmomi simulator over loopback TLS, 2 cores)")
    print("  %7s %9s %9s %9s %12s %9s %10s %9s %11s %10s %10s %13s" % (
        "VMs", "sim up s", "floor s", "ours s", "retrieval s", "inv s", "inv list s", "peer s", "ours/floor",
        "peer/ours", "inv/ours", "retr./floor"))
    for size, boot, floor, n_floor, ours, n_ours, peer, n_peer, inv, inv_list, n_inv, work in rows:
        assert n_floor == n_ours == n_inv == size and (n_peer is None or n_peer == size), (n_floor, n_ours, n_inv, n_peer)
        print("  %7d %9.1f %9.2f %9.2f %12.2f %9.2f %10.2f %9s %11.2f %10s %10.2f %13.2f" % (
            size, boot, floor, ours, work, inv, inv_list, "%.2f" % peer if peer else "-", ours / floor,
            "%.1f" % (peer / ours) if peer else "-", inv / ours, work / floor))
    print("'ours s' is ansible-playbook wall time; 'retrieval s' is the module's own summary + detail phases;")
    print("'inv s' is ansible-inventory --graph (the plugin loading 10,000 hosts with their variables), 'inv list s'")
    print("ansible-inventory --list, which adds Ansible's JSON dump of every host's variables; inv/ours uses 'inv s'")
    print("goals: 10,000 VMs < 15 s; peer/ours >= 10 at 1,000; ours/floor <= 1.5; inv/ours <= 1.5 at 10,000")


if __name__ == "__main__":
    main()
