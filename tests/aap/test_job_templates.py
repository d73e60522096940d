# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks run as AAP runs a job template: through ansible-runner, in a private data directory.

What AAP does, and what is done here the same way:
- the project (the repository's playbooks) under project/, the inventory under inventory/, the survey's
  answers and the job template's extra vars in env/extravars;
- the collection installed from its built tarball, as the execution environment holds it;
- credentials injected as their credential types inject them, never as extra vars: VMware vCenter as
  VMWARE_HOST, VMWARE_USER, VMWARE_PASSWORD, VMWARE_VALIDATE_CERTS; a custom credential type for the
  vCenter's CA (a file in the private data directory, VMWARE_CA_PATH) and port (VMWARE_PORT); Machine as
  the user on the command line and the private key through ssh-agent (never a file);
- ansible-runner's suppress_env_files, as AAP sets it, so the environment is not written to artifacts;
- a workflow: plan_waves.yml, then migrate_wave.yml for wave 1 and wave 2, the plan carried from the
  first job to the next through set_stats (the artifacts of the playbook_on_stats event), as a workflow
  carries it;
- the job events, as AAP stores and shows them, are checked: each wave's progress and outcome, the failed
  VM named, and no secret in any event, artifact, file of the private data directory or stdout;
- a wave job killed while it copies (ansible-runner's cancel: SIGKILL to the job's process group), then run
  again.

Lab parts: the vSphere simulator, the lab's libvirt/KVM host reached over SSH (sshd on loopback with the
lab key: the Machine credential), the busybox test guest; one VM is made to fail on purpose (the lab's
libvirt hook refuses to start it) so the failure and its rollback show in the events.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import ansible_runner
import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = Path(os.environ.get("VMSHIFT_LAB_DIR", "/var/lib/vmshift-lab"))
ESTATE = [  # name, tier, MAC
    ("aap-web-db", "db", "00:50:56:a0:00:01"),
    ("aap-crm-db", "db", "00:50:56:a0:00:02"),
    ("aap-web-app", "app", "00:50:56:a0:00:03"),
]
FAILING = "aap-crm-db"
VSPHERE = ("VMWARE_HOST", "VMWARE_PORT", "VMWARE_USER", "VMWARE_PASSWORD", "VMWARE_VALIDATE_CERTS", "VMWARE_CA_PATH")


def lab_run(*argv):
    subprocess.run(argv, check=True, capture_output=True, text=True)


def remove_domain(name):
    for cmd in (["virsh", "-q", "destroy", name], ["virsh", "-q", "undefine", name, "--nvram"]):
        subprocess.run(cmd, capture_output=True, check=False)  # a domain that is not there is not an error here


def ssh_port():
    config = (LAB / "ssh" / "sshd_config").read_text()
    return next(line.split()[1] for line in config.splitlines() if line.startswith("Port "))


@pytest.fixture(scope="module")
def lab():
    """What the credentials hold, taken out of this process's environment (the jobs inherit it): only a job's
    credential injectors give them, as in AAP. The lab's kubeconfig and libvirt URI go too: nothing of the
    lab's shell may make a job work that AAP would not."""
    taken = {name: os.environ.pop(name, None) for name in VSPHERE + ("K8S_AUTH_KUBECONFIG", "LIBVIRT_DEFAULT_URI")}
    yield dict(taken, ssh_key=(LAB / "ssh" / "id_ed25519").read_text())
    os.environ.update({k: v for k, v in taken.items() if v is not None})


@pytest.fixture(scope="module")
def collections(tmp_path_factory):
    """The collection as an execution environment holds it: built, and installed from the tarball."""
    out = tmp_path_factory.mktemp("collection")
    lab_run("ansible-galaxy", "collection", "build", str(REPO), "--output-path", str(out), "--force")
    tarball = next(out.glob("vmshift-virt-*.tar.gz"))
    lab_run("ansible-galaxy", "collection", "install", str(tarball), "-p", str(out / "installed"), "--offline", "--force")
    return out / "installed"


@pytest.fixture(scope="module")
def estate(lab):
    """Lab only: simulator VMs whose disks hold the test guest, none of them on the KVM host yet."""
    env = dict(os.environ, **{k: lab[k] for k in VSPHERE if lab[k] is not None})
    env["VMWARE_CA_PATH"] = os.environ["VMSHIFT_LAB_CA"]
    for name, tier, mac in ESTATE:
        remove_domain(name)
        subprocess.run(["python", str(REPO / "tests/lab/workload.py"), "create", name, os.environ["VMSHIFT_LAB_GUEST_IMAGE"],
                        "--mac", mac, "--attr", "tier=" + tier, "--attr", "app=" + name.split("-")[1]],
                       check=True, capture_output=True, text=True, env=env)
    for volume in (LAB / "pool").glob("aap-*"):
        volume.unlink()
    subprocess.run(["virsh", "-q", "pool-refresh", os.environ["VMSHIFT_LAB_POOL"]], check=True, capture_output=True)
    fault = LAB / "fault" / ("start-" + FAILING)
    fault.parent.mkdir(exist_ok=True)
    fault.touch()
    yield [name for name, _tier, _mac in ESTATE]
    fault.unlink()
    for name, _tier, _mac in ESTATE:  # the guests would take CPU from the stages after this one
        remove_domain(name)


class Controller:
    """One AAP job run after another in a workflow, each in a private data directory of its own."""

    def __init__(self, base, collections, lab):
        self.base, self.collections, self.lab = base, collections, lab
        self.jobs = []

    def private_data_dir(self, ident, project):
        pdd = self.base / ident
        shutil.copytree(project, pdd / "project")
        (pdd / "inventory").mkdir()
        (pdd / "env").mkdir()
        python = shutil.which("python")
        # The inventory: the controller (the execution environment) and the KVM host, reached over SSH.
        (pdd / "inventory" / "hosts").write_text(
            "localhost ansible_connection=local ansible_python_interpreter=%s\n"
            "lab-kvm ansible_host=127.0.0.1 ansible_port=%s ansible_python_interpreter=%s\n" % (python, ssh_port(), python))
        # The custom credential type's file injector: the vCenter CA, a file of the private data directory.
        shutil.copy(os.environ["VMSHIFT_LAB_CA"], pdd / "env" / "vcenter-ca.pem")
        return pdd

    def credentials(self, pdd):
        """The environment the credential types inject (VMware vCenter; the custom CA-and-port type)."""
        return {
            "VMWARE_HOST": self.lab["VMWARE_HOST"], "VMWARE_USER": self.lab["VMWARE_USER"],
            "VMWARE_PASSWORD": self.lab["VMWARE_PASSWORD"], "VMWARE_VALIDATE_CERTS": "True",
            "VMWARE_PORT": self.lab["VMWARE_PORT"], "VMWARE_CA_PATH": str(pdd / "env" / "vcenter-ca.pem"),
        }

    def run(self, ident, playbook, extravars, project=REPO / "playbooks", cancel=None):
        """The job; ``cancel``: AAP's cancel (a callback that, once it returns true, makes ansible-runner kill the
        job's whole process group with SIGKILL, as AAP does when a job is canceled or its node is lost)."""
        pdd = self.private_data_dir(ident, project)
        (pdd / "env" / "extravars").write_text(json.dumps(extravars))
        events = []
        envvars = dict(self.credentials(pdd), ANSIBLE_COLLECTIONS_PATH=str(self.collections),
                       ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_NOCOLOR="True")
        result = ansible_runner.run(
            private_data_dir=str(pdd), ident=ident, playbook=playbook, envvars=envvars,
            cmdline="-u root", ssh_key=self.lab["ssh_key"], suppress_env_files=True, quiet=True,
            event_handler=lambda event: events.append(event) or True, cancel_callback=cancel)
        job = Job(ident, pdd, result, events)
        self.jobs.append(job)
        return job

    def secrets(self):
        key_lines = [line for line in self.lab["ssh_key"].splitlines() if line and not line.startswith("-----")]
        return {"VMWARE_PASSWORD": self.lab["VMWARE_PASSWORD"], **{"ssh key line %d" % i: line for i, line in enumerate(key_lines)}}


class Job:
    def __init__(self, ident, pdd, result, events):
        self.ident, self.pdd, self.result, self.events = ident, pdd, result, events
        self.stdout = "".join(event.get("stdout", "") for event in events)

    def event(self, kind, task):
        return [e for e in self.events if e["event"] == kind and e.get("event_data", {}).get("task") == task]

    def artifacts(self):
        """What the job's playbook_on_stats carries on to the next job of a workflow (set_stats)."""
        stats = [e for e in self.events if e["event"] == "playbook_on_stats"]
        return stats[-1]["event_data"].get("artifact_data", {})

    def outcome(self):
        return [e["event_data"]["res"]["msg"] for e in self.event("runner_on_ok", "The wave's outcome")]


