"""Scenarios across sites: WSUS down, Defender definitions stale, one application crashing everywhere."""

from __future__ import annotations

from random import Random

from deskwatch.producers.simulate.noise_catalog import APPLICATION, DEFENDER_CHANNEL, SYSTEM
from deskwatch.producers.simulate.scenarios.plan import (
    PlanContext,
    ScenarioPlan,
    choose_window,
    pick_share,
)
from deskwatch.producers.simulate.vocabulary import (
    APPLICATIONS,
    Template,
    guid,
    hexnum,
    update_title,
)

UPDATE_CLIENT = "Microsoft-Windows-WindowsUpdateClient"
DEFENDER = "Microsoft-Windows-Windows Defender"
UPDATE_PROGRESS = frozenset({(UPDATE_CLIENT, "19"), (UPDATE_CLIENT, "43"), (UPDATE_CLIENT, "44")})
DEFINITIONS_UPDATED = frozenset({(DEFENDER, "2000")})
WSUS_ERRORS = ("0x8024401C", "0x80244022")  # request timed out; HTTP 503 from the WSUS server


def _check_failed(error: str) -> Template:
    """WindowsUpdateClient 25: the scan against WSUS failed."""
    return Template(
        UPDATE_CLIENT,
        "25",
        "error",
        SYSTEM,
        lambda r, h, w: f"Windows Update failed to check for updates with error {error}.",
    )


def _install_failed(error: str) -> Template:
    """WindowsUpdateClient 20: an update could not be downloaded or installed."""
    return Template(
        UPDATE_CLIENT,
        "20",
        "error",
        SYSTEM,
        lambda r, h, w: (
            "Installation Failure: Windows failed to install the following update with error "
            f"{error}: {update_title(r, h, w)}."
        ),
    )


CHECK_FAILED = {e: _check_failed(e) for e in WSUS_ERRORS}
INSTALL_FAILED = {e: _install_failed(e) for e in WSUS_ERRORS}

SIGNATURES_FAILED = Template(
    DEFENDER,
    "2001",
    "error",
    DEFENDER_CHANNEL,
    lambda r, h, w: (
        "Microsoft Defender Antivirus has encountered an error trying to update security "
        "intelligence.\r\n"
        "\tNew security intelligence version: \r\n"
        f"\tPrevious security intelligence version: 1.421.{r.randint(100, 999)}.0\r\n"
        "\tUpdate Source: Microsoft Update Server\r\n\tSecurity intelligence Type: AntiVirus\r\n"
        "\tUpdate Type: Full\r\n\tUser: NT AUTHORITY\\SYSTEM\r\n\tCurrent Engine Version: \r\n"
        "\tPrevious engine version: 1.1.24090.11\r\n"
        f"\tError code: {r.choice(('0x8024402c', '0x80072ee2', '0x8024401b'))}\r\n"
        "\tError description: The antimalware definitions update failed."
    ),
)
ENGINE_FAILED = Template(
    DEFENDER,
    "2003",
    "error",
    DEFENDER_CHANNEL,
    lambda r, h, w: (
        "Microsoft Defender Antivirus has encountered an error trying to update the engine.\r\n"
        "\tNew Engine Version: \r\n\tPrevious Engine Version: 1.1.24090.11\r\n"
        "\tUser: NT AUTHORITY\\SYSTEM\r\n\tError code: 0x80070643\r\n"
        "\tError description: The antimalware engine update failed."
    ),
)


def plan_update_server_outage(ctx: PlanContext, rng: Random) -> ScenarioPlan | None:
    """WSUS stops answering: scans fail on 40–70 % of the fleet, most hosts within the first hour."""
    begin, length = choose_window(
        ctx, rng, rng.uniform(2 * 3600.0, 4 * 3600.0), "update-server-outage"
    )
    everyone = range(len(ctx.hosts))
    hosts = pick_share(ctx, rng, everyone, rng.uniform(0.4, 0.7), 3, begin, begin + length)
    if not hosts:
        return None
    plan = ScenarioPlan("update-server-outage", "update-server-outage",
                        group={"update_server": f"WSUS01.{ctx.domain}"},
                        absorbs=["update-failure-host"], suppresses=UPDATE_PROGRESS)  # fmt: skip
    first_hour = min(3600.0, length)  # hosts due a scan, or booting, all hit the dead server
    for host in hosts:
        error = rng.choice(WSUS_ERRORS)
        plan.events.append((begin + rng.uniform(0.0, first_hour), host, CHECK_FAILED[error]))
        for _ in range(ctx.scaled(rng.randint(1, 2)) - 1):
            plan.events.append((begin + rng.uniform(0.0, length), host, CHECK_FAILED[error]))
        if rng.random() < 0.3:
            plan.events.append((begin + rng.uniform(0.0, length), host, INSTALL_FAILED[error]))
    return plan


