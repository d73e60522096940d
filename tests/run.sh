# shellcheck shell=bash
# The README's two commands, and the test stages they are made of. Run as root on Debian 12 or 13.
#
#   tests/run.sh demo          set up the lab and run the collection's main job against it
#   tests/run.sh test          set up the lab and run every test (what CI runs)
#
# Single stages (the lab must be set up; `test` runs them all in this order):
#   unit | smoke | integration | aap | molecule | sanity | lint | build
#
#   tests/run.sh portability   the stages that need no lab (unit, sanity, lint, build), with their set-up,
#                              in a Debian 13 tree (debootstrap, chroot): tests/portability.sh
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_DIR=${VMSHIFT_LAB_DIR:-/var/lib/vmshift-lab}
# A copy of the collection at ansible_collections/vmshift/virt, as ansible-test requires.
TREE="$LAB_DIR/tree"
COLL="$TREE/ansible_collections/vmshift/virt"
# A symlink to the working tree, for ansible-playbook and pytest: edits show without a copy.
LINKED="$LAB_DIR/collections"

say() { printf '\n=== %s\n' "$*"; }

# Each stage's wall time, printed at the end of `test`: the default run must stay under 30 minutes.
TIMES=()
timed() {
  local start=$SECONDS
  "$@"
  TIMES+=("$(printf '%-12s %4d s' "${1#stage_}" $((SECONDS - start)))")
}

lab_env() {
  bash "$REPO/tests/lab/lab.sh" start
  # shellcheck disable=SC1091
  source "$LAB_DIR/env.sh"
  mkdir -p "$LINKED/ansible_collections/vmshift"
  ln -sfn "$REPO" "$LINKED/ansible_collections/vmshift/virt"
  export ANSIBLE_COLLECTIONS_PATH="$LINKED" VMSHIFT_REPO="$REPO"
  export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
  export ANSIBLE_FORCE_COLOR=false PY_COLORS=0
  # ansible-test runs the Python of the venv: Debian 12's 3.11, Debian 13's 3.13.
  PYV=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
}

copy_tree() {
  rm -rf "$COLL"
  mkdir -p "$COLL"
  # What git tracks plus new files it does not ignore: the collection as it would be committed.
  # (a file git tracks but the working tree has deleted is not copied: cp's error is expected)
  (cd "$REPO" && { git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$COLL/" 2>/dev/null || true; })
  (cd "$COLL" && git init -q && git add -A && git -c user.email=ci@lab -c user.name=ci commit -qm tree)
  # the collections it depends on (galaxy.yml), where ansible-test and the unit tests look: beside it
  ln -sfn "$LINKED/ansible_collections/kubernetes" "$TREE/ansible_collections/kubernetes"
}

stage_unit() {
  say "unit tests (pytest)"
  copy_tree
  (cd "$COLL" && PYTHONPATH="$TREE" python -m pytest -q -p no:cacheprovider tests/unit)
  say "manifests against the upstream API types (tsc --strict)"
  PYTHONPATH="$TREE" python "$COLL/tests/types/check.py" "$LAB_DIR/types"
  # fast_reader reads pyVmomi's internals, so the vSphere tests run at both ends of the range requirements.txt
  # gives: the venv has the newest, and the oldest is installed beside it.
  local oldest="$LAB_DIR/pyvmomi-oldest" want
  want=$(sed -n 's/^pyvmomi>=\([0-9.]*\),.*/\1/p' "$REPO/requirements.txt")
  [[ -d "$oldest/pyvmomi-$want.dist-info" ]] || { rm -rf "$oldest"; pip install -q --no-deps --target "$oldest" "pyvmomi==$want" six; }
  say "unit tests of the vSphere layer with the oldest pyVmomi supported ($want)"
  (cd "$COLL" && PYTHONPATH="$oldest:$TREE" python -c "from importlib.metadata import version; assert version('pyvmomi') == '$want'" &&
    PYTHONPATH="$oldest:$TREE" python -m pytest -q -p no:cacheprovider tests/unit/plugins/module_utils/vsphere)
}

stage_smoke() {
  say "lab smoke tests: each real part, and the Kubernetes stand-in"
  (cd "$REPO" && PYTHONPATH="$LINKED" python -m pytest -q -p no:cacheprovider tests/lab)
}

stage_integration() {
  say "integration targets (ansible-test integration --local, against the lab)"
  copy_tree
  cat >"$COLL/tests/integration/integration_config.yml" <<CFG
vmware_host: "$VMWARE_HOST"
vmware_port: $VMWARE_PORT
vmware_user: "$VMWARE_USER"
vmware_password: "$VMWARE_PASSWORD"
vmware_ca_path: "$VMSHIFT_LAB_CA"
vmware_other_ca_path: "$VMSHIFT_LAB_OTHER_CA"
lab_dir: "$LAB_DIR"
lab_src: "$REPO/tests/lab"
libvirt_uri: "$LIBVIRT_DEFAULT_URI"
libvirt_ssh_uri: "$VMSHIFT_LAB_SSH_URI"
lab_pool: "$VMSHIFT_LAB_POOL"
lab_network: "$VMSHIFT_LAB_NETWORK"
lab_bridge: "$VMSHIFT_LAB_BRIDGE"
lab_domain_type: "$VMSHIFT_LAB_DOMAIN_TYPE"
lab_guest_image: "$VMSHIFT_LAB_GUEST_IMAGE"
kubeconfig: "$K8S_AUTH_KUBECONFIG"
CFG
  # The targets pass credentials explicitly; none may leak in from this shell.
  local targets
  read -ra targets <<<"${VMSHIFT_TARGETS:-}"
  (cd "$COLL" && env -u VMWARE_HOST -u VMWARE_USER -u VMWARE_PASSWORD -u VMWARE_PORT -u VMWARE_VALIDATE_CERTS \
    ansible-test integration --local --python "$PYV" --color no "${targets[@]}")
}

stage_aap() {
  say "the playbooks as AAP job templates and a workflow (ansible-runner, against the lab)"
  (cd "$REPO" && python -m pytest -q -p no:cacheprovider tests/aap)
}

stage_molecule() {
  say "molecule scenarios (against the lab)"
  local scenario
  for scenario in "$REPO"/extensions/molecule/*/; do
    scenario=$(basename "$scenario")
    (cd "$REPO/extensions" && ANSIBLE_COLLECTIONS_PATH="$LINKED" molecule test -s "$scenario")
  done
}

stage_sanity() {
  say "ansible-test sanity (every test, no ignore file)"
  copy_tree
  local pip_version
  pip_version=$(python -c 'from ansible_test._internal.python_requirements import get_venv_packages as g
from ansible_test._internal.host_configs import NativePythonConfig as N
import sys; print(g(N(version=sys.argv[1], path="/x"))["pip"])' "$PYV")
  mkdir -p ~/.ansible/test/cache
  cp "$REPO/tests/get_pip_standin.py" ~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"
  (cd "$COLL" && ansible-test sanity --venv --python "$PYV" --color no)
}

stage_lint() {
  say "ansible-lint (production profile, offline)"
  (cd "$REPO" && ansible-lint)
}

stage_build() {
  say "ansible-galaxy collection build and install of the tarball"
  local out="$LAB_DIR/build"
  rm -rf "$out" && mkdir -p "$out/installed"
  copy_tree
  ansible-galaxy collection build "$COLL" --output-path "$out" --force
  # --no-deps: kubernetes.core comes from Galaxy, which is not reachable here (the lab has it from PyPI's ansible)
  ansible-galaxy collection install "$out"/vmshift-virt-*.tar.gz -p "$out/installed" --force --offline --no-deps
  ANSIBLE_COLLECTIONS_PATH="$out/installed" ansible-doc vmshift.virt.vsphere_vm_info >/dev/null
  echo "built and installed: $(ls "$out"/vmshift-virt-*.tar.gz)"
  # As Galaxy and Automation Hub check an upload: galaxy-importer on the tarball (its ansible-test needs a
  # container; the sanity stage runs ansible-test), then the docs linter of the Ansible docsite. They pin
  # their own ansible-core and ansible-lint, so they get a venv of their own. Any warning fails the stage.
  local importer="$LAB_DIR/importer-venv" tools="galaxy-importer==0.4.44 antsibull-docs>=2.16,<3"
  if [[ "$(cat "$importer/.vmshift-stamp" 2>/dev/null)" != "$tools" ]]; then
    rm -rf "$importer" && python3 -m venv "$importer"
    # shellcheck disable=SC2086
    "$importer/bin/pip" install -q --disable-pip-version-check $tools >"$LAB_DIR/log/importer-pip.log" 2>&1 \
      || { tail -20 "$LAB_DIR/log/importer-pip.log"; return 1; }
    echo "$tools" >"$importer/.vmshift-stamp"
  fi
  printf '[galaxy-importer]\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\n' >"$out/galaxy-importer.cfg"
  (cd "$out" && PATH="$importer/bin:$PATH" GALAXY_IMPORTER_CONFIG="$out/galaxy-importer.cfg" \
    "$importer/bin/python" -m galaxy_importer.main "$out"/vmshift-virt-*.tar.gz) >"$out/galaxy-importer.log" 2>&1 \
    || { cat "$out/galaxy-importer.log"; return 1; }
  if grep -E '^(WARNING|ERROR)' "$out/galaxy-importer.log"; then echo "galaxy-importer: warnings or errors (above)"; return 1; fi
  grep -q "Importer processing completed successfully" "$out/galaxy-importer.log"
  echo "galaxy-importer 0.4.44: imported, no warning"
  local docs
  docs=$(cd "$COLL" && PATH="$importer/bin:$PATH" antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck . 2>&1)
  [[ -z "$docs" ]] || { echo "$docs"; return 1; }
  echo "antsibull-docs lint-collection-docs: clean"
  (cd "$COLL" && antsibull-changelog lint)
  echo "antsibull-changelog lint: clean"
  # The execution environment definition renders (no container engine runs here to build it).
  mkdir -p "$out/ee"
  cp "$REPO/execution-environment.yml" "$REPO/requirements.txt" "$REPO/bindep.txt" "$out/ee/"
  cp "$out"/vmshift-virt-*.tar.gz "$out/ee/vmshift-virt.tar.gz"
  (cd "$out/ee" && ansible-builder create -f execution-environment.yml --context context --output-filename Containerfile >/dev/null)
  grep -q "requirements.txt" "$out/ee/context/Containerfile"
  grep -q "vmshift-virt.tar.gz" "$out/ee/context/Containerfile"
  echo "execution environment: $out/ee/context/Containerfile"
}

stage_demo() {
  say "demo: the collection's main job against the lab"
  # The interpreter as configuration, not an extra var: the demo adds a host with an interpreter of its own.
  (cd "$REPO" && ANSIBLE_PYTHON_INTERPRETER="$(command -v python)" ansible-playbook -i localhost, -c local playbooks/lab_demo.yml)
}

# Only what needs no lab service: the packages to build with, the venv, the simulator's build.
tools_env() {
  bash "$REPO/tests/lab/lab.sh" tools
  export PATH="${VMSHIFT_VENV:-$REPO/.venv}/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$LINKED"
  mkdir -p "$LINKED/ansible_collections/vmshift"
  ln -sfn "$REPO" "$LINKED/ansible_collections/vmshift/virt"
  PYV=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
}

case "${1:-}" in
  demo) lab_env; stage_demo ;;
  portability) bash "$REPO/tests/portability.sh" ;;
  offline)
    tools_env
    govmomi=$(dpkg-query -W -f '${Version}' golang-github-vmware-govmomi-dev)
    echo "Debian $(cat /etc/debian_version), Python $PYV, $(go version | cut -d' ' -f3), simulator built with govmomi $govmomi"
    for stage in unit sanity lint build; do timed "stage_$stage"; done
    printf '%s\n' "${TIMES[@]}" ;;
  test)
    # Every test starts from the lab's model: a demo or a benchmark may have added VMs and objects.
    bash "$REPO/tests/lab/lab.sh" reset-estate
    lab_env
    for stage in unit smoke integration aap molecule sanity lint build; do timed "stage_$stage"; done
    say "all test stages passed"
    printf '%s\n' "${TIMES[@]}"
    echo "stages: 8 passed, 0 failed" ;;
  unit | smoke | integration | aap | molecule | sanity | lint | build) lab_env; "stage_$1" ;;
  *) sed -n '2,10p' "$0"; exit 2 ;;
esac
