"""The local server's TLS: a self-signed certificate made at first start, and drivers that
pin it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class TlsMixin:
    """A part of kg.runtime.LocalNeo4j (``self`` is one: typed Any here)."""

    def ensure_certificate(self: Any) -> Path:
        """A self-signed certificate for 127.0.0.1 and localhost, made at first start (and at
        the first start of a server made before kg used TLS). The private key is 0600."""
        crt, key_file = self.certificate, self.cert_dir / "private.key"
        if crt.exists() and key_file.exists():
            return crt
        import datetime as dt
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        self._make_root()
        for d in (self.cert_dir, self.cert_dir / "trusted", self.cert_dir / "revoked"):
            d.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, "kg local Neo4j"),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, str(self.root)[-60:]),
            ]
        )
        now = dt.datetime.now(dt.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_encipherment=True,
                    key_cert_sign=True,
                    content_commitment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        tmp = crt.with_suffix(".tmp")
        tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        tmp.replace(crt)
        return crt

    def tls_options(self: Any) -> dict[str, Any]:
        """Driver options that pin this server's certificate (empty before it has one: a
        server started by a kg older than TLS, until its next start)."""
        if not self.certificate.exists():
            return {}
        import neo4j

        return {
            "encrypted": True,
            "trusted_certificates": neo4j.TrustCustomCAs(str(self.certificate)),
        }

    def driver(self: Any, **kw: Any):
        """A driver for this server with its password and pinned certificate."""
        from neo4j import GraphDatabase

        return GraphDatabase.driver(
            self.uri, auth=("neo4j", self.read_password() or ""), **self.tls_options(), **kw
        )
