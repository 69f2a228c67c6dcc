"""The sandbox's TLS identity, so the official client reaches it over its normal secure channel.

``GoogleAdsClient`` always opens ``grpc.secure_channel`` (no insecure option), verifying the server
against gRPC's default root certificates. gRPC reads those from the file named by the environment
variable ``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`` once per process, at its first TLS handshake. So the
sandbox keeps a self-signed certificate for ``localhost`` and ``127.0.0.1`` in a folder and writes a
trust bundle next to it: gRPC's own roots plus that certificate, so real Google endpoints still verify
in the same process. gRPC reads the variable when it is imported and the file at the first handshake:
export ``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=<folder>/trust.pem`` before the client process starts (the
file itself may be written later, before the first connection).
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOTS_ENV = "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"
_GRPC_ROOTS = Path(grpc.__file__).parent / "_cython" / "_credentials" / "roots.pem"
_VALID_DAYS = 3650


@dataclass(frozen=True)
class TlsIdentity:
    """PEM certificate and key of the sandbox, and the trust bundle clients point gRPC at."""

    certificate: bytes
    private_key: bytes
    trust_bundle: Path


def ensure_identity(folder: Path) -> TlsIdentity:
    """The identity kept in ``folder`` (``cert.pem``, ``key.pem``, ``trust.pem``), created when missing.

    Reusing an existing certificate keeps a client's exported trust bundle valid across restarts.
    """
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path, bundle = folder / "cert.pem", folder / "key.pem", folder / "trust.pem"
    if not (cert_path.exists() and key_path.exists()):
        certificate, key = _self_signed()
        key_path.write_bytes(key)
        key_path.chmod(0o600)
        cert_path.write_bytes(certificate)
    certificate = cert_path.read_bytes()
    if not bundle.exists() or certificate not in bundle.read_bytes():
        bundle.write_bytes(_GRPC_ROOTS.read_bytes() + b"\n" + certificate)
    return TlsIdentity(certificate, key_path.read_bytes(), bundle)


def _self_signed() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "behavior-sync google-ads sandbox")])
    now = datetime.datetime.now(datetime.UTC)
    alt_names = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
        .add_extension(alt_names, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem
