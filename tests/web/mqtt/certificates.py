"""Throwaway certificate authorities and broker certificates for the TLS tests, made with the
`openssl` command (in .ci/debian-packages). Without it the tests fail, saying so."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Authority:
    certificate: Path
    key: Path

    def pem(self) -> str:
        return self.certificate.read_text()


def _openssl(*args: str, folder: Path) -> None:
    binary = shutil.which("openssl")
    if binary is None:
        raise RuntimeError(
            "the TLS tests make their certificates with the openssl command: install openssl "
            "(it is in .ci/debian-packages)"
        )
    done = subprocess.run(
        [binary, *args], cwd=folder, capture_output=True, text=True, timeout=30, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{done.stderr}")


def _new_key(folder: Path, name: str) -> Path:
    key = folder / f"{name}.key"
    _openssl(
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        key.name,
        folder=folder,
    )
    return key


def make_authority(folder: Path, name: str) -> Authority:
    """A CA valid for two days, `name`.crt / `name`.key in `folder`."""
    key = _new_key(folder, name)
    certificate = folder / f"{name}.crt"
    _openssl(
        "req",
        "-x509",
        "-new",
        "-key",
        key.name,
        "-out",
        certificate.name,
        "-days",
        "2",
        "-subj",
        f"/CN=Fermentrack test {name}",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        folder=folder,
    )
    return Authority(certificate, key)


def make_server_certificate(
    folder: Path, name: str, authority: Authority, names: str
) -> tuple[Path, Path]:
    """A broker certificate signed by `authority` for `names` (a subjectAltName value, e.g.
    IP:127.0.0.1,DNS:localhost); (certificate, key)."""
    key = _new_key(folder, name)
    request = folder / f"{name}.csr"
    _openssl(
        "req", "-new", "-key", key.name, "-out", request.name, "-subj", f"/CN={name}", folder=folder
    )
    extensions = folder / f"{name}.ext"
    extensions.write_text(
        f"subjectAltName={names}\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    )
    certificate = folder / f"{name}.crt"
    _openssl(
        "x509",
        "-req",
        "-in",
        request.name,
        "-CA",
        str(authority.certificate),
        "-CAkey",
        str(authority.key),
        "-set_serial",
        "2",
        "-days",
        "2",
        "-extfile",
        extensions.name,
        "-out",
        certificate.name,
        folder=folder,
    )
    return certificate, key


@dataclass(frozen=True)
class TlsFiles:
    authority: Authority  # signed the broker's certificates
    stranger: Authority  # another CA: signed nothing the broker shows
    server: tuple[Path, Path]  # for IP:127.0.0.1 and localhost
    elsewhere: tuple[Path, Path]  # for broker.example only


def make_tls_files(folder: Path) -> TlsFiles:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # mosquitto, run as root, drops to its own user
    authority = make_authority(folder, "ca")
    files = TlsFiles(
        authority=authority,
        stranger=make_authority(folder, "other-ca"),
        server=make_server_certificate(folder, "server", authority, "IP:127.0.0.1,DNS:localhost"),
        elsewhere=make_server_certificate(folder, "elsewhere", authority, "DNS:broker.example"),
    )
    for path in folder.iterdir():
        path.chmod(0o644)  # throwaway keys: readable to the mosquitto user
    return files
