"""`fermentrack web`: prepare the database and static files, then serve the app in the foreground.

Production runs gunicorn under circus (procman); this is the same app for development and tests.
"""

from __future__ import annotations

import os


def prepare() -> None:
    """Migrate and collect static files: what `start` does before the web app comes up."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fermentrack.web.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def run_web(host: str, port: int | None) -> int:
    from fermentrack import config

    port = port or config.web_port()
    prepare()
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    print(f"web app on http://{host}:{port}/", flush=True)
    run(host, port, get_wsgi_application(), threading=True)
    return 0
