"""BrewPi firmware on the network, found by browsing mDNS for `_brewpi._tcp` (zeroconf).

`browse_brewpi(seconds)` listens for a few seconds and answers what it found, never raising:
a computer without network or multicast gets an empty list and a message saying why.
`BrewPiBrowser` keeps browsing for as long as it is open (the tests watch a firmware come and
go with it).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from fermentrack.brewpi import mdns

log = logging.getLogger(__name__)

DEFAULT_BROWSE_S = 3.0
RESOLVE_TIMEOUT_MS = 1500  # asking a device for its address and TXT when the browse missed them
HOST_LOOKUP_S = 1.0  # whether this computer resolves a found host name (nss-mdns)


@dataclass
class FoundBrewPi:
    """One `_brewpi._tcp` service: its instance name, host, addresses, port and TXT."""

    name: str  # instance name without the service type, e.g. "brewpi1"
    host: str  # host name without the trailing dot, e.g. "brewpi1.local"
    addresses: list[str]
    port: int
    txt: dict[str, str] = field(default_factory=dict)
    used_by: str | None = None  # the device already added with this host/address and port
    # Whether this computer resolves `host` (a .local name needs nss-mdns, e.g. avahi on
    # Raspberry Pi OS); found() sets it.
    host_resolves: bool = False

    @property
    def board(self) -> str:
        return self.txt.get(mdns.TXT_BOARD, "")

    @property
    def version(self) -> str:
        return self.txt.get(mdns.TXT_VERSION, "")

    @property
    def revision(self) -> str:
        return self.txt.get(mdns.TXT_REVISION, "")

    @property
    def branch(self) -> str:
        return self.txt.get(mdns.TXT_BRANCH, "")

    @property
    def dialect(self) -> str | None:
        return self.txt.get(mdns.TXT_DIALECT) or mdns.dialect_for_board(self.board)

    @property
    def link(self) -> str:
        """tcp://host:port by the mDNS host name, which survives a new address from DHCP, when
        this computer can resolve it; by address otherwise."""
        if self.host_resolves or not self.addresses:
            return f"tcp://{self.host}:{self.port}"
        return f"tcp://{self.addresses[0]}:{self.port}"

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "host": self.host,
            "addresses": self.addresses,
            "port": self.port,
            "txt": self.txt,
            "link": self.link,
            "used_by": self.used_by,
        }


@dataclass
class BrowseResult:
    """What a browse found, and `problem` in words when browsing could not be done."""

    found: list[FoundBrewPi]
    problem: str | None = None


def _instance_name(full_name: str) -> str:
    suffix = "." + mdns.SERVICE_TYPE
    return full_name[: -len(suffix)] if full_name.endswith(suffix) else full_name


class BrewPiBrowser:
    """Browses `_brewpi._tcp` from open() to close(); `found()` resolves what is there now.

    Raises OSError (and zeroconf's own errors) from open() when the network cannot be browsed;
    browse_brewpi() turns those into a message.
    """

    def __init__(self, interfaces=None) -> None:
        self._interfaces = interfaces
        self._names: set[str] = set()
        self._lock = threading.Lock()
        self._zeroconf = None
        self._browser = None
        self.removed: list[str] = []  # instance names whose goodbye was seen, in order

    def open(self) -> BrewPiBrowser:
        from zeroconf import InterfaceChoice, IPVersion, ServiceBrowser, Zeroconf

        self._zeroconf = Zeroconf(
            interfaces=self._interfaces or InterfaceChoice.All, ip_version=IPVersion.V4Only
        )
        try:
            self._browser = ServiceBrowser(
                self._zeroconf, mdns.SERVICE_TYPE, handlers=[self._on_change]
            )
        except BaseException:
            self._zeroconf.close()
            raise
        return self

    def close(self) -> None:
        if self._browser is not None:
            self._browser.cancel()
            self._browser = None
        if self._zeroconf is not None:
            self._zeroconf.close()
            self._zeroconf = None

    def __enter__(self) -> BrewPiBrowser:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def _on_change(self, zeroconf, service_type, name, state_change) -> None:
        # Runs in zeroconf's thread: only note the name; resolving happens in found().
        from zeroconf import ServiceStateChange

        with self._lock:
            if state_change is ServiceStateChange.Removed:
                self._names.discard(name)
                self.removed.append(_instance_name(name))
            else:
                self._names.add(name)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(_instance_name(name) for name in self._names)

    def found(self, used_links: Mapping[str, str] | None = None) -> list[FoundBrewPi]:
        """Every service seen and not withdrawn, resolved to host, addresses, port and TXT."""
        with self._lock:
            names = sorted(self._names)
        devices = []
        for name in names:
            info = self._zeroconf.get_service_info(
                mdns.SERVICE_TYPE, name, timeout=RESOLVE_TIMEOUT_MS
            )
            if info is None or not info.port:
                log.info("mDNS: %s did not say where it is; left out", name)
                continue
            host = (info.server or "").rstrip(".")
            addresses = [socket.inet_ntoa(raw) for raw in info.addresses if len(raw) == 4]
            device = FoundBrewPi(
                name=_instance_name(name),
                host=host or (addresses[0] if addresses else ""),
                addresses=addresses,
                port=info.port,
                txt=mdns.decode_txt(info.properties),
            )
            device.used_by = _user_of(device, used_links or {})
            devices.append(device)
        resolving = _resolvable({device.host for device in devices if device.host})
        for device in devices:
            device.host_resolves = resolving.get(device.host, False)
        return devices


def _resolvable(hosts: set[str]) -> dict[str, bool]:
    """Which host names this computer resolves, asking at most HOST_LOOKUP_S for all."""
    if not hosts:
        return {}
    pool = ThreadPoolExecutor(max_workers=min(8, len(hosts)), thread_name_prefix="mdns-lookup")
    futures = {host: pool.submit(socket.getaddrinfo, host, None, socket.AF_INET) for host in hosts}
    wait(futures.values(), timeout=HOST_LOOKUP_S)
    pool.shutdown(wait=False, cancel_futures=True)
    return {
        host: future.done() and not future.cancelled() and future.exception() is None
        for host, future in futures.items()
    }


def _user_of(device: FoundBrewPi, used_links: Mapping[str, str]) -> str | None:
    """The device whose tcp:// link names this one's host (with or without .local) or one of its
    addresses, and its port."""
    hosts = {device.host.lower(), device.host.lower().removesuffix(".local")}
    hosts.update(device.addresses)
    for link, device_name in used_links.items():
        scheme, _, rest = link.partition("://")
        if scheme != "tcp":
            continue
        host, _, port = rest.partition("?")[0].rstrip("/").rpartition(":")
        host = host.strip("[]").lower().rstrip(".")
        if port.isdigit() and int(port) == device.port and host in hosts:
            return device_name
    return None


def browse_brewpi(
    seconds: float = DEFAULT_BROWSE_S,
    used_links: Mapping[str, str] | None = None,
    *,
    interfaces=None,
) -> BrowseResult:
    """Listen for `seconds` and answer the BrewPi firmware found; never raises."""
    try:
        with BrewPiBrowser(interfaces) as browser:
            time.sleep(seconds)
            found = browser.found(used_links)
    except ImportError as error:
        log.warning("mDNS browse not possible: %s", error)
        return BrowseResult([], "searching the network needs the zeroconf package")
    except Exception as error:  # OSError (no network, no multicast), zeroconf's errors
        log.warning("mDNS browse failed: %s: %s", type(error).__name__, error)
        return BrowseResult(
            [],
            f"could not search the network ({error or type(error).__name__}): this computer "
            "may have no network connection or no multicast",
        )
    log.info("mDNS browse for %g s found %d BrewPi device(s)", seconds, len(found))
    return BrowseResult(found)