def leaks(base, jobs, secrets):
    """Where a secret shows: in an event as a job streamed it, or in any file under base (the private data
    directories, the plan, the reports, the migration records). One file is left out: ansible-runner writes
    the job's whole environment, credentials included, to artifacts/<job>/command (mode 0600) whatever it
    is told; AAP deletes the private data directory, and that file with it, when the job ends."""
    found = []
    for job in jobs:
        for event in job.events:
            text = json.dumps(event)
            found += ["%s: event %s (%s)" % (name, event.get("counter"), event["event"]) for name, value in secrets.items() if value in text]
    for path in base.rglob("*"):
        if path.is_file() and not path.is_symlink() and not (path.name == "command" and path.parent.parent.name == "artifacts"):
            text = path.read_bytes().decode("utf-8", "replace")
            found += ["%s: %s" % (name, path.relative_to(base)) for name, value in secrets.items() if value in text]
    return found


@pytest.fixture(scope="module")
def workflow(tmp_path_factory, collections, lab, estate):
    """plan_waves.yml -> migrate_wave.yml wave 1 -> migrate_wave.yml wave 2, as a workflow runs them."""
    controller = Controller(tmp_path_factory.mktemp("aap"), collections, lab)
    reports = controller.base / "reports"
    survey = {
        "plan_filters": {"names": ["aap-*"]},
        "plan_targets": [{"name": "lab-kvm", "cpus": 4, "memory_mib": 4096, "storage_bytes": 10737418240}],
        "plan_network_map": {"VM Network": os.environ["VMSHIFT_LAB_NETWORK"]},
        "plan_constraints": {"order_attribute": "tier", "order": ["db", "app"], "max_vms_per_wave": 2},
        "plan_dir": str(controller.base / "plan"),
    }
    plan = controller.run("plan", "plan_waves.yml", survey)
    # The wave job template's extra vars (the KVM host's settings), and the workflow's artifacts.
    template = {
        "migration_wave_report_dir": str(reports),
        "migration_wave_work_dir": str(controller.base / "migrations"),
        "migration_wave_max_failed": 1,
        "migration_wave_progress_interval": 1,  # the lab's waves last seconds: a line a second shows their progress
        "migration_wave_targets": {"lab-kvm": {
            "bandwidth_limit_mib": 8,  # a copy that lasts a few seconds, to see it in the progress
            "pool": os.environ["VMSHIFT_LAB_POOL"], "domain_type": os.environ["VMSHIFT_LAB_DOMAIN_TYPE"],
            "network_map": {"VM Network": {"network": os.environ["VMSHIFT_LAB_NETWORK"]}},
            "guest_inspection": "never",  # the busybox test guest has no OS to inspect
            "wait_for": "serial", "serial_log_dir": str(LAB / "log"), "serial_pattern": "VMSHIFT-GUEST-READY",
            "wait_timeout": 180}},
    }
    waves = [controller.run("wave-%d" % n, "migrate_wave.yml", dict(template, wave=n, **plan.artifacts()))
             for n in (1, 2)]
    return controller, plan, waves


def test_plan_job_passes_the_plan_on(workflow):
    _controller, plan, _waves = workflow
    assert plan.result.status == "successful", plan.stdout[-3000:]
    waves = plan.artifacts()["vmshift_plan"]["waves"]
    assert [sorted(vm["name"] for vm in wave["vms"]) for wave in waves] == [["aap-crm-db", "aap-web-db"], ["aap-web-app"]]


