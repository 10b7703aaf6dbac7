"""The webhook sender over TLS: it connects to the checked address and still verifies the URL's host."""
from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chalicelib.partner_webhooks import sender, ssrf


def _certificate(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(name))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_receiver(tmp_path):
    cert, key = _certificate(tmp_path, "127.0.0.1")
    got: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], cert, got
    server.shutdown()
    server.server_close()


def test_https_delivery_verifies_the_certificate_of_the_urls_host(tls_receiver, monkeypatch):
    port, cert, got = tls_receiver
    target = ssrf.parse(f"https://127.0.0.1:{port}/hook", local_stage=True)
    untrusted = sender.post(target, b'{"a":1}', {}, timeout=5)
    assert untrusted.status_code is None and "CERTIFICATE_VERIFY_FAILED" in (untrusted.error or "")
    trusting = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(sender.ssl, "create_default_context", lambda: trusting)
    outcome = sender.post(target, b'{"a":1}', {"X-Test": "1"}, timeout=5)
    assert (outcome.status_code, outcome.error) == (204, None) and got == [b'{"a":1}']
