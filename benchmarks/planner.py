# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wave planner at scale: 10,000 VMs onto 100 KVM hosts (goal: under 5 s), beside a floor that
only walks the same VMs and hosts once (sort plus one pass), in the same run.

    bash benchmarks/run.sh planner [VMS] [HOSTS]
"""
import random
import sys
import time

from ansible_collections.vmshift.virt.plugins.module_utils.migration.plan import plan_waves

GIB = 1024 ** 3


def estate(count, seed=7):
    rnd = random.Random(seed)
    vms = []
    for i in range(count):
        attrs = {"app": "app%d" % (i // 4) if i % 3 else None, "tier": rnd.choice(["db", "app", "web"]),
                 "pair": "p%d" % (i // 2) if i % 10 == 0 else None}
        vms.append({"name": "vm%05d" % i, "moref": "vm-%d" % i, "host": "esx%02d" % (i % 40),
                    "cpu": {"count": rnd.choice([1, 2, 4, 8])}, "memory_mib": rnd.choice([1024, 2048, 4096, 8192, 16384]),
                    "disks": [{"capacity_bytes": rnd.choice([20, 40, 100, 200]) * GIB}],
                    "custom_attributes": dict((k, v) for k, v in attrs.items() if v)})
    return vms


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    host_count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    vms = estate(count)
    hosts = [{"name": "kvm%03d" % i, "cpus": 96, "memory_mib": 1024 * 1024, "storage_bytes": 40 * 1024 * GIB}
             for i in range(host_count)]
    constraints = {"group_attribute": "app", "order_attribute": "tier", "order": ["db", "app", "web"],
                   "anti_affinity_attribute": "pair", "max_vms_per_wave": 200, "max_tib_per_wave": 40}
    start = time.perf_counter()
    floor = sorted(vms, key=lambda v: v["name"])
    for v, h in zip(floor, hosts * (count // host_count + 1)):
        v.get("memory_mib"), h.get("memory_mib")
    floor_s = time.perf_counter() - start
    start = time.perf_counter()
    plan = plan_waves(vms, hosts, constraints)
    plan_s = time.perf_counter() - start
    again = plan_waves(vms, hosts, constraints)
    print("planner: %d VMs onto %d hosts: %.2f s (goal < 5 s: %s); %d waves, %d placed, %d unplaced; deterministic: %s"
          % (count, host_count, plan_s, "met" if plan_s < 5 else "NOT met", plan["summary"]["waves"], plan["summary"]["placed"],
             plan["summary"]["unplaced"], plan == again))
    print("floor (sort and one pass over the same data): %.3f s; planner / floor = %.0fx" % (floor_s, plan_s / max(floor_s, 1e-6)))


if __name__ == "__main__":
    main()
