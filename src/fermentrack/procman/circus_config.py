"""The generated `circus.ini` and circusd's own logging configuration, in FERMENTRACK_HOME.

circusd runs the web app (gunicorn on a circus-owned socket, so the port stays bound while
gunicorn restarts), the spawner and its statistics process; the spawner adds the device
watchers at run time. Every output goes to a file under log/ rotated at 2 MB, 5 kept.
"""

from __future__ import annotations

import configparser
import io
import json
import sys

from fermentrack import config
from fermentrack.procman.layout import (
    SPAWNER_WATCHER,
    STACK_MARKER,
    STATS_WATCHER,
    WEB_WATCHER,
    Layout,
    file_stream,
)

GUNICORN_WORKERS = 2  # a Pi has little memory; threads serve the rest
GUNICORN_THREADS = 4
GRACEFUL_TIMEOUT_S = 10


def python_command(*arguments: str) -> tuple[str, str]:
    """A watcher's cmd and args running this installation's Python (the virtual environment's)."""
    return sys.executable, " ".join(arguments)


def watcher_environment(layout: Layout) -> dict[str, str]:
    """What every watcher finds in its environment besides circusd's own."""
    return {"FERMENTRACK_HOME": str(layout.home), STACK_MARKER: str(layout.home)}


def _streams(section: dict[str, str], stdout, stderr) -> None:
    for name, stream in (("stdout_stream", stdout), ("stderr_stream", stderr)):
        if stream is None:
            continue
        for key, value in stream.items():
            section[f"{name}.{key}"] = str(value)


def circus_ini(layout: Layout) -> str:
    """The text of circus.ini for `layout`'s home."""
    ini = configparser.RawConfigParser()
    ini.optionxform = str  # environment variables keep their case
    ini["circus"] = {
        "endpoint": layout.endpoint("endpoint"),
        "pubsub_endpoint": layout.endpoint("pubsub"),
        "pidfile": str(layout.pidfile),
        "loggerconfig": str(layout.circus_logging),
        "check_delay": "5",
        "umask": "007",
    }
    ini["socket:web"] = {
        "host": config.env_text("FERMENTRACK_WEB_HOST", "127.0.0.1"),
        "port": str(config.web_port()),
    }
    cmd, args = python_command(
        "-m",
        "gunicorn",
        "--bind",
        "fd://$(circus.sockets.web)",
        "--workers",
        str(GUNICORN_WORKERS),
        "--threads",
        str(GUNICORN_THREADS),
        "--worker-class",
        "gthread",
        "--graceful-timeout",
        str(GRACEFUL_TIMEOUT_S),
        "--error-logfile",
        "-",
        "--capture-output",
        "--no-control-socket",  # it would live outside FERMENTRACK_HOME
        "fermentrack.web.wsgi:application",
    )
    web = {
        "cmd": cmd,
        "args": args,
        "use_sockets": "True",
        "working_dir": str(layout.home),
        "copy_env": "True",
        "graceful_timeout": str(GRACEFUL_TIMEOUT_S + 2),
    }
    # gunicorn logs to stderr, and --capture-output sends the workers' prints there too.
    _streams(web, None, file_stream(layout.web_log))
    ini[f"watcher:{WEB_WATCHER}"] = web
    ini[f"env:{WEB_WATCHER}"] = watcher_environment(layout)

    cmd, args = python_command("-m", "fermentrack.cli", "manage", "spawner")
    spawner = {
        "cmd": cmd,
        "args": args,
        "working_dir": str(layout.home),
        "copy_env": "True",
        "graceful_timeout": str(GRACEFUL_TIMEOUT_S),
    }
    _streams(spawner, None, file_stream(layout.spawner_log))
    ini[f"watcher:{SPAWNER_WATCHER}"] = spawner
    ini[f"env:{SPAWNER_WATCHER}"] = watcher_environment(layout)

    # circus' statistics, run as our own watcher rather than circusd's built-in (`statsd`),
    # whose once-a-second sampling of every process cost more CPU than the rest of the stack.
    cmd, args = python_command(
        "-m",
        "fermentrack.procman.circus_stats",
        "--endpoint",
        layout.endpoint("endpoint"),
        "--pubsub",
        layout.endpoint("pubsub"),
        "--statspoint",
        layout.endpoint("stats"),
    )
    ini[f"watcher:{STATS_WATCHER}"] = {
        "cmd": cmd,
        "args": args,
        "singleton": "True",
        "use_sockets": "True",  # it counts the connections waiting on the web socket
        "working_dir": str(layout.home),
        "copy_env": "True",
        "graceful_timeout": str(GRACEFUL_TIMEOUT_S),
    }
    ini[f"env:{STATS_WATCHER}"] = watcher_environment(layout)
    text = io.StringIO()
    ini.write(text)
    return text.getvalue()


def circus_logging(layout: Layout) -> str:
    """circusd's own log (logging.config.dictConfig), rotated like every other."""
    return json.dumps(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "plain": {"format": "%(asctime)s %(name)s[%(process)d] %(levelname)s %(message)s"}
            },
            "handlers": {
                "file": {
                    "class": "logging.handlers.RotatingFileHandler",
                    "filename": str(layout.circusd_log),
                    "maxBytes": config.LOG_ROTATE_BYTES,
                    "backupCount": config.LOG_ROTATE_KEEP,
                    "formatter": "plain",
                }
            },
            "root": {"level": "INFO", "handlers": ["file"]},
        },
        indent=2,
    )


def write_circus_config(layout: Layout) -> None:
    """Write circus.ini and its logging configuration (atomically: circusd may read them)."""
    layout.make_folders()
    for path, text in (
        (layout.circus_ini, circus_ini(layout)),
        (layout.circus_logging, circus_logging(layout)),
    ):
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(text)
        temporary.replace(path)
