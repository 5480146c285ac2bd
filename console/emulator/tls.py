"""The emulator's self-signed TLS certificate.

The console reaches the emulator exactly as it reaches Azure (``from_connection_string`` forces
https) and trusts this one certificate (``connection_verify=<cert path>``), so TLS stays verified.
The certificate and key live in the data dir and are reused while valid, so a console profile
that points at the certificate keeps working across restarts.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from console.emulator.identity import write_private_bytes

log = logging.getLogger(__name__)

CERT_FILE = "emulator-cert.pem"
KEY_FILE = "emulator-key.pem"
_VALIDITY = dt.timedelta(days=825)
# Renew well before expiry so a long-running console never meets an expired certificate.
_RENEW_BEFORE = dt.timedelta(days=30)


def _wanted_names(host: str) -> tuple[set[str], set[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    dns = {"localhost"}
    ips: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = {ipaddress.ip_address("127.0.0.1")}
    try:
        addr = ipaddress.ip_address(host)
        if not addr.is_unspecified:
            ips.add(addr)
    except ValueError:
        if host:
            dns.add(host)
    return dns, ips


def _usable(cert_path: Path, key_path: Path, host: str) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError):
        return False
    if cert.public_key().public_numbers() != key.public_key().public_numbers():  # type: ignore[union-attr]
        return False
    if cert.not_valid_after_utc - _RENEW_BEFORE < dt.datetime.now(dt.UTC):
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    dns, ips = _wanted_names(host)
    return dns <= set(san.get_values_for_type(x509.DNSName)) and ips <= set(
        san.get_values_for_type(x509.IPAddress)
    )


def ensure_certificate(data_dir: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """The (certificate, key) paths in ``data_dir``, generated when missing or unusable."""
    data_dir.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = data_dir / CERT_FILE, data_dir / KEY_FILE
    if _usable(cert_path, key_path, host):
        return cert_path, key_path
    log.info("Generating the emulator's TLS certificate in %s", data_dir)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ACS emulator (loopback)")])
    now = dt.datetime.now(dt.UTC)
    dns, ips = _wanted_names(host)
    san = [x509.DNSName(d) for d in sorted(dns)] + [x509.IPAddress(i) for i in sorted(ips, key=str)]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        # CA:TRUE lets OpenSSL accept it as its own trust anchor in a CA file.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    write_private_bytes(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    write_private_bytes(cert_path, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
    return cert_path, key_path


def server_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert_path, key_path)
    return ctx
