"""Scenarios at one site: a GPO failure wave, a broken print driver, an unreachable DNS server."""

from __future__ import annotations

import math
from datetime import datetime
from random import Random

from deskwatch.producers.simulate.fleet import Host, print_server
from deskwatch.producers.simulate.noise_catalog import SYSTEM, WUC
from deskwatch.producers.simulate.scenarios.plan import (
    PlanContext,
    ScenarioPlan,
    choose_window,
    pick_share,
)
from deskwatch.producers.simulate.vocabulary import Template, lookup_name, product

GPO_SITE_SHARE = 0.6  # the wave reaches at least this share of the site's hosts...
GPO_MIN_HOSTS = 5  # ...and at least this many (the rule's min_hosts)
GPO_MIN_SITE = 8  # sites smaller than this cannot show a wave of GPO_MIN_HOSTS at 65 %
# A print server's or DNS server's failure shows on at least this many of the site's hosts (the
# min_hosts of spooler-failure-site and dns-timeouts-site).
SITE_MIN_HOSTS = 3
GROUP_POLICY = "Microsoft-Windows-GroupPolicy"
GPO_SUCCESS = frozenset({(GROUP_POLICY, "1502"), (GROUP_POLICY, "1503")})
PRINT_SERVICE = "Microsoft-Windows-PrintService"
PRINT_CHANNEL = "Microsoft-Windows-PrintService/Admin"
PRINT_DRIVERS = ("hpcpp255.dll", "KOAXJA_U.DLL", "CNP60MA64.DLL", "x3hpcl6.dll")
PRINTERS = ("HP-M404", "KM-C300i", "CANON-C3826")
DOCUMENTS = ("Microsoft Word - Note de service", "Courrier", "Rapport mensuel.pdf", "Bordereau")


def plan_gpo_failure_site(ctx: PlanContext, rng: Random) -> ScenarioPlan | None:
    """GroupPolicy 1058 + 1030 on 65–90 % of one site's hosts within half an hour.

    Its cause is a change: a security update (hardened UNC paths) that reached the site's clients
    first, 10 minutes to 3 hours before each failed, and some of the site's other hosts too (see
    ``_bad_update``). The truth names its KB; the noise's own updates use other numbers."""
    sites = [s for s, members in ctx.by_site.items() if len(members) >= GPO_MIN_SITE]
    if not sites:
        return None
    begin, length = choose_window(ctx, rng, 30 * 60.0, "gpo-failure-site")
    site = rng.choice(sites)
    members = ctx.by_site[site]
    hosts = pick_share(ctx, rng, members, rng.uniform(0.65, 0.9), 1, begin, begin + length)
    if len(hosts) < max(GPO_MIN_HOSTS, math.ceil(GPO_SITE_SHARE * len(members))):
        return None  # too many laptops asleep: no honest site-wide wave to inject
    read_failed = _gpo_read_failed(ctx.domain, _gpo_guid(rng))
    plan = ScenarioPlan("gpo-failure-site", "gpo-failure-site", site=site, group={"site": site},
                        absorbs=["gpo-failure-host"], suppresses=GPO_SUCCESS)  # fmt: skip
    for host in hosts:
        for _ in range(ctx.scaled(rng.choice((1, 1, 2)))):
            t = begin + rng.uniform(0.0, max(0.0, length - 5.0))
            plan.events.append((t, host, read_failed))
            plan.events.append((t + rng.uniform(0.05, 2.0), host, GPO_FAILED))
    _bad_update(plan, ctx, rng, hosts, [i for i in members if i not in hosts])
    return plan


BAD_UPDATE_LEAD = (10 * 60.0, 3 * 3600.0)  # how long before a host's first failure it installed
BAD_UPDATE_OTHERS = 0.3  # share of the site's other hosts that installed it too