def plan_av_definitions_stale(ctx: PlanContext, rng: Random) -> ScenarioPlan | None:
    """Defender cannot reach its update source: 2001 (and some 2003) on most of the fleet."""
    begin, length = choose_window(ctx, rng, 6 * 3600.0, "av-definitions-stale")
    everyone = range(len(ctx.hosts))
    hosts = pick_share(ctx, rng, everyone, rng.uniform(0.7, 0.95), 3, begin, begin + length)
    if not hosts:
        return None
    plan = ScenarioPlan("av-definitions-stale", "av-definitions-stale",
                        group={"update_source": "definitions"},
                        absorbs=["av-definitions-stale-host"], suppresses=DEFINITIONS_UPDATED)  # fmt: skip
    for host in hosts:
        for _ in range(ctx.scaled(rng.randint(1, 3))):
            plan.events.append((begin + rng.uniform(0.0, length), host, SIGNATURES_FAILED))
        if rng.random() < 0.3:
            plan.events.append((begin + rng.uniform(0.0, length), host, ENGINE_FAILED))
    return plan


CRASH_MIN_HOSTS = 3  # the min_hosts of app-crash-spread, which absorbs each host's app-crash-storm


def plan_app_crash_storm(ctx: PlanContext, rng: Random) -> ScenarioPlan | None:
    """One application crashes repeatedly on a share of one directorate's clients."""
    begin, length = choose_window(ctx, rng, 2 * 3600.0, "app-crash-storm")
    directorate = rng.choice(sorted(ctx.by_directorate))
    clients = [i for i in ctx.by_directorate[directorate] if ctx.hosts[i].device_class != "server"]
    hosts = pick_share(ctx, rng, clients, rng.uniform(0.1, 0.3), CRASH_MIN_HOSTS, begin, begin + length)
    if len(hosts) < CRASH_MIN_HOSTS:
        return None  # too few clients awake: one host's crashes are not a storm
    app, version, module = rng.choice(APPLICATIONS)
    plan = ScenarioPlan(
        "app-crash-storm",
        "app-crash-spread",
        directorate=directorate,
        group={"application": app},
        absorbs=["app-crash-storm"],
    )
    for host in hosts:
        for _ in range(ctx.scaled(rng.randint(2, 6))):
            t = begin + rng.uniform(0.0, max(0.0, length - 10.0))
            fault, report = _crash_pair(app, version, module, hexnum(rng, 4).lower(), guid(rng))
            plan.events.append((t, host, fault))
            plan.events.append((t + rng.uniform(0.5, 4.0), host, report))
    return plan


def _crash_pair(
    app: str, version: str, module: str, pid: str, report_id: str
) -> tuple[Template, Template]:
    """Application Error 1000 and its Windows Error Reporting 1001, sharing one report id."""
    fault = Template(
        "Application Error",
        "1000",
        "error",
        APPLICATION,
        lambda r, h, w: (
            f"Faulting application name: {app}, version: {version}, time stamp: 0x66f1c2a0\r\n"
            f"Faulting module name: {module}, version: {version}, time stamp: 0x66f1c1d4\r\n"
            f"Exception code: 0xc0000005\r\nFault offset: {hexnum(r, 16).lower()}\r\n"
            f"Faulting process id: {pid}\r\nFaulting application path: C:\\Program Files\\{app}\r\n"
            f"Report Id: {report_id}"
        ),
    )
    report = Template(
        "Windows Error Reporting",
        "1001",
        "info",
        APPLICATION,
        lambda r, h, w: (
            f"Fault bucket {r.randint(10**9, 2 * 10**9)}, type 4\r\nEvent Name: APPCRASH\r\n"
            "Response: Not available\r\nCab Id: 0\r\n\r\n"
            f"Problem signature:\r\nP1: {app}\r\nP2: {version}\r\n"
            f"P3: 66f1c2a0\r\nP4: {module}\r\n\r\nReport Id: {report_id}\r\nReport Status: 268435456"
        ),
    )
    return fault, report
