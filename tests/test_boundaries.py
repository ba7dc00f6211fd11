"""The boundaries of ARCHITECTURE.md, checked on every module's imports: the protocol is pure,
the firmware and the controller never import Django, and the web app reaches a controller only
through controller/client.py. Pure packages shared by several processes (gravity's maths, push
and MQTT formats) import no Django either."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "fermentrack"
# The gravity modules without I/O, shared by the firmware, the controller and the web app.
PURE_GRAVITY = {"tilt", "units", "hygiene", "calibration", "holds"}
CLIENT = "fermentrack.controller.client"


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports (absolute names; `from a import b` counts as a.b too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def modules(package: str) -> list[Path]:
    return sorted((SOURCE / package).rglob("*.py"))


def ours(names: set[str]) -> set[str]:
    """Our packages' modules imported (the package's own `fermentrack.__version__` aside)."""
    return {name for name in names if name.startswith("fermentrack.")} - {"fermentrack.__version__"}


def package_of(name: str) -> str:
    return name.split(".")[1] if name.count(".") >= 1 else name


def gravity_module(name: str) -> str | None:
    parts = name.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "gravity" else None


@pytest.mark.parametrize("path", modules("brewpi"), ids=lambda p: p.name)
def test_the_protocol_package_imports_only_itself_and_the_standard_library(path):
    imported = imports_of(path)
    assert {package_of(name) for name in ours(imported)} <= {"brewpi"}, imported
    third_party = {"django", "serial", "serial_asyncio_fast", "zeroconf", "paho", "httpx"}
    assert not {name.split(".")[0] for name in imported} & third_party


@pytest.mark.parametrize(
    "path", modules("firmware") + modules("controller"), ids=lambda p: p.parent.name + "/" + p.name
)
def test_the_firmware_and_the_controller_never_import_django_or_the_web_app(path):
    imported = imports_of(path)
    assert not any(name == "django" or name.startswith("django.") for name in imported), imported
    allowed = {"brewpi", "config", path.parent.name} | (
        {"firmware"} if path.parent.name == "firmware" else {"controller"}
    )
    for name in ours(imported):
        if package_of(name) == "gravity":
            assert gravity_module(name) in PURE_GRAVITY | {None}, name
        else:
            assert package_of(name) in allowed, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", modules("web"), ids=lambda p: str(p.relative_to(SOURCE / "web")))
def test_the_web_app_reaches_a_controller_only_through_its_client(path):
    for name in ours(imports_of(path)):
        if package_of(name) == "controller":
            assert name == "fermentrack.controller" or name.startswith(CLIENT), (
                f"{path.name} imports {name}: the web app may use controller/client.py only"
            )
        assert package_of(name) != "firmware", f"{path.name} imports {name}"


@pytest.mark.parametrize(
    "path",
    [
        *modules("push"),
        *modules("mqtt"),
        *modules("discovery"),
        *(SOURCE / "gravity" / f"{name}.py" for name in sorted(PURE_GRAVITY)),
    ],
    ids=lambda p: p.parent.name + "/" + p.name,
)
def test_the_shared_packages_import_no_django_and_no_process(path):
    imported = imports_of(path)
    assert not any(name.split(".")[0] == "django" for name in imported), imported
    assert not {package_of(name) for name in ours(imported)} & {"controller", "web", "procman"}