def _bad_update(plan: ScenarioPlan, ctx: PlanContext, rng: Random, failing: list[int], others: list[int]) -> None:
    """The change behind the plan: one update installed on every failing host before its first
    event, and on a share of ``others`` over the same hours. Drawn after the plan's own events, so
    the failures are the same with or without it."""
    first: dict[int, float] = {}
    for t, host, _ in plan.events:
        first[host] = min(t, first.get(host, t))
    kb = f"KB50{rng.randint(50000, 59999)}"  # the noise's updates are KB5040000-KB5049999
    installed = Template(WUC, "19", "info", SYSTEM, lambda r, h, w: (
        "Installation Successful: Windows successfully installed the following update: "
        f"{w:%Y-%m} Security Update for {product(h)} for x64-based Systems ({kb})"))
    shortest, longest = BAD_UPDATE_LEAD
    if min(first.values()) < shortest:
        return  # the stream begins too close to the failures to show what came before them
    times = {host: first[host] - rng.uniform(shortest, min(longest, first[host])) for host in failing}
    earliest = min(times.values())
    for host in others:
        if rng.random() < BAD_UPDATE_OTHERS:
            times[host] = rng.uniform(earliest, min(first.values()))
    plan.cause = kb
    plan.cause_events = [(t, host, installed) for host, t in sorted(times.items())]


def plan_spooler_failure(ctx: PlanContext, rng: Random) -> ScenarioPlan | None:
    """A bad driver from the site's print server: PrintService 372/808, Spooler 7031 on its users."""
    begin, length = choose_window(ctx, rng, 3600.0, "spooler-failure")
    site = rng.choice(sorted(ctx.by_site))
    clients = [i for i in ctx.by_site[site] if ctx.hosts[i].device_class != "server"]
    hosts = pick_share(ctx, rng, clients, rng.uniform(0.3, 0.6), SITE_MIN_HOSTS, begin, begin + length)
    if len(hosts) < SITE_MIN_HOSTS:
        return None  # too few clients awake: not a site's problem to inject
    floor = rng.choice(("RDC", "ETG1", "ETG2"))
    printer = f"\\\\{print_server(site, ctx.hosts)}\\{site}-{floor}-{rng.choice(PRINTERS)}"
    failed, plug_in = _print_failed(printer), _plug_in_failed(rng.choice(PRINT_DRIVERS))
    plan = ScenarioPlan("spooler-failure", "spooler-failure-site", site=site, group={"site": site},
                        absorbs=["spooler-failure"])  # fmt: skip
    half = length * 0.5
    for host in hosts:
        first = begin + rng.uniform(0.0, half)
        if rng.random() < 0.6:
            plan.events.append((first, host, plug_in))
        for _ in range(ctx.scaled(rng.randint(1, 3))):
            plan.events.append((first + rng.uniform(1.0, half), host, failed))
        crashes = ctx.scaled(rng.randint(1, 2))
        times = sorted(first + rng.uniform(1.0, half) for _ in range(crashes))
        plan.events.extend((t, host, _spooler_crash(n)) for n, t in enumerate(times, start=1))
        if crashes >= 3:  # the service-crash-loop rule's threshold for the Print Spooler
            plan.also_fires = ["service-crash-loop"]
    return plan


def plan_dns_timeouts(ctx: PlanContext, rng: Random) -> ScenarioPlan | None:
    """The site's DNS server stops answering: DNS-Client 1014 bursts on most of its hosts."""
    begin, length = choose_window(ctx, rng, rng.uniform(20 * 60.0, 30 * 60.0), "dns-timeouts")
    site = rng.choice(sorted(ctx.by_site))
    members = ctx.by_site[site]
    hosts = pick_share(ctx, rng, members, rng.uniform(0.5, 0.9), SITE_MIN_HOSTS, begin, begin + length)
    if len(hosts) < SITE_MIN_HOSTS:
        return None  # too few hosts awake: not a site's problem to inject
    domain = ctx.domain

    def timed_out(r: Random, h: Host, w: datetime) -> str:
        return (
            f"Name resolution for the name {lookup_name(r, h, domain)} timed out after none of "
            "the configured DNS servers responded."
        )

    timeout = Template("Microsoft-Windows-DNS-Client", "1014", "warning", SYSTEM, timed_out)
    plan = ScenarioPlan("dns-timeouts", "dns-timeouts-site", site=site, group={"site": site},
                        absorbs=["dns-timeouts"])  # fmt: skip
    for host in hosts:
        for _ in range(ctx.scaled(rng.randint(5, 12))):
            plan.events.append((begin + rng.uniform(0.0, length), host, timeout))
    return plan


