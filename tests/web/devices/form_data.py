"""What the add-device form posts, shared by the form and page tests."""

from __future__ import annotations


def add_form(**changes) -> dict:
    data = {
        "name": "fridge-2",
        "connection": "tcp",
        "host": "brewpi.local",
        "port": "23",
        "baud": "57600",
        "dialect": "esp",
        "log_interval_s": "30",
        "temp_format": "C",
    }
    data.update(changes)
    return data
