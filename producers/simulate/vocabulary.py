"""The words real Windows logs vary by: GUIDs, services, updates, user names, DNS names.

Message templates take ``(rng, host, when)`` so that two events of one kind differ as real ones
do (numbers, GUIDs, paths, accounts) while keeping their fixed wording.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from random import Random
from typing import NamedTuple

from deskwatch.producers.simulate.fleet import Host

Render = Callable[[Random, Host, datetime], str]

LEVELS = ("critical", "error", "warning", "info")


class Template(NamedTuple):
    """One kind of Windows event: where it comes from and how its message reads."""

    provider: str
    code: str
    level: str
    channel: str
    render: Render


Planned = tuple[float, int, Template]  # (offset seconds from the start, host index, template)


SERVICES = (
    "Windows Modules Installer",
    "Background Intelligent Transfer Service",
    "Windows Update",
    "WinHTTP Web Proxy Auto-Discovery Service",
    "Windows Error Reporting Service",
    "Software Protection",
    "Delivery Optimization",
    "Microsoft Store Install Service",
    "Network Setup Service",
    "Windows Defender Advanced Threat Protection Service",
    "Device Setup Manager",
    "Microsoft Edge Update Service (edgeupdate)",
    "Google Chrome Elevation Service (GoogleChromeElevationService)",
    "Volume Shadow Copy",
)
AGENT_SERVICES = (
    "GLPI Agent",
    "OCS Inventory Service",
    "Zabbix Agent 2",
    "Veeam Agent for Microsoft Windows",
    "Citrix Desktop Service",
    "FusionInventory-Agent",
    "Sophos Endpoint Defense Service",
)
APPLICATIONS = (
    ("EXCEL.EXE", "16.0.17928.20156", "mso20win32client.dll"),
    ("OUTLOOK.EXE", "16.0.17928.20156", "olmapi32.dll"),
    ("WINWORD.EXE", "16.0.17928.20156", "wwlib.dll"),
    ("msedge.exe", "131.0.2903.70", "msedge.dll"),
    ("AcroRd32.exe", "24.4.20220.0", "AcroRd32.dll"),
    ("ms-teams.exe", "24295.605.3225.8804", "KERNELBASE.dll"),
)
LOOKUP_NAMES = (
    "wpad.{domain}",
    "intranet.{domain}",
    "glpi.{domain}",
    "login.microsoftonline.com",
    "settings-win.data.microsoft.com",
    "ctldl.windowsupdate.com",
    "{site}-DC01.{domain}",
    "messagerie.{domain}",
    "time.windows.com",
    "v10.events.data.microsoft.com",
)


def guid(rng: Random) -> str:
    """A random GUID in registry spelling, lower case."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def hexnum(rng: Random, digits: int) -> str:
    """``0x`` and ``digits`` upper-case hex digits, as Windows prints ids and offsets."""
    return f"0x{rng.getrandbits(4 * digits):0{digits}X}"


def product(host: Host) -> str:
    """The OS product name of a host's build, as update titles spell it."""
    build = host.os_build.split(".")[2] if host.os_build.count(".") >= 2 else ""
    return {
        "19045": "Windows 10 Version 22H2",
        "19044": "Windows 10 Version 21H2",
        "22621": "Windows 11 Version 22H2",
        "22631": "Windows 11 Version 23H2",
        "26100": "Windows 11 Version 24H2",
        "17763": "Windows Server 2019",
        "20348": "Microsoft server operating system version 21H2",
    }.get(build, "Windows 10 Version 22H2")


def update_title(rng: Random, host: Host, when: datetime) -> str:
    """A Windows Update title of the month, e.g. a cumulative update or a Defender update."""
    kb = f"KB50{rng.randint(40000, 49999)}"
    kind = rng.randrange(4)
    if kind == 0:
        return f"{when:%Y-%m} Cumulative Update for {product(host)} for x64-based Systems ({kb})"
    if kind == 1:
        return (
            f"Security Intelligence Update for Microsoft Defender Antivirus - KB2267602 "
            f"(Version 1.421.{rng.randint(100, 999)}.0) - Current Channel (Broad)"
        )
    if kind == 2:
        dotnet = ".NET Framework 3.5, 4.8 and 4.8.1"
        return f"{when:%Y-%m} Cumulative Update for {dotnet} for {product(host)} ({kb})"
    return f"Windows Malicious Software Removal Tool x64 - v5.{rng.randint(120, 135)} ({kb})"


def lookup_name(rng: Random, host: Host, domain: str) -> str:
    """A DNS name a workstation resolves."""
    return rng.choice(LOOKUP_NAMES).format(domain=domain, site=host.site)


def stamp(when: datetime) -> str:
    """A timestamp as Windows messages print one (with the invisible LRM Windows puts first)."""
    return f"\u200e{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond:06d}0Z"