def test_each_wave_shows_its_progress_and_outcome_naming_the_failed_vm(workflow):
    _controller, _plan, (wave1, wave2) = workflow
    assert wave1.result.status == "successful", wave1.stdout[-3000:]
    assert wave2.result.status == "successful", wave2.stdout[-3000:]
    # progress: the KVM host's job, delegated over SSH with the Machine credential's user, each VM's result in it
    (job,) = wave1.event("runner_item_on_ok", "Run vm_migrate on each target host for its VMs")
    res = job["event_data"]["res"]
    assert res["_ansible_delegated_vars"] == {"ansible_host": "127.0.0.1", "ansible_port": int(ssh_port()), "ansible_user": "root"}
    assert sorted((r.get("domain") or {}).get("name", "") for r in res["results"]) == ["", "aap-web-db"]
    assert "rolled back" in res["msg"] and FAILING in res["msg"], res["msg"]
    (outcome1,) = wave1.outcome()
    assert outcome1.startswith("Wave 1: 1 migrated") and "1 failed ['%s']" % FAILING in outcome1, outcome1
    (outcome2,) = wave2.outcome()
    assert outcome2.startswith("Wave 2: 1 migrated") and "0 failed" in outcome2, outcome2
    # while the wave ran: a line a second for each VM whose state changed, read from the claims on the sources
    progress = [line.strip() for e in wave1.events for line in e.get("stdout", "").splitlines() if line.strip().startswith("wave 1: ")]
    assert any(re.match(r"wave 1: aap-web-db: copy \d+ % of 0\.\d GiB, \d+ MB/s, \d+ s left$", line) for line in progress), progress
    assert "wave 1: aap-web-db: migrated" in progress and "wave 1: %s: failed, left something to roll back" % FAILING not in progress
    assert any(line.startswith("wave 1: %s: " % FAILING) for line in progress), progress
    # what the user then checks on the KVM host: the migrated guests run, the failed one was rolled back
    states = {name: subprocess.run(["virsh", "-q", "domstate", name], capture_output=True, text=True, check=False).stdout.strip()
              for name in ("aap-web-db", "aap-web-app", FAILING)}
    assert states == {"aap-web-db": "running", "aap-web-app": "running", FAILING: ""}, states


def test_no_secret_in_any_event_artifact_or_stdout(workflow):
    controller, _plan, _waves = workflow
    assert len(controller.jobs) == 3
    assert leaks(controller.base, controller.jobs, controller.secrets()) == []
    assert all(j.stdout for j in controller.jobs)
    # the one file left out above: ansible-runner's record of the environment, readable by its owner only
    assert all(oct((j.pdd / "artifacts" / j.ident / "command").stat().st_mode & 0o777) == "0o600" for j in controller.jobs)


def test_a_planted_secret_is_found(tmp_path, collections, lab):
    """The check above can fail: a playbook that prints the password is caught in its events and stdout."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "leak.yml").write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.debug:\n        msg: \"{{ lookup('ansible.builtin.env', 'VMWARE_PASSWORD') }}\"\n")
    controller = Controller(tmp_path / "jobs", collections, lab)
    job = controller.run("leak", "leak.yml", {}, project=project)
    assert job.result.status == "successful"
    found = leaks(controller.base, controller.jobs, controller.secrets())
    assert any(f.startswith("VMWARE_PASSWORD: event") for f in found), found
    assert any("job_events" in f for f in found) and any(f.endswith("stdout") for f in found), found


def render(page, screenshot):
    """``page`` as a person sees it, in a real headless browser (Debian's chromium): (its DOM once loaded, the
    console messages and failed loads the browser reported); the screenshot kept at ``screenshot``."""
    browser = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
               "--window-size=1280,1000", "--virtual-time-budget=2000"]
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    dom = subprocess.run(browser + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180, check=True)
    shot = subprocess.run(browser + ["--screenshot=%s" % screenshot, page.as_uri()], capture_output=True, text=True, timeout=180,
                          check=True)
    said = (dom.stderr + shot.stderr).splitlines()
    # The pages have no script: anything on the console (chromium logs every console message as INFO:CONSOLE) is wrong.
    errors = [line for line in said if "CONSOLE" in line or "net::ERR" in line]
    return dom.stdout, errors


SHOTS = REPO / "tests" / "output" / "screenshots"


def test_the_wave_report_and_the_live_page_in_a_browser(workflow, tmp_path):
    """What a person opens: the final report of wave 1 (a VM failed) and the live page as the wave showed it."""
    controller, _plan, _waves = workflow
    dom, errors = render(controller.base / "reports" / "wave-1.html", SHOTS / "wave-1.png")
    assert errors == []
    rows = re.findall(r'<g class="vm" data-vm="([^"]+)" data-outcome="([^"]+)"', dom)
    assert sorted(rows) == [(FAILING, "failed"), ("aap-web-db", "migrated")], rows
    assert 'class="failed-mark"' in dom and 'class="copy-rate"' in dom and "Estimated before the wave" in dom
    assert (SHOTS / "wave-1.png").stat().st_size > 10000
    sys.path.insert(0, str(controller.collections))  # the collection as the jobs had it (installed from its tarball)
    from ansible_collections.vmshift.virt.plugins.module_utils.migration.progress import live_html, state_of
    live = tmp_path / "wave-1.html"
    live.write_text(live_html(1, [("aap-web-db", "lab-kvm", state_of('migrating {"progress": {"step": "copy", "done": 1, "total": 4}}')),
                                  (FAILING, "lab-kvm", state_of(None))], 30))
    dom, errors = render(live, SHOTS / "wave-1-live.png")
    assert errors == [] and len(re.findall(r'<tr class="vm"', dom)) == 2 and "copy 25 % of 0.0 GiB" in dom


def test_a_page_with_a_console_error_is_caught(tmp_path):
    """The check above can fail: a page whose script fails is reported."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>console.error('boom'); undefinedFunction();</script></body></html>")
    dummy, errors = render(page, tmp_path / "broken.png")
    assert any("boom" in line for line in errors) and any("undefinedFunction" in line for line in errors), errors


