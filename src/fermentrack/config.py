"""Facts every process shares, read from the environment in this one place.

Where state lives (FERMENTRACK_HOME and its folders), the default ports, the rule for device
names, and typed readers for FERMENTRACK_* variables that stop start-up with a message naming
the variable and what it should hold. The web settings, the controller and the process manager
all import from here; none of them reads os.environ for these facts itself.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

DEFAULT_HOME = "./fermentrack-home"
DEFAULT_WEB_PORT = 8123
DEFAULT_HTTP_PORT = 8080
LOG_ROTATE_BYTES = 2 * 1024 * 1024  # every log file is rotated at 2 MB ...
LOG_ROTATE_KEEP = 5  # ... and the last 5 are kept
DEVICE_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")


class ConfigError(ValueError):
    """A FERMENTRACK_* variable (or a name) that cannot be used; the message says why."""


def check_device_name(name: str) -> str:
    """A device name becomes a process and file name: a slug, or ConfigError."""
    if not isinstance(name, str) or not DEVICE_NAME_PATTERN.match(name):
        raise ConfigError(
            f"device name {name!r} may hold only a-z, 0-9 and '-', start with a letter or digit, "
            "and be at most 48 characters"
        )
    return name


def env_text(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int, *, low: int | None = None, high: int | None = None) -> int:
    text = os.environ.get(name)
    if text is None or text.strip() == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r}: expected a whole number") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{name}={text!r}: expected a number from {low} to {high}")
    return value


def env_bool(name: str, default: bool) -> bool:
    text = os.environ.get(name)
    if text is None or text.strip() == "":
        return default
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={text!r}: expected true or false (1/0, yes/no, on/off)")


def env_port(name: str, default: int) -> int:
    return env_int(name, default, low=1, high=65535)


ENVIRONMENT_FILE = "fermentrack.env"


def load_environment_file() -> list[str]:
    """FERMENTRACK_HOME/fermentrack.env: `NAME=value` lines (blank lines and `#` comments
    allowed) for settings that must hold however a process starts, cron's minimal environment
    included. A variable already set in the environment wins. Answers the names it set;
    ConfigError naming the line that is not `NAME=value`."""
    path = home() / ENVIRONMENT_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    except OSError as error:
        raise ConfigError(f"{path}: {error.strerror}") from None
    loaded = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigError(f"{path}, line {number}: expected NAME=value, got {line!r}")
        if name == "FERMENTRACK_HOME":
            raise ConfigError(
                f"{path}, line {number}: FERMENTRACK_HOME cannot be set from inside it"
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if name not in os.environ:
            os.environ[name] = value
            loaded.append(name)
    return loaded


def home() -> Path:
    """FERMENTRACK_HOME: the one folder all state lives in."""
    return Path(env_text("FERMENTRACK_HOME", DEFAULT_HOME)).expanduser().resolve()


def log_dir() -> Path:
    return home() / "log"


def run_dir() -> Path:
    return home() / "run"


def firmware_dir() -> Path:
    return home() / "firmware"


def controller_socket_path(device_name: str) -> Path:
    """Where the controller of `device_name` answers the web app (interfaces.md §2)."""
    return run_dir() / f"dev-{check_device_name(device_name)}.sock"


def web_port() -> int:
    return env_port("FERMENTRACK_WEB_PORT", DEFAULT_WEB_PORT)


def local_api_url() -> str:
    """The web app on this host, as the processes circus runs here reach it."""
    return f"http://127.0.0.1:{web_port()}"


def api_url() -> str:
    """FERMENTRACK_API_URL: where a controller or the Tilt scanner finds the web app."""
    url = env_text("FERMENTRACK_API_URL", f"http://127.0.0.1:{DEFAULT_WEB_PORT}").strip()
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"FERMENTRACK_API_URL={url!r}: expected http://host:port or https://host")
    return url


def token_fingerprint(token: str) -> str:
    """What the web app keeps of a device's token (SHA-256, hex), and the secret a controller on
    another computer is asked for over TCP (interfaces.md §2): the controller works it out
    from its token, the web app has it already, and the token itself never travels."""
    return hashlib.sha256(token.encode()).hexdigest()


def required_token(name: str, where_from: str) -> str:
    """A token a process cannot run without; ConfigError saying where it comes from."""
    token = env_text(name, "").strip()
    if not token:
        raise ConfigError(f"{name} is not set: {where_from}")
    return token


def http_port() -> int:
    return env_port("FERMENTRACK_HTTP_PORT", DEFAULT_HTTP_PORT)


# -- push targets (web/push): fixed service addresses, overridable for tests and proxies --------


def brewers_friend_stream_url() -> str:
    """FERMENTRACK_BREWERSFRIEND_URL: Brewer's Friend's stream address; the key is appended."""
    return _service_url("FERMENTRACK_BREWERSFRIEND_URL", "https://log.brewersfriend.com/stream")


def thingspeak_update_url() -> str:
    """FERMENTRACK_THINGSPEAK_URL: ThingSpeak's channel update address."""
    return _service_url("FERMENTRACK_THINGSPEAK_URL", "https://api.thingspeak.com/update.json")


def push_time_scale() -> int:
    """FERMENTRACK_PUSH_TIME_SCALE (tests only): every push interval and backoff is divided by
    it, so at 60 a 15-minute interval passes in 15 s. 1 (real time) unless set."""
    return env_int("FERMENTRACK_PUSH_TIME_SCALE", 1, low=1, high=3600)


def _service_url(name: str, default: str) -> str:
    url = env_text(name, default).strip()
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{name}={url!r}: expected http://host/path or https://host/path")
    return url
