"""The site's own TLS certificate, for HTTPS out of the box behind the system's nginx.

A brewery on a home network has no public name to get a certificate for, so `fermentrack
nginx-site --tls` makes one itself the first time: self-signed, for this computer's names (its
host name, that name under `.local` for mDNS, localhost) and addresses, valid ten years, with its
key readable by its owner only. Browsers ask once to trust it; its SHA-256 fingerprint, printed
when it is made, is what to compare on the phone. It is kept across runs and never replaced
unless asked (`--renew`), so a phone that trusts it keeps trusting it.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 3650


@dataclass(frozen=True)
class SiteCertificate:
    certificate: Path
    key: Path

    def fingerprint(self) -> str:
        """SHA-256 of the certificate, as browsers show it: AB:CD:…"""
        loaded = x509.load_pem_x509_certificate(self.certificate.read_bytes())
        return loaded.fingerprint(hashes.SHA256()).hex(":").upper()

    def names(self) -> list[str]:
        loaded = x509.load_pem_x509_certificate(self.certificate.read_bytes())
        alternatives = loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        return [str(name.value) for name in alternatives.value]


def site_certificate(home: Path) -> SiteCertificate:
    folder = home / "tls"
    return SiteCertificate(folder / "fermentrack.crt", folder / "fermentrack.key")


def this_computers_names() -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) a browser on the home network may use for this computer."""
    host = socket.gethostname().split(".")[0] or "fermentrack"
    names = [host, f"{host}.local", "localhost"]
    addresses = {"127.0.0.1", "::1"}
    for family, target in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        # The address this computer would reach the network from (nothing is sent).
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.connect((target, 9))
                addresses.add(probe.getsockname()[0])
        except OSError:
            pass
    return names, sorted(addresses)


def ensure_certificate(
    home: Path,
    extra_names: list[str] | tuple[str, ...] = (),
    *,
    renew: bool = False,
    now: datetime.datetime | None = None,
) -> tuple[SiteCertificate, bool]:
    """The site's certificate, made when missing (or `renew`); (it, whether it was made now)."""
    site = site_certificate(home)
    if site.certificate.exists() and site.key.exists() and not renew:
        return site, False
    names, addresses = this_computers_names()
    for extra in extra_names:
        try:
            addresses.append(str(ipaddress.ip_address(extra)))
        except ValueError:
            names.append(extra)
    key = ec.generate_private_key(ec.SECP256R1())
    now = now or datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alternatives = [x509.DNSName(name) for name in dict.fromkeys(names)] + [
        x509.IPAddress(ipaddress.ip_address(address)) for address in dict.fromkeys(addresses)
    ]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    site.key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private(site.key, key_bytes)
    site.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return site, True


def _write_private(path: Path, data: bytes) -> None:
    staged = path.with_name(path.name + ".new")
    descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.replace(staged, path)
