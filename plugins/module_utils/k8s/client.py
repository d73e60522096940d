# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes API access for KubeVirt, nmstate and MTV, on kubernetes.core: its connection options and their
K8S_AUTH_* environment variables (AUTH_ARG_SPEC) and its client (get_api_client: kubeconfig, in-cluster,
token, client certificate, proxy, impersonation); here, the operations this collection needs (get, create,
merge patch, delete, a PUT on a subresource) and error translation.

Only portable operations are used: create, JSON merge patch and delete work the same on every API
server; server-side apply and strategic merge are not needed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import traceback

from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import (
    AuthenticationFailure,
    Conflict,
    ConnectionFailure,
    InvalidInput,
    NotFound,
    OperationFailure,
    failed_to,
)
from ansible_collections.vmshift.virt.plugins.module_utils.common.module import Library
from ansible_collections.vmshift.virt.plugins.module_utils.common.retry import retry_call
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

try:
    import urllib3
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError
    from kubernetes.client.exceptions import ApiException
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
except ImportError as exc:
    KUBERNETES = Library("kubernetes", exc, traceback.format_exc())
else:
    KUBERNETES = Library("kubernetes")

MERGE_PATCH = "application/merge-patch+json"


def kubernetes_argument_spec():
    """kubernetes.core's connection options, as every cluster module of the collection takes them (the doc
    fragment vmshift.virt.kubernetes documents them); unset options fall back to K8S_AUTH_* in kubernetes.core."""
    return copy.deepcopy(AUTH_ARG_SPEC)


# Throttling and a busy or restarting API server are transient; everything else fails at once.
TRANSIENT_STATUS = (429, 500, 502, 503, 504)


def conditions(obj):
    """An object's status conditions (or those of a status entry, such as one VM of an MTV Migration)."""
    obj = obj or {}
    return ((obj.get("status") or {}).get("conditions") if "status" in obj else obj.get("conditions")) or []


def condition(obj, kind, status="True", reason=None):
    """The condition of that type when it has that status (and reason, when given), else None."""
    return next((c for c in conditions(obj) if c.get("type") == kind and c.get("status") == status
                 and (reason is None or c.get("reason") == reason)), None)


def true_condition(obj, kind):
    """The condition of that type when its status is True, else None."""
    return condition(obj, kind)


