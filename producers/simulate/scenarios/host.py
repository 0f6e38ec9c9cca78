"""Scenarios on one host: a failing disk, a blue screen, a service in a crash loop."""

from __future__ import annotations

from random import Random

from deskwatch.producers.simulate.noise_catalog import SYSTEM
from deskwatch.producers.simulate.scenarios.plan import (
    PlanContext,
    ScenarioPlan,
    choose_window,
    pick_host,
)
from deskwatch.producers.simulate.vocabulary import AGENT_SERVICES, Template, guid, hexnum

DISK_BAD_BLOCK = Template(
    "disk",
    "7",
    "error",
    SYSTEM,
    lambda r, h, w: "The device, \\Device\\Harddisk0\\DR0, has a bad block.",
)
DISK_PAGING = Template(
    "disk",
    "51",
    "warning",
    SYSTEM,
    lambda r, h, w: (
        "An error was detected on device \\Device\\Harddisk0\\DR0 during a paging operation."
    ),
)
DISK_RETRIED = Template(
    "disk",
    "153",
    "warning",
    SYSTEM,
    lambda r, h, w: (
        f"The IO operation at logical block address {hexnum(r, 7).lower()} for Disk 0 "
        f"(PDO name: \\Device\\{r.randint(0x20, 0x60):08X}) was retried."
    ),
)
NTFS_CORRUPT = Template(
    "Microsoft-Windows-Ntfs",
    "55",
    "error",
    SYSTEM,
    lambda r, h, w: (
        "A corruption was discovered in the file system structure on volume C:.\r\n\r\n"
        "The exact nature of the corruption is unknown.  The file system structures need "
        "to be scanned and fixed offline."
    ),
)
KERNEL_POWER_41 = Template(
    "Microsoft-Windows-Kernel-Power",
    "41",
    "critical",
    SYSTEM,
    lambda r, h, w: (
        "The system has rebooted without cleanly shutting down first. This error could be "
        "caused if the system stopped responding, crashed, or lost power unexpectedly."
    ),
)
BUGCHECK_PROVIDER = (
    "Microsoft-Windows-WER-SystemErrorReporting"  # Event Viewer shows it as "BugCheck"
)
BUGCHECK_CODES = (0x0000003B, 0x000000D1, 0x0000007E, 0x00000050, 0x0000009F, 0x00000133)


def plan_disk_errors(ctx: PlanContext, rng: Random) -> ScenarioPlan | None:
    """Bursts of retried IO, bad blocks, paging errors and NTFS corruption on one host."""
    begin, length = choose_window(ctx, rng, 3 * 3600.0, "disk-errors")
    host = pick_host(ctx, rng, begin, begin + length)
    if host is None:
        return None
    plan = ScenarioPlan("disk-errors", "disk-errors", group={"host": ctx.hosts[host].name})
    for _ in range(ctx.scaled(rng.randint(4, 8))):
        t = begin + rng.uniform(0.0, max(0.0, length - 300.0))
        burst = (
            [DISK_RETRIED] * rng.randint(2, 6)
            + [DISK_BAD_BLOCK] * rng.randint(1, 3)
            + [DISK_PAGING] * rng.randint(0, 2)
            + [NTFS_CORRUPT] * rng.randint(0, 1)
        )
        for template in burst:
            t += rng.uniform(0.2, 20.0)
            plan.events.append((t, host, template))
    return plan


def plan_bluescreen(ctx: PlanContext, rng: Random) -> ScenarioPlan | None:
    """One host crashes one to three times: Kernel-Power 41 at boot, then the bugcheck report."""
    begin, length = choose_window(ctx, rng, 4 * 3600.0, "bluescreen")
    host = pick_host(ctx, rng, begin, begin + length)
    if host is None:
        return None
    code = rng.choice(BUGCHECK_CODES)
    bugcheck = Template(
        BUGCHECK_PROVIDER,
        "1001",
        "error",
        SYSTEM,
        lambda r, h, w: (
            f"The computer has rebooted from a bugcheck.  The bugcheck was: 0x{code:08x} "
            f"({hexnum(r, 16).lower()}, {hexnum(r, 16).lower()}, {hexnum(r, 16).lower()}, "
            "0x0000000000000000). "
            f"A dump was saved in: C:\\Windows\\MEMORY.DMP. Report Id: {guid(r)}."
        ),
    )
    plan = ScenarioPlan("bluescreen", "bluescreen", group={"host": ctx.hosts[host].name},
                        absorbs=["unexpected-shutdown"])  # fmt: skip
    for _ in range(ctx.scaled(rng.randint(1, 3))):
        boot = begin + rng.uniform(0.0, max(0.0, length - 300.0))
        plan.events.append((boot, host, KERNEL_POWER_41))
        plan.events.append((boot + rng.uniform(15.0, 120.0), host, bugcheck))
    return plan


def plan_service_crash_loop(ctx: PlanContext, rng: Random) -> ScenarioPlan | None:
    """One agent service on one host crashes and is restarted, again and again, then given up."""
    crashes = ctx.scaled(rng.randint(8, 20))
    begin, length = choose_window(ctx, rng, crashes * 420.0, "service-crash-loop")
    host = pick_host(ctx, rng, begin, begin + length)
    if host is None:
        return None
    service = rng.choice(AGENT_SERVICES)
    plan = ScenarioPlan(
        "service-crash-loop",
        "service-crash-loop",
        group={"host": ctx.hosts[host].name, "service": service},
    )
    t = begin
    step = length / crashes
    for count in range(1, crashes + 1):
        t += rng.uniform(0.15, 1.0) * step
        plan.events.append((t, host, _crash(service, count, last=count == crashes)))
    return plan


def _crash(service: str, count: int, last: bool) -> Template:
    """SCM 7031 (will restart) or, once recovery is exhausted, 7034."""
    said = f"The {service} service terminated unexpectedly.  It has done this {count} time(s)."
    if last:
        return Template("Service Control Manager", "7034", "error", SYSTEM, lambda r, h, w: said)
    return Template(
        "Service Control Manager",
        "7031",
        "error",
        SYSTEM,
        lambda r, h, w: (
            f"{said}  The following corrective action will be taken in 60000 milliseconds: "
            "Restart the service."
        ),
    )
