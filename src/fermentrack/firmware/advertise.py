"""Our firmware announces itself by mDNS as `_brewpi._tcp`, as BrewPi ESP firmware does, while
it serves the protocol over TCP, so "Search the network" on the add-device page finds it.

Advertising is a courtesy: when it cannot be done (zeroconf not installed, no multicast on the
network) one line is logged and the firmware goes on serving. zeroconf is imported only here,
and only when advertising starts, so the firmware runs on a Pi without it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from dataclasses import dataclass, field

from fermentrack.brewpi import mdns
from fermentrack.brewpi.temperature import Dialect

log = logging.getLogger(__name__)

# How long registering (probing the name, announcing) and saying goodbye may take before we
# give up on them; serving and stopping never wait longer than this for mDNS.
REGISTER_TIMEOUT_S = 10.0
GOODBYE_TIMEOUT_S = 3.0


def firmware_txt(dialect: Dialect, hardware: str) -> dict[str, str]:
    """The TXT record of our firmware: what it runs on, and the version `n` reports."""
    # Imported here: command_processor pulls in the whole firmware, which callers already have.
    from fermentrack.firmware.command_processor import ESP_REVISION, PROTOCOL_VERSION

    return {
        mdns.TXT_BOARD: mdns.OUR_BOARDS.get(hardware, f"Fermentrack-{hardware}"),
        mdns.TXT_BRANCH: mdns.OUR_BRANCH,
        mdns.TXT_VERSION: PROTOCOL_VERSION[dialect],
        mdns.TXT_REVISION: ESP_REVISION if dialect is Dialect.ESP else "",
        mdns.TXT_DIALECT: dialect.value,
    }


@dataclass
class Announcement:
    """What to announce: instance and host name (`<name>._brewpi._tcp.local.`,
    `<name>.local.`) and the TXT record. The address and port come from the bound socket."""

    name: str
    txt: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        mdns.check_mdns_name(self.name)


def where_to_announce(bound_host: str) -> tuple[list[str] | None, list[str]] | None:
    """(interfaces, addresses) for a server bound to `bound_host`: None for interfaces means
    all of them. None when there is nothing to announce (an IPv6-only address: we announce
    IPv4 only)."""
    try:
        address = ipaddress.ip_address(bound_host)
    except ValueError:
        return None
    if address.is_unspecified:
        # Bound to every interface: announce on all, with this host's addresses other than
        # loopback (loopback alone when that is all there is).
        addresses = _host_ipv4_addresses()
        outside = [a for a in addresses if not ipaddress.ip_address(a).is_loopback]
        return None, outside or addresses or ["127.0.0.1"]
    if address.version != 4:
        return None
    # Bound to one address (127.0.0.1 for a firmware only this computer reaches): announce it
    # on that interface alone, so a loopback-only firmware is never offered to the network.
    return [str(address)], [str(address)]


def _host_ipv4_addresses() -> list[str]:
    import ifaddr  # zeroconf's own dependency, present whenever zeroconf is

    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if ip.is_IPv4 and ip.ip not in found:
                found.append(ip.ip)
    return found


class Advertiser:
    """Registers one `_brewpi._tcp` service until `close()`; every failure is logged in one
    line and leaves the firmware serving."""

    def __init__(self, announcement: Announcement) -> None:
        self.announcement = announcement
        self.registered_name: str | None = None
        self._zeroconf = None
        self._info = None

    async def start(self, bound_host: str, port: int) -> bool:
        """Register for the server bound at (bound_host, port); True when announced."""
        try:
            return await asyncio.wait_for(self._register(bound_host, port), REGISTER_TIMEOUT_S)
        except ImportError as error:
            log.warning("mDNS advertising off: zeroconf is not installed (%s)", error)
        except TimeoutError:
            log.warning(
                "mDNS advertising off: registering %s took over %g s; still serving",
                self.announcement.name,
                REGISTER_TIMEOUT_S,
            )
        except Exception as error:  # no multicast, no interface, a name conflict ...
            log.warning("mDNS advertising off: %s: %s; still serving", type(error).__name__, error)
        await self._close_quietly()
        return False

    async def _register(self, bound_host: str, port: int) -> bool:
        where = where_to_announce(bound_host)
        if where is None:
            log.warning(
                "mDNS advertising off: serving on %s, and only IPv4 addresses are announced",
                bound_host,
            )
            return False
        from zeroconf import InterfaceChoice, IPVersion, ServiceInfo
        from zeroconf.asyncio import AsyncZeroconf

        interfaces, addresses = where
        name = self.announcement.name
        self._info = ServiceInfo(
            mdns.SERVICE_TYPE,
            f"{name}.{mdns.SERVICE_TYPE}",
            port=port,
            addresses=[socket.inet_aton(address) for address in addresses],
            properties=self.announcement.txt,
            server=f"{name}.local.",
        )
        self._zeroconf = AsyncZeroconf(
            interfaces=interfaces if interfaces is not None else InterfaceChoice.All,
            ip_version=IPVersion.V4Only,
        )
        announced = await self._zeroconf.async_register_service(self._info, allow_name_change=True)
        await announced
        self.registered_name = self._info.name
        log.info(
            "advertising %s by mDNS at %s port %d (%s)",
            self._info.name,
            ", ".join(addresses),
            port,
            ", ".join(f"{key}={value}" for key, value in self.announcement.txt.items()),
        )
        return True

    async def close(self) -> None:
        """Say goodbye (so browsers drop us at once) and shut zeroconf down."""
        if self._zeroconf is None:
            return
        try:
            await asyncio.wait_for(self._zeroconf.async_close(), GOODBYE_TIMEOUT_S)
            if self.registered_name:
                log.info("mDNS: withdrew %s", self.registered_name)
        except Exception as error:
            log.warning("mDNS: withdrawing %s failed: %s", self.announcement.name, error)
        finally:
            self._zeroconf = None

    async def _close_quietly(self) -> None:
        if self._zeroconf is None:
            return
        try:
            await asyncio.wait_for(self._zeroconf.async_close(), GOODBYE_TIMEOUT_S)
        except Exception:
            log.debug("closing zeroconf after a failed start", exc_info=True)
        self._zeroconf = None
