"""The injected scenarios: name → planner, and the (provider, code) pairs each one writes.

The names double as the rule ids a correct pipeline fires (``processors/rules`` uses them).
"""

from deskwatch.producers.simulate.scenarios.fleetwide import (
    plan_app_crash_storm,
    plan_av_definitions_stale,
    plan_update_server_outage,
)
from deskwatch.producers.simulate.scenarios.host import (
    BUGCHECK_PROVIDER,
    plan_bluescreen,
    plan_disk_errors,
    plan_service_crash_loop,
)
from deskwatch.producers.simulate.scenarios.plan import PlanContext, Planner, ScenarioPlan
from deskwatch.producers.simulate.scenarios.site import (
    plan_dns_timeouts,
    plan_gpo_failure_site,
    plan_spooler_failure,
)

PLANNERS: dict[str, Planner] = {
    "disk-errors": plan_disk_errors,
    "gpo-failure-site": plan_gpo_failure_site,
    "update-server-outage": plan_update_server_outage,
    "av-definitions-stale": plan_av_definitions_stale,
    "service-crash-loop": plan_service_crash_loop,
    "spooler-failure": plan_spooler_failure,
    "bluescreen": plan_bluescreen,
    "app-crash-storm": plan_app_crash_storm,
    "dns-timeouts": plan_dns_timeouts,
}

_SCM = "Service Control Manager"
SCENARIO_SIGNATURES: dict[str, frozenset[tuple[str, str]]] = {
    "disk-errors": frozenset(
        {("disk", "7"), ("disk", "51"), ("disk", "153"), ("Microsoft-Windows-Ntfs", "55")}
    ),
    "gpo-failure-site": frozenset(
        {("Microsoft-Windows-GroupPolicy", "1058"), ("Microsoft-Windows-GroupPolicy", "1030")}
    ),
    "update-server-outage": frozenset(
        {
            ("Microsoft-Windows-WindowsUpdateClient", "20"),
            ("Microsoft-Windows-WindowsUpdateClient", "25"),
        }
    ),
    "av-definitions-stale": frozenset(
        {
            ("Microsoft-Windows-Windows Defender", "2001"),
            ("Microsoft-Windows-Windows Defender", "2003"),
        }
    ),
    "service-crash-loop": frozenset({(_SCM, "7031"), (_SCM, "7034")}),
    "spooler-failure": frozenset(
        {
            ("Microsoft-Windows-PrintService", "372"),
            ("Microsoft-Windows-PrintService", "808"),
            (_SCM, "7031"),
        }
    ),
    "bluescreen": frozenset(
        {(BUGCHECK_PROVIDER, "1001"), ("Microsoft-Windows-Kernel-Power", "41")}
    ),
    "app-crash-storm": frozenset(
        {("Application Error", "1000"), ("Windows Error Reporting", "1001")}
    ),
    "dns-timeouts": frozenset({("Microsoft-Windows-DNS-Client", "1014")}),
}

__all__ = ["PLANNERS", "SCENARIO_SIGNATURES", "PlanContext", "Planner", "ScenarioPlan"]
