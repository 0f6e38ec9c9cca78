"""Background noise: the everyday events of a healthy Windows fleet, none of them an incident.

Providers and codes are the ones a real workstation's System, Security and Application channels
are full of (compare shared/data/evtx/system.evtx). The only code shared with a scenario is an
occasional single DNS-Client 1014 (``NOISE_OVERLAPS``): real fleets log one now and then, and a
rule must need more than one to fire.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from random import Random

from deskwatch.producers.simulate.fleet import Host
from deskwatch.producers.simulate.vocabulary import (
    SERVICES,
    Render,
    Template,
    guid,
    hexnum,
    lookup_name,
    stamp,
    update_title,
)

SYSTEM, SECURITY, APPLICATION = "System", "Security", "Application"
DEFENDER_CHANNEL = "Microsoft-Windows-Windows Defender/Operational"
NOISE_OVERLAPS = frozenset({("Microsoft-Windows-DNS-Client", "1014")})

NoiseRender = Callable[[Random, Host, datetime, str], str]  # (rng, host, when, AD domain)
_LOGON_TYPES = (2, 3, 3, 3, 5, 5, 7, 11)
_PROCESSES = ("svchost.exe", "winlogon.exe", "services.exe")


def _logon(r: Random, h: Host, w: datetime, domain: str) -> str:
    """Security 4624, abridged to the fields people read."""
    kind = r.choice(_LOGON_TYPES)
    account = h.user if kind != 5 else "SYSTEM"
    if kind == 3 and r.random() < 0.5:
        account = f"{h.name}$"
    return (
        "An account was successfully logged on.\r\n\r\nLogon Information:\r\n"
        f"\tLogon Type:\t\t{kind}\r\n\tElevated Token:\t\t{'Yes' if kind == 5 else 'No'}\r\n\r\n"
        f"New Logon:\r\n\tAccount Name:\t\t{account}\r\n"
        f"\tAccount Domain:\t\t{domain.split('.')[0].upper()}\r\n"
        f"\tLogon ID:\t\t{hexnum(r, 8)}\r\n\tLogon GUID:\t\t{{{guid(r)}}}\r\n\r\n"
        f"Process Information:\r\n\tProcess ID:\t\t{hexnum(r, 3)}\r\n"
        f"\tProcess Name:\t\tC:\\Windows\\System32\\{r.choice(_PROCESSES)}"
    )


def _service_state(r: Random, h: Host, w: datetime, domain: str) -> str:
    state = r.choice(("running", "stopped"))
    return f"The {r.choice(SERVICES)} service entered the {state} state."


def _start_type(r: Random, h: Host, w: datetime, domain: str) -> str:
    service = r.choice(SERVICES)
    return f"The start type of the {service} service was changed from demand start to auto start."


def _hive(r: Random, h: Host, w: datetime, domain: str) -> str:
    return (
        f"The access history in hive \\??\\C:\\Users\\{h.user}\\ntuser.dat was cleared updating "
        f"{r.randint(200, 9000)} keys and creating {r.randint(10, 400)} modified pages."
    )


def _time_changed(r: Random, h: Host, w: datetime, domain: str) -> str:
    return (
        f"The system time has changed to {stamp(w)} from {stamp(w)}.\r\n\r\n"
        "Change Reason: System time synchronized with the hardware clock."
    )


def _installing(r: Random, h: Host, w: datetime, domain: str) -> str:
    title = update_title(r, h, w)
    return f"Installation Started: Windows has started installing the following update: {title}"


def _installed(r: Random, h: Host, w: datetime, domain: str) -> str:
    title = update_title(r, h, w)
    return f"Installation Successful: Windows successfully installed the following update: {title}"


def _dns_timeout(r: Random, h: Host, w: datetime, domain: str) -> str:
    return (
        f"Name resolution for the name {lookup_name(r, h, domain)} timed out after none of the "
        "configured DNS servers responded."
    )


def _dcom(r: Random, h: Host, w: datetime, domain: str) -> str:
    return (
        "The application-specific permission settings do not grant Local Activation permission "
        f"for the COM Server application with CLSID \r\n{{{guid(r).upper()}}}\r\n and APPID \r\n"
        f"{{{guid(r).upper()}}}\r\n to the user NT AUTHORITY\\SYSTEM SID (S-1-5-18) from address "
        "LocalHost (Using LRPC) running in the application container Unavailable SID "
        "(Unavailable). This security permission can be modified using the Component Services "
        "administrative tool."
    )


def _user_policy(r: Random, h: Host, w: datetime, domain: str) -> str:
    return (
        "The Group Policy settings for the user were processed successfully. New settings from "
        f"{r.randint(1, 6)} Group Policy objects were detected and applied."
    )


def _ntp(r: Random, h: Host, w: datetime, domain: str) -> str:
    source = f"10.{r.randint(1, 40)}.{r.randint(0, 255)}.10"
    return (
        f"The time provider NtpClient is currently receiving valid time data from DC01.{domain} "
        f"(ntp.d|0.0.0.0:123->{source}:123)."
    )


def _definitions_updated(r: Random, h: Host, w: datetime, domain: str) -> str:
    return (
        "Microsoft Defender Antivirus security intelligence version updated.\r\n"
        f"\tCurrent security intelligence Version: 1.421.{r.randint(100, 999)}.0\r\n"
        "\tSecurity intelligence Type: AntiVirus\r\n\tUpdate Type: Delta"
    )


def _volume_healthy(r: Random, h: Host, w: datetime, domain: str) -> str:
    volume = r.randint(2, 4)
    return f"Volume C: (\\Device\\HarddiskVolume{volume}) is healthy.  No action is needed."


def _spp_restart(r: Random, h: Host, w: datetime, domain: str) -> str:
    return (
        "Successfully scheduled Software Protection service for re-start at "
        f"{w.year + 100}-{w:%m-%dT%H:%M:%S}Z. Reason: RulesEngine."
    )


def _fixed(text: str) -> NoiseRender:
    """A render for a message that never varies."""
    return lambda r, h, w, domain: text


_GP_COMPUTER_OK = (
    "The Group Policy settings for the computer were processed successfully. There were no changes "
    "detected since the last successful processing of Group Policy."
)
_DEFENDER_HEALTHY = (
    "Endpoint Protection client is up and running in a healthy state.\r\n"
    "   Platform version: 4.18.24090.11\r\n   Engine version: 1.1.24090.11"
)
_CEIP_LOGON = "User Logon Notification for Customer Experience Improvement Program"
_CEIP_LOGOFF = "User Logoff Notification for Customer Experience Improvement Program"
WUC = "Microsoft-Windows-WindowsUpdateClient"
_WUC = WUC
_GP = "Microsoft-Windows-GroupPolicy"
_DEFENDER = "Microsoft-Windows-Windows Defender"

# (provider, code, level, channel, render, relative weight)
NOISE_TABLE: tuple[tuple[str, str, str, str, NoiseRender, float], ...] = (
    ("Service Control Manager", "7036", "info", SYSTEM, _service_state, 25),
    ("Service Control Manager", "7040", "info", SYSTEM, _start_type, 2),
    ("Microsoft-Windows-Kernel-General", "16", "info", SYSTEM, _hive, 15),
    ("Microsoft-Windows-Kernel-General", "1", "info", SYSTEM, _time_changed, 3),
    (_WUC, "44", "info", SYSTEM, _fixed("Windows Update started downloading an update."), 3),
    (_WUC, "43", "info", SYSTEM, _installing, 3),
    (_WUC, "19", "info", SYSTEM, _installed, 3),
    ("Microsoft-Windows-Winlogon", "7001", "info", SYSTEM, _fixed(_CEIP_LOGON), 4),
    ("Microsoft-Windows-Winlogon", "7002", "info", SYSTEM, _fixed(_CEIP_LOGOFF), 3),
    ("Microsoft-Windows-Security-Auditing", "4624", "info", SECURITY, _logon, 20),
    ("Microsoft-Windows-DNS-Client", "1014", "warning", SYSTEM, _dns_timeout, 0.5),
    ("Microsoft-Windows-DistributedCOM", "10016", "warning", SYSTEM, _dcom, 6),
    (_GP, "1502", "info", SYSTEM, _fixed(_GP_COMPUTER_OK), 4),
    (_GP, "1503", "info", SYSTEM, _user_policy, 2),
    ("Microsoft-Windows-Time-Service", "37", "info", SYSTEM, _ntp, 2),
    (_DEFENDER, "2000", "info", DEFENDER_CHANNEL, _definitions_updated, 2),
    (_DEFENDER, "1150", "info", DEFENDER_CHANNEL, _fixed(_DEFENDER_HEALTHY), 1),
    ("Microsoft-Windows-Ntfs", "98", "info", SYSTEM, _volume_healthy, 1),
    # Same code as disk 153 from another provider: rules must match the provider too.
    ("Microsoft-Windows-Kernel-Boot", "153", "info", SYSTEM,
     _fixed("Virtualization-based security (policies: 0) is disabled."), 0.5),
    ("Microsoft-Windows-Security-SPP", "16384", "info", APPLICATION, _spp_restart, 3),
)  # fmt: skip


def noise_templates(domain: str) -> list[tuple[Template, float]]:
    """Every noise template, bound to the fleet's AD domain, with its relative weight."""
    return [
        (Template(provider, code, level, channel, _bind(render, domain)), weight)
        for provider, code, level, channel, render, weight in NOISE_TABLE
    ]


def _bind(render: NoiseRender, domain: str) -> Render:
    """A render with the fleet's domain filled in."""
    return lambda r, h, w: render(r, h, w, domain)


def _wake(r: Random, h: Host, w: datetime) -> str:
    source = r.choice(("Power Button", "Device -USB Composite Device", "Unknown"))
    return (
        f"The system has returned from a low power state.\r\n\r\nSleep Time: {stamp(w)}\r\n"
        f"Wake Time: {stamp(w)}\r\n\r\nWake Source: {source}"
    )


WAKE = Template("Microsoft-Windows-Power-Troubleshooter", "1", "info", SYSTEM, _wake)
