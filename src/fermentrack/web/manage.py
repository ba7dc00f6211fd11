"""Django's manage.py, as `fermentrack manage ...`."""

from __future__ import annotations

import os
import sys


def run_manage(arguments: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fermentrack.web.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["fermentrack manage", *arguments])
    return 0


if __name__ == "__main__":
    sys.exit(run_manage(sys.argv[1:]))
