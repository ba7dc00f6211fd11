"""What the stack hands to the system: the nginx site (run by a real nginx here), the crontab
entries (written to the real crontab with `crontab`, read back with python-crontab) and the
systemd unit."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import textwrap
from pathlib import Path

import httpx
import pytest
from crontab import CronTab

from .stack_rig import csrf_token, eventually, free_port, post_form

IN_CI = os.environ.get("CI") == "true"


def _command(name: str) -> str:
    path = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/sbin") / name) if p.exists()), None
    )
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is not installed: .ci/debian-packages must list it")
        pytest.skip(f"{name} is not installed on this machine")
    return path


@pytest.fixture
def start_nginx(stack, tmp_path):
    """start_nginx(*site_arguments): the system's nginx serving the site `fermentrack
    nginx-site` wrote with those arguments (ports are the test's); stopped after the test."""
    binary = _command("nginx")
    running = []

    def start(*arguments: str) -> None:
        site = tmp_path / "fermentrack.conf"
        site.write_text(stack.run("nginx-site", *arguments).stdout)
        main = tmp_path / "nginx.conf"
        temp = tmp_path / "temp"
        temp.mkdir()
        user = "user root;" if os.getuid() == 0 else ""  # the test's home is private to its user
        main.write_text(
            textwrap.dedent(
                f"""\
                {user}
                worker_processes 1;
                daemon off;
                pid {tmp_path}/nginx.pid;
                error_log {tmp_path}/error.log;
                events {{ worker_connections 64; }}
                http {{
                    include /etc/nginx/mime.types;
                    access_log {tmp_path}/access.log;
                    client_body_temp_path {temp}/body;
                    proxy_temp_path {temp}/proxy;
                    fastcgi_temp_path {temp}/fastcgi;
                    uwsgi_temp_path {temp}/uwsgi;
                    scgi_temp_path {temp}/scgi;
                    include {site};
                }}
                """
            )
        )
        running.append(subprocess.Popen([binary, "-p", str(tmp_path), "-c", str(main)]))

    yield start
    for process in running:
        process.terminate()
        process.wait(10)


@pytest.fixture
def nginx(start_nginx):
    """The system's nginx on a high port, serving the site `fermentrack nginx-site` wrote."""
    port = free_port()
    start_nginx("--port", str(port))
    url = f"http://127.0.0.1:{port}"
    eventually(lambda: httpx.get(f"{url}/static/", timeout=2), 20, "nginx answering")
    return url


def test_nginx_with_the_generated_site_serves_static_files_itself_and_pages_from_gunicorn(
    stack, nginx
):
    stack.quickstart()
    static = stack.home / "static" / "vendor" / "htmx.min.js"
    assert static.exists()

    answer = httpx.get(f"{nginx}/static/vendor/htmx.min.js")
    assert answer.status_code == 200
    assert answer.content == static.read_bytes()
    assert "gunicorn" not in answer.headers.get("server", "")
    assert "max-age" in answer.headers.get("cache-control", "")

    page = httpx.get(f"{nginx}/login/")
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.text


def test_a_person_logs_in_and_adds_a_device_through_nginx(stack, nginx):
    stack.quickstart()
    browser = httpx.Client(base_url=nginx, timeout=30)
    login = post_form(
        browser, "/login/", {"username": "admin", "password": stack.admin_password or ""}
    )
    assert login.status_code == 302, login.text[:300]
    added = post_form(
        browser,
        "/devices/add/",
        {
            "name": "via-nginx",
            "connection": "tcp",
            "host": "192.168.1.50",
            "port": "23",
            "baud": "57600",
            "dialect": "esp",
            "log_interval_s": "30",
            "temp_format": "C",
        },
    )
    assert added.status_code == 302, added.text[:300]
    assert added.headers["Location"] == "/devices/via-nginx/"
    assert stack.query("SELECT link FROM devices_device WHERE name = 'via-nginx'") == [
        ("tcp://192.168.1.50:23",)
    ]


def test_with_tls_nginx_serves_https_with_the_sites_own_certificate_and_forms_post_over_it(
    stack, start_nginx
):
    stack.home.mkdir(exist_ok=True)
    (stack.home / "fermentrack.env").write_text("FERMENTRACK_HTTPS=true\n")  # as it advises
    stack.quickstart()
    https_port, http_port = free_port(), free_port()
    start_nginx("--tls", "--port", str(https_port), "--redirect-port", str(http_port))
    certificate = stack.home / "tls" / "fermentrack.crt"
    key = stack.home / "tls" / "fermentrack.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    url = f"https://127.0.0.1:{https_port}"
    # Verified against the site's own certificate: made for this computer's addresses.
    trusting = ssl.create_default_context(cafile=str(certificate))
    browser = httpx.Client(base_url=url, timeout=30, verify=trusting)
    eventually(lambda: browser.get("/login/").status_code == 200, 20, "nginx answering HTTPS")

    plain = httpx.get(f"http://127.0.0.1:{http_port}/login/?next=/beers/")
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"{url}/login/?next=/beers/"

    # Forms post as a browser posts them over HTTPS: with the page's origin, which Django's CSRF
    # check compares with the scheme gunicorn takes from nginx's X-Forwarded-Proto.
    def post(path: str, data: dict) -> httpx.Response:
        page = browser.get(path)
        return browser.post(
            path,
            data={**data, "csrfmiddlewaretoken": csrf_token(page.text)},
            headers={"Origin": url, "Referer": f"{url}{path}"},
        )

    login = post("/login/", {"username": "admin", "password": stack.admin_password or ""})
    assert login.status_code == 302, login.text[:300]
    session = next(c for c in login.headers.get_list("set-cookie") if c.startswith("sessionid="))
    assert "Secure" in session  # never sent to a plain http:// address
    added = post(
        "/devices/add/",
        {
            "name": "via-https",
            "connection": "simulated",
            "dialect": "esp",
            "log_interval_s": "30",
            "temp_format": "C",
        },
    )
    assert added.status_code == 302, added.text[:300]
    assert stack.query("SELECT simulated FROM devices_device WHERE name = 'via-https'") == [(1,)]

    again = stack.run("nginx-site", "--tls")
    assert again.stderr == "", "the certificate a phone already trusts is kept"


@pytest.fixture
def user_crontab():
    """The real crontab of this user, put back as it was after the test."""
    binary = _command("crontab")
    before = subprocess.run([binary, "-l"], capture_output=True, text=True)
    try:
        yield binary
    finally:
        if before.returncode == 0:
            subprocess.run([binary, "-"], input=before.stdout, text=True, check=True)
        else:
            subprocess.run([binary, "-r"], capture_output=True)


def test_add2cron_adds_the_boot_ten_minute_and_nightly_entries_once(stack, user_crontab):
    first = stack.run("add2cron").stdout
    second = stack.run("add2cron").stdout

    assert first.count("added to your crontab") == 3
    assert "already starts Fermentrack" in second
    ours = [job for job in CronTab(user=True) if str(stack.home) in job.command]
    assert sorted(job.slices.render() for job in ours) == ["*/10 * * * *", "17 3 * * *", "@reboot"]
    by_schedule = {job.slices.render(): job.command for job in ours}
    assert by_schedule["@reboot"].endswith(" start")
    assert by_schedule["*/10 * * * *"].endswith(" startifstopped")
    assert by_schedule["17 3 * * *"].endswith(" backup --nightly")
    assert all(job.is_enabled() and job.is_valid() for job in ours)


def test_add2cron_keeps_what_else_the_crontab_holds(stack, user_crontab):
    subprocess.run(
        [user_crontab, "-"], input="0 3 * * * /usr/bin/backup-my-photos\n", text=True, check=True
    )

    stack.run("add2cron")

    lines = subprocess.run([user_crontab, "-l"], capture_output=True, text=True).stdout
    assert "0 3 * * * /usr/bin/backup-my-photos" in lines
    assert lines.count("startifstopped") == 1


def test_the_cron_entries_run_the_stack_from_their_own_command_line(stack, user_crontab):
    stack.run("add2cron")
    job = next(
        job
        for job in CronTab(user=True)
        if job.command.endswith("startifstopped") and str(stack.home) in job.command
    )
    # What cron would run: a plain shell, none of the test's environment but PATH.
    env = {"PATH": "/usr/bin:/bin", "FERMENTRACK_WEB_PORT": str(stack.web_port)}
    subprocess.run(["/bin/sh", "-c", job.command], env=env, check=True, timeout=120)

    assert stack.statuses().get("Fermentrack") == "active"


def test_the_systemd_unit_starts_and_stops_the_stack_and_follows_circusds_pid_file(stack):
    unit = stack.run("systemd-unit").stdout

    assert "Type=forking" in unit
    assert f"PIDFile={stack.home}/run/circusd.pid" in unit
    assert f"Environment=FERMENTRACK_HOME={stack.home}" in unit
    start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert start.endswith(" start")
    assert "never both" in unit
