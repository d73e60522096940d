# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS failures name the fix that applies: a host name the certificate does not list, or a CA not trusted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ssl

from ansible_collections.vmshift.virt.plugins.module_utils.vsphere.errors import translate


def cert_error(code, message):
    exc = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: %s" % message)
    exc.verify_code, exc.verify_message = code, message
    return exc


def test_a_host_name_the_certificate_does_not_list_says_set_hostname_not_ca_path():
    error = translate(cert_error(62, "Hostname mismatch, certificate is not valid for '10.0.0.5'."),
                      "connect to", "vCenter", "10.0.0.5", "10.0.0.5:443")
    assert "was not issued for that host name" in error.message and "set hostname to a name the certificate lists" in error.message
    assert "ca_path" not in error.message


def test_an_untrusted_certificate_says_set_ca_path():
    error = translate(cert_error(19, "self-signed certificate in certificate chain"), "connect to", "vCenter", "vc", "vc:443")
    assert "is not trusted" in error.message and "set ca_path" in error.message
