"""TLS options against a real HTTPS server on 127.0.0.1 with a freshly made self-signed
certificate: verification on by default, a CA file makes it trusted, `insecure` skips it."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conveyor.client import NetworkError, RegistryClient, RetryPolicy, TlsOptions

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


class _V2(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # the registry ping, all a TLS check needs
        body = b"{}"
        self.send_response(200 if self.path == "/v2/" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "conveyor-test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def https_registry(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _V2)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()
    thread.join(10)


async def test_an_unknown_certificate_is_refused_at_once(https_registry: tuple[str, Path]) -> None:
    url, _ = https_registry
    async with RegistryClient(url, retry=RetryPolicy(attempts=5, base_delay=2.0)) as registry:
        with pytest.raises(NetworkError) as caught:
            await registry.ping()
    assert "certificate" in str(caught.value).lower()


async def test_a_ca_file_makes_the_certificate_trusted(https_registry: tuple[str, Path]) -> None:
    url, cert = https_registry
    async with RegistryClient(url, tls=TlsOptions(ca_file=cert)) as registry:
        await registry.ping()


async def test_insecure_skips_verification(https_registry: tuple[str, Path]) -> None:
    url, _ = https_registry
    async with RegistryClient(url, tls=TlsOptions(insecure=True)) as registry:
        await registry.ping()
