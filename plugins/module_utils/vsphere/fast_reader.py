# -*- coding: utf-8 -*-
# Copyright: vmshift.virt contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A PropertyCollector answer read into pyVmomi's own classes without pyVmomi's SOAP deserializer.

pyVmomi checks every field against its type as it sets it, through several calls per XML element; for the
details of 10,000 VMs that is about 14 CPU seconds, most of what discovery costs (measured with
benchmarks/discovery.py). Here the request is still serialized and sent by pyVmomi's stub, and the answer
is parsed by the C ElementTree parser and turned into the same pyVmomi data objects, each class's fields
and their types looked up once, the fields set directly. A fault (HTTP 500) is handed to pyVmomi's
deserializer, so callers see the exceptions pyVmomi raises. Fields the installed pyVmomi does not know are
skipped, as nothing here reads them.

It relies on pyVmomi internals (the stub's request and connection methods, the type registry, the data
classes' property lists). When the installed pyVmomi does not have them, or reading an answer trips over
them, the process goes back to pyVmomi's own deserializer for good, slower but right, and ``fallback``
says why (discovery turns it into one warning).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import io
from datetime import datetime
import xml.etree.ElementTree as ET

from ansible.module_utils.six.moves import http_client

try:
    from pyVmomi import SoapAdapter, VmomiSupport
    from pyVmomi.Iso8601 import ParseISO8601
except ImportError:  # reported by the module wrapper through vsphere.client.PYVMOMI
    SoapAdapter = VmomiSupport = ParseISO8601 = None

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
XSD_TYPES = {"string": str, "int": int, "long": int, "short": int, "byte": int, "boolean": bool, "double": float,
             "float": float, "dateTime": "datetime", "base64Binary": "binary", "anyURI": str, "anyType": str}


def _local(name):
    """'{urn:vim25}name' or 'vim25:name' -> 'name'."""
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


TEXT, BOOL, INT, FLOAT, DATETIME, BINARY, ARRAY, DATA, REF = range(9)


def kind_of(cls):
    """How a value of the pyVmomi type (or XSD_TYPES entry) ``cls`` is read."""
    if cls == "datetime" or cls is datetime:
        return DATETIME
    if not isinstance(cls, type):
        return BINARY if cls == "binary" else TEXT
    for base, kind in ((list, ARRAY), (VmomiSupport.DataObject, DATA), (VmomiSupport.ManagedObject, REF), (bool, BOOL),
                       (int, INT), (float, FLOAT), (bytes, BINARY), (bytearray, BINARY)):
        if issubclass(cls, base):
            return kind
    return TEXT  # strings, enums, type names, URIs


def unset_value(prop):
    """What pyVmomi's DataObject constructor sets a field (not an array) to when it is not given."""
    ptype = prop.type
    if prop.flags & VmomiSupport.F_OPTIONAL or issubclass(ptype, VmomiSupport.Enum):
        return None
    if ptype is bool:
        return False
    if issubclass(ptype, str):
        return ""
    if issubclass(ptype, (int, float)):
        return ptype(0)
    return None


class Reader:
    """Turns the XML elements of one answer into values of pyVmomi's classes."""

    def __init__(self, stub, namespace):
        self.stub = stub
        self.namespace = namespace
        self.fields = {}  # class -> fields_of(class)
        self.types = {}  # xsi:type -> type
        self.kinds = {}  # type -> kind
        self.names = {}  # element tag -> field name

    def type_named(self, xsi_type):
        found = self.types.get(xsi_type)
        if found is None:
            prefix, dummy, name = xsi_type.rpartition(":")
            if prefix == "xsd":
                found = XSD_TYPES.get(name, str)
            elif name == "ManagedObjectReference":  # its type attribute names the class
                found = VmomiSupport.ManagedObject
            elif name == "ArrayOfManagedObjectReference":
                found = VmomiSupport.ManagedObject.Array
            else:  # a data object, a managed object or ArrayOf... of the API's namespace
                found = VmomiSupport.GetWsdlType(self.namespace, name)
            self.types[xsi_type] = found
        return found

    def fields_of(self, cls):
        """({field: (type, whether an array)}, {field: value when not sent}, [array fields]) of a data object
        class; the values when not sent are those pyVmomi's constructor gives."""
        found = self.fields.get(cls)
        if found is None:
            fields, unset = {}, {}
            for prop in cls._GetPropertyList():
                is_array = issubclass(prop.type, list)
                fields[prop.name] = (prop.type.Item if is_array else prop.type, is_array)
                unset[prop.name] = None if is_array else unset_value(prop)
            found = self.fields[cls] = (fields, unset, [n for n, f in fields.items() if f[1]])
        return found

    def value(self, elem, cls):
        xsi_type = elem.get(XSI_TYPE)
        if xsi_type is not None:
            try:
                cls = self.type_named(xsi_type)
            except KeyError:  # a type newer than the installed pyVmomi: read it as the declared one
                pass
        kind = self.kinds.get(cls)
        if kind is None:
            kind = self.kinds[cls] = kind_of(cls)
        if kind == TEXT:
            return elem.text or ""
        if kind == DATA:
            return self.data_object(elem, cls)
        if kind == INT:
            return int(elem.text)
        if kind == BOOL:
            return elem.text == "true"
        if kind == REF:
            ref_type = elem.get("type")
            if ref_type:
                try:
                    cls = self.type_named(ref_type)
                except KeyError:
                    pass
            return cls(elem.text, self.stub)
        if kind == ARRAY:  # ArrayOfX at the top of a property value
            return [self.value(child, cls.Item) for child in elem]
        if kind == FLOAT:
            return float(elem.text)
        if kind == DATETIME:
            return ParseISO8601(elem.text)
        return base64.b64decode(elem.text or "")

    def data_object(self, elem, cls):
        obj = cls.__new__(cls)
        values = obj.__dict__
        fields, unset, arrays = self.fields_of(cls)
        values.update(unset)
        for name in arrays:
            values[name] = []
        names = self.names
        for child in elem:
            name = names.get(child.tag)
            if name is None:
                name = names[child.tag] = _local(child.tag)
            field = fields.get(name)
            if field is None:
                continue
            if field[1]:
                values[name].append(self.value(child, field[0]))
            else:
                values[name] = self.value(child, field[0])
        return obj


# Why this process reads with pyVmomi's own deserializer (set at most once; forked workers inherit it).
FALLBACK = []
STUB_NEEDS = ("SerializeRequest", "GetConnection", "ReturnConnection", "DropConnections", "cookie", "versionId", "path", "version")
SUPPORT_NEEDS = ("GetWsdlType", "GetWsdlNamespace", "DataObject", "ManagedObject", "Enum", "F_OPTIONAL")


def unsupported(collector):
    """What the fast path needs and this pyVmomi (or this collector's stub) lacks, or None."""
    outer = getattr(collector, "_stub", None)
    stub = getattr(outer, "soapStub", outer)
    missing = (["collector._stub"] if outer is None else []) + (
        [] if hasattr(collector, "_GetMethodInfo") else ["ManagedObject._GetMethodInfo"]) + (
        ["stub." + name for name in STUB_NEEDS if outer is not None and not hasattr(stub, name)]) + (
        ["VmomiSupport." + name for name in SUPPORT_NEEDS if not hasattr(VmomiSupport, name)]) + (
        [] if hasattr(getattr(VmomiSupport, "DataObject", None), "_GetPropertyList") else ["DataObject._GetPropertyList"])
    return "pyVmomi lacks %s" % ", ".join(missing) if missing else None


def fallback():
    """The warning to give once when this process reads with pyVmomi's own deserializer, or None."""
    if not FALLBACK:
        return None
    return ("vSphere answers are read with pyVmomi's own deserializer, several times slower on a large estate: the installed "
            "pyVmomi is not what the fast reader knows (%s); the pyVmomi range in requirements.txt is the tested one" % FALLBACK[0])


def retrieve_properties(collector, method, args):
    """``collector.<method>(*args)`` (RetrievePropertiesEx or ContinueRetrievePropertiesEx) with the answer
    read by Reader, or by pyVmomi when the fast path cannot be taken. Returns the RetrieveResult (or None)."""
    if not FALLBACK:
        why = unsupported(collector)
        if why:
            FALLBACK.append(why)
    if FALLBACK:
        return getattr(collector, method)(*args)
    outer = collector._stub
    stub = getattr(outer, "soapStub", outer)
    info = collector._GetMethodInfo(method)
    body = stub.SerializeRequest(collector, info, args)
    headers = {"Cookie": stub.cookie, "SOAPAction": stub.versionId, "Content-Type": "text/xml; charset=UTF-8"}
    conn = stub.GetConnection()
    try:
        conn.request("POST", stub.path, body, headers)
        resp = conn.getresponse()
        data = resp.read()
    except Exception:
        conn.close()
        stub.DropConnections()
        raise
    stub.ReturnConnection(conn)
    if resp.status == 500:  # a fault: pyVmomi reads it and raises what it raises
        fault = SoapAdapter.SoapResponseDeserializer(outer).Deserialize(io.BytesIO(data), info.result)
        raise fault
    if resp.status != 200:
        raise http_client.HTTPException("%s %s" % (resp.status, resp.reason))
    try:
        return read_answer(data, outer, info.result, stub.version)
    except (AttributeError, TypeError) as exc:  # internals that are there but not as they were
        FALLBACK.append("reading an answer failed: %s: %s" % (type(exc).__name__, exc))
        return SoapAdapter.SoapResponseDeserializer(outer).Deserialize(io.BytesIO(data), info.result)


def read_answer(data, stub, result_type, version=None):
    """The ``returnval`` of a SOAP answer (bytes) as a ``result_type``, its managed objects bound to ``stub``
    (as pyVmomi binds them), or None when it has none."""
    root = ET.fromstring(data)
    reader = Reader(stub, VmomiSupport.GetWsdlNamespace(version or stub.version))
    for elem in root.iter():
        if _local(elem.tag) == "returnval":
            return reader.value(elem, result_type)
    return None
