# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # kubernetes.core's connection options (its args_common.AUTH_ARG_SPEC, which the cluster modules take as they
    # are, see plugins/module_utils/k8s/client.py), with the same names, aliases and K8S_AUTH_* variables as its
    # k8s_auth_options fragment. Written here rather than extended from kubernetes.core, so that the docs render
    # where kubernetes.core is not installed (Galaxy's import check, a docs build).
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file (several joined with V(:)), or the kubeconfig itself as a dictionary.
      - If not set, the value of the E(K8S_AUTH_KUBECONFIG) environment variable is used; with no connection option at
        all, the in-cluster service account, then C(~/.kube/config).
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
      - A bearer token for the API server (it wins over the kubeconfig's user). Never logged or returned.
      - If not set, the value of the E(K8S_AUTH_API_KEY) environment variable is used.
    type: str
  username:
    description:
      - A user name for HTTP basic authentication (only on clusters configured for it; OpenShift's OAuth is not).
      - If not set, the value of the E(K8S_AUTH_USERNAME) environment variable is used.
    type: str
  password:
    description:
      - The password for O(username). Never logged or returned.
      - If not set, the value of the E(K8S_AUTH_PASSWORD) environment variable is used.
    type: str
  client_cert:
    description:
      - A client certificate to authenticate with.
      - If not set, the value of the E(K8S_AUTH_CERT_FILE) environment variable is used.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - The key of O(client_cert).
      - If not set, the value of the E(K8S_AUTH_KEY_FILE) environment variable is used.
    type: path
    aliases: [key_file]
  ca_cert:
    description:
      - A PEM file of the CA certificates that sign the API server's certificate (the full chain).
      - If not set, the value of the E(K8S_AUTH_SSL_CA_CERT) environment variable is used.
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description:
      - Verify the API server's TLS certificate.
      - If not set, the value of the E(K8S_AUTH_VERIFY_SSL) environment variable is used, then the kubeconfig's
        setting; certificates are verified unless one of them says not to.
    type: bool
    aliases: [verify_ssl]
  proxy:
    description:
      - The URL of an HTTP proxy for the connection (E(HTTPS_PROXY) and the like are not read).
      - If not set, the value of the E(K8S_AUTH_PROXY) environment variable is used.
    type: str
  no_proxy:
    description:
      - Hosts, domains, addresses and CIDRs that are reached without the proxy, comma separated.
      - If not set, the value of the E(K8S_AUTH_NO_PROXY) environment variable is used.
    type: str
  proxy_headers:
    description:
      - Headers for the HTTP proxy.
    type: dict
    suboptions:
      proxy_basic_auth:
        description:
          - V(user:password) for the proxy's basic authentication. Never logged or returned.
          - If not set, the value of the E(K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH) environment variable is used.
        type: str
      basic_auth:
        description:
          - V(user:password) for a basic authentication header. Never logged or returned.
          - If not set, the value of the E(K8S_AUTH_PROXY_HEADERS_BASIC_AUTH) environment variable is used.
        type: str
      user_agent:
        description:
          - The user agent to send.
          - If not set, the value of the E(K8S_AUTH_PROXY_HEADERS_USER_AGENT) environment variable is used.
        type: str
  persist_config:
    description:
      - Save refreshed tokens (OIDC and the like) back to the kubeconfig file.
      - If not set, the value of the E(K8S_AUTH_PERSIST_CONFIG) environment variable is used.
    type: bool
  impersonate_user:
    description:
      - A user to act as.
      - If not set, the value of the E(K8S_AUTH_IMPERSONATE_USER) environment variable is used.
    type: str
  impersonate_groups:
    description:
      - Groups to act as.
      - If not set, the value of the E(K8S_AUTH_IMPERSONATE_GROUPS) environment variable is used (comma separated).
    type: list
    elements: str
requirements:
  - kubernetes >= 28.1.0
  - the kubernetes.core collection (a dependency of this one)
"""