def is_subset(want, have):
    """True when everything in ``want`` is in ``have`` (dicts recursively; lists item by item, same length)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and is_subset(v, have[k]) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(want) == len(have) and all(is_subset(w, h) for w, h in zip(want, have))
    return want == have


def merge_patch(current, desired, server_fields=False):
    """The JSON merge patch (RFC 7386) that turns ``current`` into ``desired``: changed keys set, removed
    keys null, lists and scalars replaced whole; {} when they are equal. This is how every Kubernetes service
    of the collection decides whether it changes an object, and what it sends.

    With ``server_fields`` (an object the server fills in with defaults, such as a VirtualMachine's spec), keys
    only ``current`` has are the server's and stay, and a list whose items each hold what the desired item
    says (is_subset) is left as it is."""
    if not isinstance(current, dict) or not isinstance(desired, dict):
        return desired
    patch = {}
    for key in set(current) | set(desired):
        if key not in desired:
            if not server_fields:
                patch[key] = None
        elif key not in current:
            patch[key] = desired[key]
        elif isinstance(desired[key], dict) and isinstance(current[key], dict):
            changes = merge_patch(current[key], desired[key], server_fields)
            if changes:
                patch[key] = changes
        elif not is_subset(desired[key], current[key]) if server_fields else current[key] != desired[key]:
            patch[key] = desired[key]
    return patch


def transient(exc):
    return getattr(exc, "status", None) in TRANSIENT_STATUS


def _status_message(exc):
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        return json.loads(body).get("message") or exc.reason
    except (TypeError, ValueError, AttributeError):
        return getattr(exc, "reason", None) or str(exc)


def translate(exc, verb, kind, name, host=None):
    status = getattr(exc, "status", None)
    if status == 401:
        return AuthenticationFailure(failed_to(verb, kind, name, "the API server %s refused the credentials; check "
                                               "api_key or the kubeconfig user (K8S_AUTH_API_KEY, K8S_AUTH_KUBECONFIG)" % host))
    if status == 403:
        return AuthenticationFailure(failed_to(verb, kind, name, "forbidden: %s" % _status_message(exc)))
    if status == 404:
        return NotFound(failed_to(verb, kind, name, _status_message(exc)))
    if status == 409:
        return Conflict(failed_to(verb, kind, name, _status_message(exc)))
    if status is not None:
        return OperationFailure(failed_to(verb, kind, name, "HTTP %s: %s" % (status, _status_message(exc))))
    text = str(getattr(exc, "reason", None) or exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return ConnectionFailure(failed_to(verb, kind, name, "the TLS certificate of %s is not trusted; set ca_cert to the "
                                           "CA that signed it, or validate_certs: false in a lab" % host))
    return ConnectionFailure(failed_to(verb, kind, name, "cannot reach the API server %s: %s" % (host, text)))


def api_errors():
    return (DynamicApiError, ApiException, urllib3.exceptions.HTTPError, OSError)


class KubeClient:
    """A DynamicClient for the connection options (kubernetes_argument_spec)."""

    def __init__(self, params):
        KUBERNETES.require()
        try:
            client = get_api_client(**dict((k, params.get(k)) for k in AUTH_ARG_SPEC))
        except (CoreException, ConfigException, TypeError, ValueError) as exc:
            raise InvalidInput("the Kubernetes connection could not be set up: %s; set kubeconfig (K8S_AUTH_KUBECONFIG), "
                               "or host with api_key or client_cert and client_key" % exc)
        except api_errors() as exc:
            raise translate(exc, "connect to", "Kubernetes API", params.get("host"), params.get("host"))
        if params.get("api_key") or os.environ.get("K8S_AUTH_API_KEY"):
            # kubernetes.core sets the token given, but a kubeconfig's user leaves a hook that puts the kubeconfig's
            # own token back before each request (kubernetes.config's refresh_api_key_hook): the token given wins.
            client.configuration.refresh_api_key_hook = None
        self.host = client.configuration.host
        self.dynamic = client.client

    def resource(self, api_version, kind):
        try:
            return self.dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            raise NotFound(failed_to("find", "API", "%s %s" % (api_version, kind),
                                     "the server %s does not serve it; is the operator installed?" % self.host))
        except api_errors() as exc:
            raise translate(exc, "discover", "API", "%s %s" % (api_version, kind), self.host)

    @staticmethod
    def call(func, should_retry=transient):
        """A request with bounded, jittered retries on throttling and 5xx answers."""
        return retry_call(func, api_errors(), retries=3, base=0.5, should_retry=should_retry)

    def get(self, api_version, kind, name, namespace=None):
        """The object as a dict, or None."""
        res = self.resource(api_version, kind)
        try:
            return self.call(lambda: res.get(name=name, namespace=namespace)).to_dict()
        except api_errors() as exc:
            if getattr(exc, "status", None) == 404:
                return None
            raise translate(exc, "get", kind, name, self.host)

    def list(self, api_version, kind, namespace=None, label_selector=None):
        """The objects as dicts."""
        res = self.resource(api_version, kind)
        try:
            result = self.call(lambda: res.get(namespace=namespace, label_selector=label_selector)).to_dict()
        except api_errors() as exc:
            raise translate(exc, "list", kind + "s", None, self.host)
        return result.get("items") or []

    def create(self, body):
        res = self.resource(body["apiVersion"], body["kind"])
        meta = body["metadata"]
        try:
            # A create is retried only when throttled: after a 5xx it may have happened.
            return self.call(lambda: res.create(body=body, namespace=meta.get("namespace")),
                             should_retry=lambda exc: getattr(exc, "status", None) == 429).to_dict()
        except api_errors() as exc:
            raise translate(exc, "create", body["kind"], meta["name"], self.host)

    def patch(self, api_version, kind, name, namespace, patch):
        res = self.resource(api_version, kind)
        try:
            return self.call(lambda: res.patch(name=name, namespace=namespace, body=patch,
                                               content_type=MERGE_PATCH)).to_dict()
        except api_errors() as exc:
            raise translate(exc, "update", kind, name, self.host)

    def delete(self, api_version, kind, name, namespace=None):
        """Delete; True when it was there."""
        res = self.resource(api_version, kind)
        try:
            self.call(lambda: res.delete(name=name, namespace=namespace))
            return True
        except api_errors() as exc:
            if getattr(exc, "status", None) == 404:
                return False
            raise translate(exc, "delete", kind, name, self.host)

    def put_subresource(self, path, kind, name):
        """PUT on a subresource path (KubeVirt start/stop/restart). Returns False on 409 ("already so")."""
        try:
            self.call(lambda: self.dynamic.request("PUT", path, body={}))
            return True
        except api_errors() as exc:
            if getattr(exc, "status", None) == 409:
                return False
            raise translate(exc, "call %s on" % path.rsplit("/", 1)[-1], kind, name, self.host)
