"""The device's configuration as the web app gives it (`GET /api/controller/config`,
interfaces.md §1), checked field by field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fermentrack.brewpi.temperature import TempFormat
from fermentrack.controller.profile_runner import Profile


@dataclass(frozen=True)
class DeviceConfig:
    """`GET /api/controller/config` (interfaces.md §1)."""

    device: str
    link: str
    log_interval_s: int
    temp_format: TempFormat
    profile: Profile | None
    config_version: int

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> DeviceConfig:
        """ValueError naming the field that is not as interfaces.md §1 says."""
        if not isinstance(data, Mapping):
            raise ValueError(f"config: expected an object, got {type(data).__name__}")

        def whole(key: str, low: int) -> int:
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"config {key}: expected a whole number >= {low}, got {value!r}")
            return value

        device, link = data.get("device"), data.get("link")
        if not isinstance(device, str) or not isinstance(link, str):
            raise ValueError(f"config device and link: expected text, got {device!r}, {link!r}")
        unit = data.get("temp_format")
        if unit not in ("C", "F"):
            raise ValueError(f'config temp_format: expected "C" or "F", got {unit!r}')
        profile = data.get("profile")
        return cls(
            device=device,
            link=link.strip(),
            log_interval_s=whole("log_interval_s", 1),
            temp_format=TempFormat(unit),
            profile=None if profile is None else Profile.from_config(profile),
            config_version=whole("config_version", 0),
        )
