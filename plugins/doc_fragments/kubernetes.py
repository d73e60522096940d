# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Kept in meaning with plugins/module_utils/common/argspec.py kubernetes_argument_spec().
    # The environment variables are those of kubernetes.core and the AAP OpenShift credential.
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or the kubeconfig itself as a dictionary.
      - If not set, the value of the E(K8S_AUTH_KUBECONFIG) environment variable is used, then
        C(~/.kube/config), then the in-cluster service account.
    type: raw
  context:
    description:
      - The kubeconfig context to use.
      - If not set, the value of the E(K8S_AUTH_CONTEXT) environment variable is used.
    type: str
  host:
    description:
      - The API server URL, for example V(https://api.ocp.example.com:6443).
      - If not set, the value of the E(K8S_AUTH_HOST) environment variable is used.
    type: str
  api_key:
    description:
      - A bearer token for the API server. Never logged or returned.
      - If not set, the value of the E(K8S_AUTH_API_KEY) environment variable is used.
    type: str
  validate_certs:
    description:
      - Verify the API server's TLS certificate.
      - If not set, the value of the E(K8S_AUTH_VERIFY_SSL) environment variable is used.
    type: bool
    default: true
    aliases: [verify_ssl]
  ca_cert:
    description:
      - A PEM file of CA certificates that sign the API server's certificate.
      - If not set, the value of the E(K8S_AUTH_SSL_CA_CERT) environment variable is used.
    type: path
    aliases: [ssl_ca_cert]
requirements:
  - kubernetes >= 29.0.0
"""