KILLED = ["killed-wave-a", "killed-wave-b"]  # not aap-*: the workflow above plans every aap-* VM


def note_of(name, env):
    """(kind, owner) of the claim note on the source VM ``name`` (vm_migrate's default attribute)."""
    from ansible_collections.vmshift.virt.plugins.module_utils.migration.guard import parse_note
    info = json.loads(subprocess.run(["python", str(REPO / "tests/lab/workload.py"), "info", name], env=env, check=True,
                                     capture_output=True, text=True).stdout)
    return parse_note(info["attributes"].get("vmshift.migrated"))


def running(pid):
    try:
        os.kill(int(pid), 0)
    except (OSError, TypeError, ValueError):
        return False
    return True


def test_a_wave_killed_while_it_copies_leaves_its_page_and_a_rerun_finishes_it(tmp_path, collections, lab):
    """The controller killed mid-wave (AAP's cancel, or its node lost): the live page keeps the last state it
    showed; the migrations on the KVM host, out of the controller's reach, go on; a rerun of the job started at
    once waits for them, ends the wave and turns the page into its report, with each VM's steps."""
    sys.path.insert(0, str(collections))  # the collection as the jobs have it, for its note parser
    env = dict(os.environ, **{k: lab[k] for k in VSPHERE if lab[k] is not None})
    env["VMWARE_CA_PATH"] = os.environ["VMSHIFT_LAB_CA"]
    for i, name in enumerate(KILLED):
        remove_domain(name)
        subprocess.run(["python", str(REPO / "tests/lab/workload.py"), "create", name, os.environ["VMSHIFT_LAB_GUEST_IMAGE"],
                        "--mac", "00:50:56:a0:01:%02x" % i], check=True, capture_output=True, text=True, env=env)
    controller = Controller(tmp_path / "jobs", collections, lab)
    reports = controller.base / "reports"
    plan = controller.run("killed-plan", "plan_waves.yml", {
        "plan_filters": {"names": ["killed-wave-*"]}, "plan_dir": str(controller.base / "plan"),
        "plan_targets": [{"name": "lab-kvm", "cpus": 4, "memory_mib": 4096, "storage_bytes": 10737418240}],
        "plan_network_map": {"VM Network": os.environ["VMSHIFT_LAB_NETWORK"]}})
    assert plan.result.status == "successful", plan.stdout[-3000:]
    template = dict(plan.artifacts(), wave=1, migration_wave_report_dir=str(reports),
                    migration_wave_work_dir=str(controller.base / "migrations"), migration_wave_progress_interval=1,
                    migration_wave_targets={"lab-kvm": {
                        "bandwidth_limit_mib": 2,  # each 32 MiB copy lasts about 16 s: long enough to be killed in
                        "pool": os.environ["VMSHIFT_LAB_POOL"], "domain_type": os.environ["VMSHIFT_LAB_DOMAIN_TYPE"],
                        "network_map": {"VM Network": {"network": os.environ["VMSHIFT_LAB_NETWORK"]}},
                        "guest_inspection": "never", "target_power_state": "stopped", "wait_for": "none"}})
    page = reports / "wave-1.html"
    shown = {}

    def copying():
        """Cancel once the live page shows a copy under way."""
        text = page.read_text() if page.exists() else ""
        if re.search(r"copy [1-9]\d? % of", text):
            shown["page"] = text
            return True
        return False

    try:
        killed = controller.run("killed-wave", "migrate_wave.yml", template, cancel=copying)
        assert killed.result.status == "canceled", killed.stdout[-3000:]
        # the page as the controller last wrote it: the wave running, a copy part way, no report in its place
        left = page.read_text()
        assert "Migration wave 1: running" in left and re.search(r"copy [1-9]\d? % of", left), left
        assert sorted(re.findall(r"data-vm='([^']+)'", left)) == KILLED
        assert not (reports / "wave-1.json").exists()
        # the KVM host's job is out of the controller's reach: each migration goes on to its end (claimed by a live
        # process, or migrated already), or its process is gone and its claim is left for a rerun to take over
        notes = dict((name, note_of(name, env)) for name in KILLED)
        gone = dict((name, kind == "claimed" and not running(owner.get("pid"))) for name, (kind, owner) in notes.items())
        assert all(kind in ("claimed", "migrated") for kind, _owner in notes.values()), notes
        # over SSH they went on: the rerun below meets at least one still running (without lock_timeout it would
        # refuse that VM: "holds it on this host")
        assert any(kind == "claimed" and not gone[name] for name, (kind, _owner) in notes.items()), notes
        # the rerun, as an operator relaunches the job at once: it waits for the migrations still running (their lock,
        # up to migration_wave_timeout), and every VM is migrated once; the page becomes the wave's report
        unlimited = dict((k, v) for k, v in template["migration_wave_targets"]["lab-kvm"].items() if k != "bandwidth_limit_mib")
        rerun = controller.run("killed-wave-again", "migrate_wave.yml", dict(template, migration_wave_targets={"lab-kvm": unlimited}))
        assert rerun.result.status == "successful", rerun.stdout[-3000:]
        report = json.loads((reports / "wave-1.json").read_text())
        # a migration that went on to its end is found done; one whose process died is taken over and finished
        outcomes = dict((vm["name"], (vm["outcome"], vm.get("msg"))) for vm in report["vms"])
        expected = [("migrated" if gone[name] else "already migrated") for name in KILLED]
        assert [outcomes[name][0] for name in KILLED] == expected, (outcomes, notes)
        # either way the report has each VM's steps and downtime, from the run that migrated it
        by_name = dict((vm["name"], vm) for vm in report["vms"])
        assert all("copy" in [s["step"] for s in by_name[name]["steps"]] and by_name[name]["downtime_seconds"] > 0
                   and by_name[name]["bytes"] == 32 << 20 for name in KILLED), report["vms"]
        final = page.read_text()
        # the report, no longer the live page: it does not refresh, and it names both VMs with their outcome
        assert "http-equiv='refresh'" not in final and "<title>Wave 1</title>" in final, final[:500]
        assert all(re.search(r"<td>%s</td><td>lab-kvm</td><td[^>]*>%s</td>" % (name, outcome), final)
                   and "data-vm='%s' data-outcome='%s'" % (name, outcome) in final for name, outcome in zip(KILLED, expected)), final
        assert all(note_of(name, env)[0] == "migrated" for name in KILLED)
        states = [subprocess.run(["virsh", "-q", "domstate", name], capture_output=True, text=True, check=False).stdout.strip()
                  for name in KILLED]
        assert states == ["shut off", "shut off"], states  # defined on the KVM host, left stopped as asked
        shown.update(notes=notes, gone=gone)
    finally:
        for name in KILLED:
            remove_domain(name)
            subprocess.run(["python", str(REPO / "tests/lab/workload.py"), "delete", name], env=env, check=False, capture_output=True)
        for volume in (LAB / "pool").glob("killed-wave-*"):
            volume.unlink()
        subprocess.run(["virsh", "-q", "pool-refresh", os.environ["VMSHIFT_LAB_POOL"]], check=False, capture_output=True)
    print("after the kill, the sources' notes were: %s" % dict(
        (n, k + (" (its process gone)" if shown["gone"][n] else "")) for n, (k, _o) in shown["notes"].items()))
