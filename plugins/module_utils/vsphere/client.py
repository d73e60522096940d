# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vSphere connection and bulk property retrieval (ContainerView + RetrievePropertiesEx)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ssl
import traceback

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.six.moves import http_client

from ansible_collections.vmshift.virt.plugins.module_utils.common.argspec import vsphere_argument_spec
from ansible_collections.vmshift.virt.plugins.module_utils.common.errors import AuthenticationFailure, InvalidInput, failed_to
from ansible_collections.vmshift.virt.plugins.module_utils.common.module import Library
from ansible_collections.vmshift.virt.plugins.module_utils.common.retry import retry_call
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.datastore import DatastoreFiles
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.errors import translate
from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.fast_reader import retrieve_properties

try:
    from pyVim.connect import Disconnect, SmartConnect, SmartStubAdapter
    from pyVmomi import SoapStubAdapter, vim, vmodl
except ImportError as exc:
    PYVMOMI = Library("pyvmomi", exc, traceback.format_exc())
else:
    PYVMOMI = Library("pyvmomi")

DEFAULT_PAGE_SIZE = 1000
# A dropped or timed-out connection is worth a few tries (a vCenter under load, a proxy); a refused
# connection, a TLS failure or a wrong password is not, and fails at once.
TRANSIENT = (ConnectionResetError, ConnectionAbortedError, TimeoutError, http_client.RemoteDisconnected)


def ssl_context(validate_certs, ca_path=None):
    if not validate_certs:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=ca_path)


class VsphereClient:
    """One logged-in session. Use as a context manager so the session is always logged out.

    With ``ticket`` (a clone ticket another process acquired, see ``clone_ticket``) it clones that
    process's session instead of logging in, so no password is needed here."""

    def __init__(self, hostname, username, password, port=443, validate_certs=True, ca_path=None, ticket=None):
        required = (("hostname", hostname, "VMWARE_HOST"),) + (() if ticket else (
            ("username", username, "VMWARE_USER"), ("password", password, "VMWARE_PASSWORD")))
        for field, value, env in required:
            if not value:
                raise InvalidInput("%s is required: set the %s option or the %s environment variable" % (field, field, env))
        self.hostname = hostname
        self.username = username
        self._password = password
        self._ticket = ticket
        self.port = port
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.si = None
        self.session = None  # (API version, cookie) of a session to join instead of logging in
        self._content = None

    @classmethod
    def from_params(cls, params, session=None):
        """A client for ``params``; with ``session`` (another client's ``shared_session()``), it joins
        that logged-in session over a connection of its own (a discovery worker process, a migration
        thread) and leaves the logout to its owner."""
        client = cls(params["hostname"], params["username"], params.get("password"), params["port"],
                     params["validate_certs"], params["ca_path"], params.get("session_ticket"))
        client.session = session
        return client

    def shared_session(self):
        return self.si._stub.version, self.si._stub.cookie

    def datastore_files(self, datacenter, datastore):
        """A reader of one datastore's files over HTTPS with this session (the caller closes it)."""
        return DatastoreFiles(self.hostname, self.port, ssl_context(self.validate_certs, self.ca_path),
                              self.si._stub.cookie, datacenter, datastore)

    @property
    def endpoint(self):
        return "%s:%s" % (self.hostname, self.port)

    def __enter__(self):
        PYVMOMI.require()
        if self.session is not None:
            version, cookie = self.session
            stub = SoapStubAdapter(host=self.hostname, port=self.port, version=version,
                                   sslContext=ssl_context(self.validate_certs, self.ca_path))
            stub.cookie = cookie
            self.si = vim.ServiceInstance("ServiceInstance", stub)
            return self
        if self._ticket:
            return self._clone()
        try:
            self.si = retry_call(
                lambda: SmartConnect(host=self.hostname, user=self.username, pwd=self._password, port=self.port,
                                     sslContext=ssl_context(self.validate_certs, self.ca_path)),
                TRANSIENT, retries=3, base=0.5)
        except (vmodl.MethodFault, OSError, http_client.HTTPException) as exc:
            # pyVmomi faults (InvalidLogin), ssl and socket errors (all OSError), or a broken HTTP
            # answer; translate() classifies each and keeps the reason.
            raise translate(exc, "connect to", "vSphere server", self.endpoint, self.endpoint)
        return self

    def _clone(self):
        try:
            stub = SmartStubAdapter(host=self.hostname, port=self.port,
                                    sslContext=ssl_context(self.validate_certs, self.ca_path))
            self.si = vim.ServiceInstance("ServiceInstance", stub)
            self.si.content.sessionManager.CloneSession(self._ticket)
        except vim.fault.InvalidLogin:
            self.si = None
            raise AuthenticationFailure(failed_to(
                "connect to", "vSphere server", self.endpoint,
                "the server refused the session ticket: a clone ticket is good once, and only while the session "
                "that acquired it lasts; run the task again so that a new one is acquired"))
        except (vmodl.MethodFault, OSError, http_client.HTTPException) as exc:
            self.si = None
            raise translate(exc, "connect to", "vSphere server", self.endpoint, self.endpoint)
        return self

    def clone_ticket(self):
        """A one-time ticket with which another process or host clones this session (``CloneSession``),
        so the password stays here. vSphere voids a session's tickets when the session ends: a client
        whose ticket is handed on is logged out only once the ticket has been used."""
        try:
            return self.content.sessionManager.AcquireCloneTicket()
        except vmodl.MethodFault as exc:
            raise translate(exc, "acquire a clone ticket from", "vSphere server", self.endpoint, self.endpoint)

    def __exit__(self, *exc_info):
        if self.si is not None and self.session is None:
            try:
                Disconnect(self.si)
            except (vmodl.MethodFault, OSError):
                pass  # the session expires on the server side; nothing to undo
        self.si = self._content = None

    @property
    def content(self):
        if self._content is None:  # one round trip, not one per use
            self._content = self.si.RetrieveContent()
        return self._content

    def retrieve(self, type_properties, root=None, page_size=DEFAULT_PAGE_SIZE):
        """Properties of every object of the given types below ``root``, in one paged collection.

        ``type_properties``: ``{vim.VirtualMachine: ["name", ...], vim.HostSystem: [...]}``.
        Returns ``{moref_id: (type_name, {path: value})}``.
        """
        content = self.content
        view = content.viewManager.CreateContainerView(root or content.rootFolder, list(type_properties), True)
        try:
            traversal = vmodl.query.PropertyCollector.TraversalSpec(
                name="view", path="view", skip=False, type=vim.view.ContainerView)
            object_set = [vmodl.query.PropertyCollector.ObjectSpec(obj=view, skip=True, selectSet=[traversal])]
            return self._collect(object_set, type_properties, page_size)
        finally:
            view.Destroy()

    def retrieve_objects(self, kind, ids, paths, page_size=DEFAULT_PAGE_SIZE):
        """Properties of the named objects of one type (moref ids), in one paged collection."""
        stub = self.si._stub
        object_set = [vmodl.query.PropertyCollector.ObjectSpec(obj=kind(moid, stub), skip=False) for moid in ids]
        return self._collect(object_set, {kind: paths}, page_size)

    def _collect(self, object_set, type_properties, page_size):
        """RetrievePropertiesEx with paging. Objects deleted while it runs come back with a
        ManagedObjectNotFound in their missingSet (or as a fault on their own) and are left out."""
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=object_set,
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=kind, pathSet=list(paths), all=False)
                     for kind, paths in type_properties.items()],
            reportMissingObjectsInResults=True,
        )
        collector = self.content.propertyCollector
        options = vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=page_size)
        objects = {}
        result = retrieve_properties(collector, "RetrievePropertiesEx", [[spec], options])
        while result is not None:
            for item in result.objects:
                if any(isinstance(m.fault, vmodl.fault.ManagedObjectNotFound) for m in item.missingSet or ()):
                    continue
                objects[item.obj._moId] = (item.obj._wsdlName, dict((p.name, p.val) for p in item.propSet))
            if not result.token:
                break
            result = retrieve_properties(collector, "ContinueRetrievePropertiesEx", [result.token])
        return objects