def _gpo_read_failed(domain: str, gpo: str) -> Template:
    """GroupPolicy 1058: gpt.ini of one GPO could not be read from SYSVOL."""
    sysvol = f"\\\\{domain}\\SysVol\\{domain}\\Policies\\{{{gpo}}}\\gpt.ini"
    text = (
        f"The processing of Group Policy failed. Windows attempted to read the file {sysvol} from "
        "a domain controller and was not successful. Group Policy settings may not be enforced "
        "until this event is resolved. This issue may be transient and could be caused by one or "
        "more of the following: \r\na) Name Resolution/Network Connectivity to the current domain "
        "controller. \r\nb) File Replication Service Latency (a file created on another domain "
        "controller has not replicated to the current domain controller). \r\nc) The Distributed "
        "File System (DFS) client has been disabled."
    )
    return Template(GROUP_POLICY, "1058", "error", SYSTEM, lambda r, h, w: text)


_GPO_FAILED_TEXT = (
    "The processing of Group Policy failed. Windows attempted to retrieve new Group Policy "
    "settings for this user or computer. Look in the details tab for error code and description. "
    "Windows will automatically retry this operation at the next refresh cycle. Computers joined "
    "to the domain must have proper name resolution and network connectivity to a domain "
    "controller for discovery of new Group Policy objects and settings. An event will be logged "
    "when Group Policy is successful."
)
GPO_FAILED = Template(GROUP_POLICY, "1030", "error", SYSTEM, lambda r, h, w: _GPO_FAILED_TEXT)


def _print_failed(printer: str) -> Template:
    """PrintService 372: a user's document failed to print on the site's printer."""

    def render(r: Random, h: Host, w: datetime) -> str:
        return (
            f"The document {r.choice(DOCUMENTS)} {r.randint(1, 99)}, owned by {h.user}, failed to "
            f"print on printer {printer}. Try to print the document again, or restart the print "
            "spooler.\r\nData type: NT EMF 1.008. Size of the spool file in bytes: "
            f"{r.randint(20_000, 9_000_000)}. Number of bytes printed: 0. Total number of pages in "
            f"the document: {r.randint(1, 40)}. Number of pages printed: 0. Client computer: "
            f"\\\\{h.name}. Win32 error code returned by the print processor: 0. The operation "
            "completed successfully."
        )

    return Template(PRINT_SERVICE, "372", "error", PRINT_CHANNEL, render)


def _plug_in_failed(driver: str) -> Template:
    """PrintService 808: the spooler could not load the pushed driver's plug-in."""
    text = (
        "The print spooler failed to load a plug-in module "
        f"C:\\Windows\\system32\\spool\\DRIVERS\\x64\\3\\{driver}, error code 0x7e. See the event "
        "user data for context information."
    )
    return Template(PRINT_SERVICE, "808", "error", PRINT_CHANNEL, lambda r, h, w: text)


def _spooler_crash(count: int) -> Template:
    """SCM 7031 for the Print Spooler, the ``count``-th time."""
    text = (
        f"The Print Spooler service terminated unexpectedly.  It has done this {count} time(s).  "
        "The following corrective action will be taken in 5000 milliseconds: Restart the service."
    )
    return Template("Service Control Manager", "7031", "error", SYSTEM, lambda r, h, w: text)


def _gpo_guid(rng: Random) -> str:
    """The failing GPO's GUID, upper case as SYSVOL paths spell it."""
    h = f"{rng.getrandbits(128):032X}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
