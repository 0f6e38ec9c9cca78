"""The shipped rule pack: it loads, and each rule hits a realistic event and misses a near one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from deskwatch.processors.rules import RuleSet, group_key, load_default_pack
from deskwatch.processors.stage1.enrich import enrich
from deskwatch.processors.stage1.process import _extracted
from deskwatch.schemas.event import WorkstationEvent

PACK = load_default_pack()

DEFENDER = "Microsoft-Windows-Windows Defender"
GPO = "Microsoft-Windows-GroupPolicy"
WU = "Microsoft-Windows-WindowsUpdateClient"
SEC = "Microsoft-Windows-Security-Auditing"
SCM = "Service Control Manager"
WER_1000 = (
    "Faulting application name: launcher.exe_unknown, version: 0.0.0.0, time stamp: 0x4bc63c7d\r\n"
    "Faulting module name: KERNELBASE.dll, version: 10.0.20348.1607, time stamp: 0x7417aec3\r\n"
    "Exception code: 0xc0000005\r\nReport Id: fb3fcd65-42c9-41e5-9df0-83a9e36fdb8e"
)
WER_1001 = (
    "Fault bucket , type 0\r\nEvent Name: APPCRASH\r\nResponse: Not available\r\nCab Id: 0\r\n\r\n"
    "Problem signature:\r\nP1: launcher.exe_unknown\r\nP2: 0.0.0.0\r\nP3: 4bc63c7d\r\nP4: KERNELBASE.dll"
)
LOGON_4625 = (
    "An account failed to log on.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-0-0\r\n\tAccount Name:\t\t-\r\n\r\n"
    "Account For Which Logon Failed:\r\n\tSecurity ID:\t\tS-1-0-0\r\n\tAccount Name:\t\tjdupont\r\n"
    "\tAccount Domain:\t\tCORP\r\n\r\nFailure Information:\r\n\tFailure Reason:\t\tUnknown user name or bad password."
)
LOCKOUT_4740 = (
    "A user account was locked out.\r\n\r\nSubject:\r\n\tAccount Name:\t\tDC01$\r\n\r\n"
    "Account That Was Locked Out:\r\n\tSecurity ID:\t\tS-1-5-21-1-2-3-1104\r\n\tAccount Name:\t\tmmartin\r\n"
)

# rule id -> (hit: provider, code, message), (near miss: provider, code, message)
SAMPLES: dict[str, tuple[tuple[str, str, str], tuple[str, str, str]]] = {
    "disk-errors": (
        ("disk", "7", r"The device, \Device\Harddisk0\DR0, has a bad block."),
        ("disk", "10", "The disk was reset."),
    ),
    "unexpected-shutdown": (
        (
            "Microsoft-Windows-Kernel-Power",
            "41",
            "The system has rebooted without cleanly shutting down first.",
        ),
        ("Microsoft-Windows-Kernel-Power", "42", "The system is entering sleep."),
    ),
    "bluescreen": (
        (
            "Microsoft-Windows-WER-SystemErrorReporting",
            "1001",
            "The computer has rebooted from a bugcheck.  The bugcheck was: 0x0000009f.",
        ),
        ("Windows Error Reporting", "1001", WER_1001),
    ),
    "service-crash-loop": (
        (
            SCM,
            "7031",
            "The Windows Update service terminated unexpectedly.  It has done this 1 time(s).",
        ),
        (SCM, "7036", "The Windows Update service entered the running state."),
    ),
    "gpo-failure-host": (
        (
            GPO,
            "1058",
            (
                r"The processing of Group Policy failed. Windows attempted to read "
                r"the file \\corp.local\SysVol\corp.local\Policies\{31B2F340}\gpt.ini"
            ),
        ),
        (GPO, "1502", "The Group Policy settings for the computer were processed successfully."),
    ),
    "gpo-failure-site": (
        (
            GPO,
            "1129",
            "The processing of Group Policy failed because of lack of network connectivity.",
        ),
        ("Microsoft-Windows-Kernel-General", "1129", "unrelated"),
    ),
    "update-failure-host": (
        (
            WU,
            "20",
            (
                "Installation Failure: Windows failed to install the following update "
                "with error 0x80070643: Security Intelligence Update."
            ),
        ),
        (WU, "19", "Installation Successful: Windows successfully installed the following update."),
    ),
    "update-server-outage": (
        (WU, "25", "Windows Update failed to check for updates with error 0x8024401C."),
        (WU, "20", "Installation Failure: Windows failed to install the following update."),
    ),
    "dns-timeouts": (
        (
            "Microsoft-Windows-DNS-Client",
            "1014",
            (
                "Name resolution for the name wpad.corp.local timed out after none of the configured DNS "
                "servers responded."
            ),
        ),
        ("Microsoft-Windows-DNS-Client", "8020", "The system failed to register host records."),
    ),
    "time-sync-failure": (
        (
            "Microsoft-Windows-Time-Service",
            "129",
            "NtpClient was unable to set a domain peer to use as a time source because of discovery error.",
        ),
        (
            "Microsoft-Windows-Time-Service",
            "37",
            "The time provider NtpClient is currently receiving valid time data.",
        ),
    ),
    "av-detection": (
        (
            DEFENDER,
            "1116",
            "Microsoft Defender Antivirus has detected malware or other potentially unwanted software.",
        ),
        (DEFENDER, "1000", "An antimalware scan started."),
    ),
    "av-definitions-stale-host": (
        (
            DEFENDER,
            "2001",
            "Microsoft Defender Antivirus has encountered an error trying to update security intelligence.",
        ),
        (DEFENDER, "2000", "Microsoft Defender Antivirus security intelligence version updated."),
    ),
    "av-definitions-stale": (
        (
            DEFENDER,
            "2004",
            "There was an error loading the security intelligence; reverting to the last good set.",
        ),
        (DEFENDER, "2000", "Microsoft Defender Antivirus security intelligence version updated."),
    ),
    "av-protection-disabled": (
        (
            DEFENDER,
            "5001",
            "Microsoft Defender Antivirus Real-time Protection scanning for malware was disabled.",
        ),
        (
            DEFENDER,
            "5000",
            "Microsoft Defender Antivirus Real-time Protection scanning for malware was enabled.",
        ),
    ),
    "app-crash-storm": (
        ("Application Error", "1000", WER_1000),
        (
            "Windows Error Reporting",
            "1001",
            "Fault bucket , type 0\r\nEvent Name: WindowsUpdateFailure3\r\nP1: 10.0",
        ),
    ),
    "spooler-failure": (
        (
            "Microsoft-Windows-PrintService",
            "372",
            "The document Rapport.docx, owned by jdupont, failed to print on printer HP-3F-01.",
        ),
        (
            "Microsoft-Windows-PrintService",
            "307",
            "Document 12, Rapport.docx owned by jdupont was printed on HP-3F-01.",
        ),
    ),
    "logon-failure-spray": (
        (SEC, "4625", LOGON_4625),
        (SEC, "4624", "An account was successfully logged on."),
    ),
    "account-lockout": ((SEC, "4740", LOCKOUT_4740), (SEC, "4767", "A user account was unlocked.")),
    "ssh-auth-failures": (
        (
            "sshd",
            "sshd",
            "Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2",
        ),
        ("sshd", "sshd", "Accepted publickey for alice from 10.0.0.5 port 50122 ssh2"),
    ),
    "kernel-io-error": (
        ("kernel", "kernel", "blk_update_request: I/O error, dev sda, sector 123456 op 0x0:(READ)"),
        ("kernel", "kernel", "usb 1-1: new high-speed USB device number 2 using xhci_hcd"),
    ),
    "oom-kill": (
        ("kernel", "kernel", "Out of memory: Killed process 4242 (firefox) total-vm:9000000kB"),
        ("kernel", "kernel", "e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex"),
    ),
    "systemd-unit-failed": (
        ("systemd", "systemd", "cups.service: Failed with result 'exit-code'."),
        ("systemd", "systemd", "Started CUPS Scheduler."),
    ),
}
# A parent absorbing a per-host rule matches what its child matches: the same samples.
for _parent, _child in (("dns-timeouts-site", "dns-timeouts"), ("spooler-failure-site", "spooler-failure"),
                        ("app-crash-spread", "app-crash-storm")):
    SAMPLES[_parent] = SAMPLES[_child]


def _view(provider: str, code: str, message: str, **labels: str) -> dict[str, object]:
    event = WorkstationEvent.model_validate(
        {
            "@timestamp": datetime(2026, 11, 29, 9, 0, tzinfo=UTC),
            "event": {"id": "e1", "code": code, "provider": provider},
            "host": {"name": "PC-LYON-0042"},
            "message": message,
            "labels": labels,
        }
    )
    return enrich(event, None)


def test_default_pack_loads_the_agreed_rule_ids() -> None:
    assert isinstance(PACK, RuleSet)
    assert set(PACK.ids) == set(SAMPLES)
    assert PACK.parent_of("gpo-failure-host") == "gpo-failure-site"
    assert PACK.parent_of("update-failure-host") == "update-server-outage"
    assert PACK.parent_of("av-definitions-stale-host") == "av-definitions-stale"
    assert PACK.parent_of("dns-timeouts") == "dns-timeouts-site"
    assert PACK.parent_of("spooler-failure") == "spooler-failure-site"
    assert PACK.parent_of("app-crash-storm") == "app-crash-spread"
    assert PACK.parent_of("unexpected-shutdown") == "bluescreen"
    assert all(rule.remediation.strip() for rule in PACK)


@pytest.mark.parametrize("rule_id", sorted(SAMPLES))
def test_rule_hits_its_sample_and_misses_the_near_one(rule_id: str) -> None:
    hit, miss = SAMPLES[rule_id]
    assert rule_id in {r.id for r in PACK.matching(_view(*hit))}
    assert rule_id not in {r.id for r in PACK.matching(_view(*miss))}


def test_healthy_ntfs_98_is_not_a_disk_error() -> None:
    healthy = _view(
        "Microsoft-Windows-Ntfs",
        "98",
        r"Volume C: (\Device\HarddiskVolume3) is healthy.  No action is needed.",
    )
    broken = _view(
        "Microsoft-Windows-Ntfs",
        "98",
        r"Volume C: (\Device\HarddiskVolume3) needs to be taken offline to perform a Full Chkdsk.",
    )
    assert "disk-errors" not in {r.id for r in PACK.matching(healthy)}
    assert "disk-errors" in {r.id for r in PACK.matching(broken)}


def test_unrelated_event_matches_nothing() -> None:
    view = _view(
        "Microsoft-Windows-Sysmon", "10", "Process accessed: SourceImage: C:\\Windows\\explorer.exe"
    )
    assert PACK.matching(view) == []


def _group(rule_id: str, view: dict[str, object]) -> str:
    rule = PACK[rule_id]
    from deskwatch.processors.rules import group_values

    return group_key(rule.id, group_values(rule.group_by, _extracted(rule, view)))


EXTRACTIONS = [
    (
        "wer-1000",
        "app-crash-storm",
        ("Application Error", "1000", WER_1000),
        {},
        "app-crash-storm|host.name=PC-LYON-0042|process.name=launcher.exe_unknown",
    ),
    (
        "wer-1001",
        "app-crash-storm",
        ("Windows Error Reporting", "1001", WER_1001),
        {},
        "app-crash-storm|host.name=PC-LYON-0042|process.name=launcher.exe_unknown",
    ),
    (
        "evtx-appname",
        "app-crash-storm",
        ("Application Error", "1000", "AppName=winword.exe AppVersion=16.0"),
        {},
        "app-crash-storm|host.name=PC-LYON-0042|process.name=winword.exe",
    ),
    (
        "scm-text",
        "service-crash-loop",
        (
            SCM,
            "7034",
            "The Print Spooler service terminated unexpectedly.  It has done this 3 time(s).",
        ),
        {},
        "service-crash-loop|host.name=PC-LYON-0042|service.name=Print Spooler",
    ),
    (
        "scm-evtx-quoted",
        "service-crash-loop",
        (SCM, "7031", 'param1="Print Spooler" param2=1 param3=60000'),
        {},
        "service-crash-loop|host.name=PC-LYON-0042|service.name=Print Spooler",
    ),
    (
        "scm-no-name",
        "service-crash-loop",
        (SCM, "7031", "garbled"),
        {},
        "service-crash-loop|host.name=PC-LYON-0042|service.name=-",
    ),
    (
        "lockout-text",
        "account-lockout",
        (SEC, "4740", LOCKOUT_4740),
        {},
        "account-lockout|user.name=mmartin",
    ),
    (
        "lockout-label",
        "account-lockout",
        (SEC, "4740", "x"),
        {"TargetUserName": "bleroy"},
        "account-lockout|user.name=bleroy",
    ),
    (
        "unit",
        "systemd-unit-failed",
        ("systemd", "systemd", "cups.service: Failed with result 'exit-code'."),
        {},
        "systemd-unit-failed|host.name=PC-LYON-0042|unit.name=cups.service",
    ),
]


@pytest.mark.parametrize(
    ("rule_id", "sample", "labels", "expected"),
    [e[1:] for e in EXTRACTIONS],
    ids=[e[0] for e in EXTRACTIONS],
)
def test_extracted_group_keys(
    rule_id: str, sample: tuple[str, str, str], labels: dict[str, str], expected: str
) -> None:
    assert _group(rule_id, _view(*sample, **labels)) == expected


def test_spray_counts_the_failed_account_not_the_subject() -> None:
    rule = PACK["logon-failure-spray"]
    assert _extracted(rule, _view(SEC, "4625", LOGON_4625)).get("user.name") == "jdupont"


RECOVERIES = {
    "service-crash-loop": (SCM, "7036", "The Windows Update service entered the running state."),
    "gpo-failure-host": (
        GPO,
        "1502",
        "The Group Policy settings for the computer were processed successfully.",
    ),
    "gpo-failure-site": (
        GPO,
        "1503",
        "The Group Policy settings for the user were processed successfully.",
    ),
    "update-failure-host": (
        WU,
        "19",
        "Installation Successful: Windows successfully installed the following update.",
    ),
    "update-server-outage": (
        WU,
        "19",
        "Installation Successful: Windows successfully installed the following update.",
    ),
    "time-sync-failure": (
        "Microsoft-Windows-Time-Service",
        "37",
        "The time provider NtpClient is currently receiving valid time data.",
    ),
    "av-definitions-stale-host": (
        DEFENDER,
        "2000",
        "Microsoft Defender Antivirus security intelligence version updated.",
    ),
    "av-definitions-stale": (
        DEFENDER,
        "2000",
        "Microsoft Defender Antivirus security intelligence version updated.",
    ),
    "av-protection-disabled": (
        DEFENDER,
        "5000",
        "Microsoft Defender Antivirus Real-time Protection scanning was enabled.",
    ),
}


def test_every_resolvable_rule_has_a_recovery_sample() -> None:
    assert {rule.id for rule in PACK if rule.resolve_on is not None} == set(RECOVERIES)


@pytest.mark.parametrize("rule_id", sorted(RECOVERIES))
def test_recovery_event_resolves_the_same_group_it_hit(rule_id: str) -> None:
    hit, recovery = _view(*SAMPLES[rule_id][0]), _view(*RECOVERIES[rule_id])
    rule = PACK[rule_id]
    assert rule.resolves(recovery) and not rule.matches(recovery)
    assert rule_id in {r.id for r in PACK.resolving(recovery)}
    assert _group(rule_id, recovery) == _group(rule_id, hit)
