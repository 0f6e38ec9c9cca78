"""The mask table: each kind of variable value becomes ``<*>``, the words around it stay."""

from __future__ import annotations

import time

import pytest

from deskwatch.processors.fingerprint.mask import MASK_RULES, mask

MASKED = [
    ("guid_braced", "Loading {bf1a281b-ad7b-4476-ac95-f47682990ce7} now", "Loading <*> now"),
    ("guid_bare", "GUID 3F2504E0-4F89-11D3-9A0C-0305E82C3301 bare", "GUID <*> bare"),
    ("ipv4", "from 173.234.31.186 port", "from <*> port"),
    ("ipv4_port", "listening on 10.0.0.1:8080", "listening on <*>"),
    ("ipv6_compressed", "peer fe80::1ff:fe23:4567:890a up", "peer <*> up"),
    ("ipv6_loopback", "bound to ::1 ok", "bound to <*> ok"),
    ("mac_colons", "nic 00:1A:2B:3C:4D:5E link up", "nic <*> link up"),
    ("mac_dashes", "nic 00-1A-2B-3C-4D-5E link up", "nic <*> link up"),
    ("hex_address", "stack @0x7fed806eb5d done", "stack <*> done"),
    ("hresult", "result 0x800f0805 failed", "result <*> failed"),
    ("windows_path", r"Core: C:\Windows\winsxs\amd64_x\cbscore.dll", "Core: <*>"),
    ("device_path", r"path '\\?\GLOBALROOT\Device\Harddisk\x'", "path '<*>'"),
    ("unix_path", "opened /var/log/messages for read", "opened <*> for read"),
    ("url", "fetch https://example.com/a?b=1 ok", "fetch <*> ok"),
    ("hostname", "mapping for ns.marryaldkfaczcz.com failed", "mapping for <*> failed"),
    ("syslog_date", "at Sun Jul 10 03:55:15 2005 done", "at <*> done"),
    ("iso_datetime", "at 2016-09-28 04:30:31 done", "at <*> done"),
    ("clock", "started 20:30:31.455 ok", "started <*> ok"),
    ("duration_ms", "done in 15 ms", "done in <*>"),
    ("duration_seconds", "timeout after 30 seconds", "timeout after <*>"),
    ("size", "wrote 512 bytes", "wrote <*>"),
    ("sid", "S-1-5-21-3623811015-3361044348-30300820-1013 logged on", "<*> logged on"),
    ("email", "built by bhcompile@bugs.build.redhat.com", "built by <*>"),
    ("file_name", "Loaded wcp.dll version", "Loaded <*> version"),
    ("quoted", "creating device node '/udev/sda'", "creating device node '<*>'"),
    ("key_value", "uid=0 euid=0 tty=NODEVssh", "uid=<*> euid=<*> tty=<*>"),
    ("key_value_empty", "logname= uid=0", "logname=<*> uid=<*>"),
    ("empty_brackets", "connection from 1.2.3.4 () at", "connection from <*> (<*>) at"),
    ("labelled_value", "hive: SOFTWARE, into", "hive: <*>, into"),
    ("user", "session closed for user news", "session closed for user <*>"),
    ("user_named_user", "Invalid user user from 1.2.3.4", "Invalid user <*> from <*>"),
    ("for_from", "Failed password for root from 1.2.3.4", "Failed password for <*> from <*>"),
    (
        "invalid_user",
        "Failed password for invalid user admin from 1.2.3.4",
        "Failed password for invalid user <*> from <*>",
    ),
]

KEPT = [
    ("user_unknown", "check pass; user unknown"),
    ("contraction", "can't get client address: Connection reset by peer"),
    ("cpp_scope", "ICSITransaction::Commit calling IStorePendingTransaction::Apply"),
    ("one_slash", "are not lock/unlock and follow:"),
    ("no_value", "Ending TrustedInstaller initialization."),
    ("label_without_comma", "SQM: Initializing online with Windows opt-in: False"),
]


@pytest.mark.parametrize(
    ("message", "expected"), [c[1:] for c in MASKED], ids=[c[0] for c in MASKED]
)
def test_mask_replaces_values(message: str, expected: str) -> None:
    assert mask(message) == expected


@pytest.mark.parametrize("message", [c[1] for c in KEPT], ids=[c[0] for c in KEPT])
def test_mask_keeps_constant_text(message: str) -> None:
    assert mask(message) == message


def test_every_rule_is_exercised_by_the_table() -> None:
    """A rule no table row needs is a rule nobody checks."""
    unused = [
        rule.name
        for rule in MASK_RULES
        if not any(rule.pattern.search(message) for _, message, _ in MASKED)
    ]
    assert unused == []


PATHOLOGICAL = [
    ("dots", "a." * 32_000),
    ("dashes", "a-" * 32_000),
    ("dotted_digits", "1." * 32_000),
    ("quotes", " '" * 32_000),
    ("equals", "a=" * 32_000),
    ("colons_spaces", "a: " * 21_000),
    ("at_signs", "a@" * 32_000),
    ("sid_prefix", "S-1-" * 16_000),
]


@pytest.mark.parametrize("message", [c[1] for c in PATHOLOGICAL], ids=[c[0] for c in PATHOLOGICAL])
def test_mask_is_linear_on_the_longest_messages(message: str) -> None:
    """A 64 KiB message (the schema's maximum) must not stall stage 1 on regex backtracking."""
    started = time.perf_counter()
    mask(message)
    assert time.perf_counter() - started < 2.0
