"""The stack's verbs of the `fermentrack` command (interfaces.md §5)."""

from __future__ import annotations

import argparse
import subprocess
import sys

from fermentrack import config
from fermentrack.procman import cron, service_files, stack, tls
from fermentrack.procman.layout import Layout

SYSTEMD_UNITS = "/etc/systemd/system"


def run_stack_verb(args: argparse.Namespace) -> int:
    layout = Layout()
    verb = args.verb
    try:
        if verb == "start":
            code = stack.start(layout)
            if code == 0:
                print(f"Fermentrack: open {web_address()}")
            return code
        if verb == "stop":
            return stack.stop(layout)
        if verb == "status":
            return stack.status(layout)
        if verb == "startifstopped":
            return stack.start_if_stopped(layout)
        if verb == "add2cron":
            return add_to_cron(layout)
        if verb == "quickstart":
            return quickstart(layout)
        if verb == "nginx-site":
            print(nginx_site(layout, args), end="")
            return 0
        if verb == "systemd-unit":
            print(service_files.systemd_unit(layout), end="")
            return 0
    except stack.StackError as error:
        print(f"fermentrack {verb}: {error}", file=sys.stderr)
        return 1
    raise AssertionError(f"unknown verb {verb}")


def web_address() -> str:
    host = config.env_text("FERMENTRACK_WEB_HOST", "127.0.0.1")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{shown}:{config.web_port()}/"


def add_to_cron(layout: Layout) -> int:
    added = cron.add_to_cron(layout)
    for line in added:
        print(f"added to your crontab: {line}")
    if not added:
        print("your crontab already starts Fermentrack at boot and checks it every 10 minutes")
    return 0


def quickstart(layout: Layout) -> int:
    """Prepare, create what a fresh install lacks (admin, chamber, beer), start."""
    layout.make_folders()
    stack.prepare_web_app()
    done = subprocess.run([sys.executable, "-m", "fermentrack.cli", "manage", "quickstart"])
    if done.returncode != 0:
        return done.returncode
    code = stack.start(layout)
    if code == 0:
        print(f"Fermentrack: open {web_address()}")
    return code


def nginx_site(layout: Layout, args) -> str:
    """The site `fermentrack nginx-site` prints; with --tls, the certificate is made first when
    missing, and what it is for and its fingerprint go to stderr (stdout is the site)."""
    certificate = None
    if args.tls:
        certificate, made = tls.ensure_certificate(layout.home, args.name, renew=args.renew)
        if made:
            print(
                f"made {certificate.certificate} for {', '.join(certificate.names())}; "
                f"SHA-256 {certificate.fingerprint()}",
                file=sys.stderr,
            )
        if not config.env_bool("FERMENTRACK_HTTPS", False):
            print(
                f"then put FERMENTRACK_HTTPS=true in {layout.home / config.ENVIRONMENT_FILE} and "
                "restart (fermentrack stop, fermentrack start): the login cookie then travels "
                "over HTTPS only",
                file=sys.stderr,
            )
    return service_files.nginx_site(
        layout,
        listen_port=args.port,
        server_name=args.server_name,
        tls=certificate,
        redirect_port=args.redirect_port,
    )
