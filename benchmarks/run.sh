# shellcheck shell=bash
# Benchmarks, outside the default test run: bash benchmarks/run.sh NAME [ARGS]
#   libvirt_vm_rerun [COUNT]   libvirt_vm vs community.libvirt.virt (needs the peer venv; made here)
#   disk_copy [--sizes-gib 1,4] the migration copy engine vs curl over the simulator's loopback TLS
#   wave [VMS] [MIB] [PARALLEL] [ROUNDS]  a wave (migrate_wave.yml) vs curl with as many streams, median of ROUNDS
#   planner [VMS] [HOSTS]        the wave planner at scale
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$REPO/tests/lab/lab.sh" start
LAB_DIR=${VMSHIFT_LAB_DIR:-/var/lib/vmshift-lab}
# shellcheck disable=SC1091
source "$LAB_DIR/env.sh"
mkdir -p "$LAB_DIR/collections/ansible_collections/vmshift"
ln -sfn "$REPO" "$LAB_DIR/collections/ansible_collections/vmshift/virt"
export ANSIBLE_COLLECTIONS_PATH="$LAB_DIR/collections"
export PYTHONPATH="$LAB_DIR/collections"  # benchmarks that call the collection's engine directly
# The peers (community.libvirt, community.vmware, ...) come from the ansible package, in a venv of
# their own so they never mix with the collection under test.
export VMSHIFT_PEER_VENV="$LAB_DIR/peer-venv"
if [[ ! -x "$VMSHIFT_PEER_VENV/bin/ansible-playbook" ]]; then
  python3 -m venv "$VMSHIFT_PEER_VENV"
  "$VMSHIFT_PEER_VENV/bin/pip" install -q 'ansible>=10' libvirt-python pyvmomi lxml requests
fi
name=${1:?usage: benchmarks/run.sh NAME [ARGS]}
shift
exec "$VMSHIFT_VENV/bin/python" "$REPO/benchmarks/$name.py" "$@"