def with_clone_ticket(args, environ):
    """A module's arguments with the password replaced by a clone ticket of a session logged in here, and
    that session's client (None when no login happened): ``(args, client)``.

    For a module that runs on another host (vm_migrate on a KVM host): the password stays in this process,
    where the credentials came from (``args``, else ``environ`` as AAP injects them), and never reaches
    the host, where Ansible's async wrapper leaves the module's arguments in a file when a job is killed.
    The host gets a ticket good once, spent at its first connection. The caller logs the client out once
    the module has cloned the session (a logout first would void the ticket). Without a password here,
    the connection options found are passed on: the module then uses the host's environment or names
    what is missing."""
    args = dict(args)
    conn = {}
    # The modules' own connection options: their aliases and the environment variables AAP injects.
    for field, spec in vsphere_argument_spec().items():
        env = spec["fallback"][1][0]
        for name in [field] + spec.get("aliases", []):
            value = args.pop(name, None)
            if value is not None:
                conn[field] = value
        if conn.get(field) is None and environ.get(env):
            conn[field] = environ[env]
    password = conn.pop("password", None)
    if not password:
        return dict(args, **conn), None
    try:
        conn["port"] = int(conn.get("port", 443))
        conn["validate_certs"] = boolean(conn.get("validate_certs", True))
    except (TypeError, ValueError) as exc:
        raise InvalidInput("port must be a number and validate_certs a boolean (%s)" % exc)
    client = VsphereClient(conn.get("hostname"), conn.get("username"), password, conn["port"],
                           conn["validate_certs"], conn.get("ca_path"))
    client.__enter__()
    try:
        ticket = client.clone_ticket()
    except Exception:
        client.__exit__(None, None, None)
        raise
    return dict(args, session_ticket=ticket, **conn), client
