"""The site's own certificate for HTTPS: made once for this computer's names and addresses (and
any the brewer adds), its key private to its owner, kept across runs unless renewed."""

from __future__ import annotations

import datetime
import os
import ssl
import subprocess
import sys

from cryptography import x509

from fermentrack.procman.tls import VALID_DAYS, ensure_certificate, this_computers_names


def test_a_certificate_is_made_for_this_computers_names_and_the_ones_asked_for(tmp_path):
    site, made = ensure_certificate(tmp_path, ["brewery.example", "10.0.0.7"])

    assert made
    names = set(site.names())
    host_names, addresses = this_computers_names()
    assert {*host_names, *addresses, "brewery.example", "10.0.0.7"} <= names
    assert {"localhost", "127.0.0.1"} <= names
    assert oct(site.key.stat().st_mode & 0o777) == "0o600"
    loaded = x509.load_pem_x509_certificate(site.certificate.read_bytes())
    lifetime = loaded.not_valid_after_utc - loaded.not_valid_before_utc
    assert lifetime >= datetime.timedelta(days=VALID_DAYS)
    # It is a server's certificate a TLS library accepts with its key.
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(site.certificate, site.key)


def test_the_certificate_is_kept_across_runs_and_replaced_only_when_renewed(tmp_path):
    first, _ = ensure_certificate(tmp_path)
    fingerprint = first.fingerprint()

    kept, made = ensure_certificate(tmp_path, ["another.name"])
    assert not made and kept.fingerprint() == fingerprint
    assert "another.name" not in kept.names()

    renewed, made = ensure_certificate(tmp_path, ["another.name"], renew=True)
    assert made and renewed.fingerprint() != fingerprint
    assert "another.name" in renewed.names()
    assert len(fingerprint.split(":")) == 32


def test_nginx_site_with_tls_prints_the_site_and_says_what_was_made_and_what_to_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FERMENTRACK_")}
    env["FERMENTRACK_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "fermentrack.cli", "nginx-site", "--tls"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert f"ssl_certificate {tmp_path}/tls/fermentrack.crt;" in done.stdout
    assert "return 301 https://$host$request_uri;" in done.stdout  # 80 to 443
    made, advice = done.stderr.splitlines()
    assert made.startswith(f"made {tmp_path}/tls/fermentrack.crt for ") and "SHA-256 " in made
    assert f"put FERMENTRACK_HTTPS=true in {tmp_path}/fermentrack.env" in advice
