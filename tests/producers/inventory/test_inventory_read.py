"""read_inventory: GLPI / AD exports in CSV and JSON, with per-row rejections for bad rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from deskwatch.producers.inventory import (
    InventoryError,
    RowRejection,
    directorate_populations,
    populations,
    read_inventory,
    site_populations,
)
from deskwatch.schemas.asset import Asset

GOOD = [
    pytest.param(
        "inventory.csv",
        b"host,site,directorate,os_build,model,device_class\n"
        b"FIN-KAO-WS0001,KAO,FIN,10.0.19045.5131,Dell OptiPlex 7010,workstation\n"
        b"FIN-KAO-LT0001,KAO,FIN,10.0.22631.4460,Dell Latitude 5420,laptop\n",
        [
            (
                "FIN-KAO-WS0001",
                "KAO",
                "FIN",
                "10.0.19045.5131",
                "Dell OptiPlex 7010",
                "workstation",
            ),
            ("FIN-KAO-LT0001", "KAO", "FIN", "10.0.22631.4460", "Dell Latitude 5420", "laptop"),
        ],
        id="deskwatch-csv",
    ),
    pytest.param(
        "glpi.csv",
        "\ufeffNom;Lieu;Entité;Système d'exploitation - Version;Modèle;Type\n"
        "SAN-TAM-WS0003;Province TAM;Santé;10.0 (19045);HP EliteDesk 800 G6;Desktop\n"
        "SAN-TAM-LT0002;Province TAM;Santé;10.0 (22631);HP ProBook 450 G8;Portable\n".encode(),
        [
            (
                "SAN-TAM-WS0003",
                "Province TAM",
                "Santé",
                "10.0.19045",
                "HP EliteDesk 800 G6",
                "workstation",
            ),
            (
                "SAN-TAM-LT0002",
                "Province TAM",
                "Santé",
                "10.0.22631",
                "HP ProBook 450 G8",
                "laptop",
            ),
        ],
        id="glpi-semicolon-french-bom",
    ),
    pytest.param(
        "ad.csv",
        b'"Name","DNSHostName","OperatingSystem","OperatingSystemVersion","OU"\n'
        b'"EDU-DOS-SRV01","EDU-DOS-SRV01.ad.gouv.example","Windows Server 2022 Standard","10.0 (20348)","EDU"\n'
        b'"EDU-DOS-WS0010","EDU-DOS-WS0010.ad.gouv.example","Windows 10 Enterprise","10.0 (19045)","EDU"\n',
        [
            ("EDU-DOS-SRV01", None, "EDU", "10.0.20348", None, "workstation"),
            ("EDU-DOS-WS0010", None, "EDU", "10.0.19045", None, "workstation"),
        ],
        id="ad-export-prefers-name-over-fqdn",
    ),
    pytest.param(
        "ad-os.csv",
        b"computer\toperatingsystem\tlocation\nAGR-MAR-SRV02\tWindows Server 2019 Standard\tMAR\n",
        [("AGR-MAR-SRV02", "MAR", None, "Windows Server 2019 Standard", None, "server")],
        id="tab-delimited-server-inferred-from-os",
    ),
    pytest.param(
        "excel.csv",
        "hostname,site,direction\nSAN-KOL-WS0001,KOL,Santé\n,,\n".encode("cp1252"),
        [("SAN-KOL-WS0001", "KOL", "Santé", None, None, "workstation")],
        id="cp1252-and-empty-row-skipped",
    ),
    pytest.param(
        "glpi.json",
        b'[{"name": "JUS-NIA-WS0001", "location": "NIA", "entity": "JUS", "os": "10.0.26100.2314",'
        b' "model": "Lenovo ThinkCentre M70q", "type": "desktop", "id": 17}]',
        [
            (
                "JUS-NIA-WS0001",
                "NIA",
                "JUS",
                "10.0.26100.2314",
                "Lenovo ThinkCentre M70q",
                "workstation",
            )
        ],
        id="json-array-extra-keys-ignored",
    ),
    pytest.param(
        "api.json",
        b'{"totalcount": 1, "data": [{"Host": "INT-BIR-LT0007", "Site": "BIR", "Device Class": "Notebook"}]}',
        [("INT-BIR-LT0007", "BIR", None, None, None, "laptop")],
        id="json-object-with-data-list",
    ),
    pytest.param(
        "inventory.ndjson",
        b'{"host": "TRP-GAO-WS0001", "site": "GAO"}\n\n{"host": "TRP-GAO-WS0002", "site": "GAO"}\n',
        [
            ("TRP-GAO-WS0001", "GAO", None, None, None, "workstation"),
            ("TRP-GAO-WS0002", "GAO", None, None, None, "workstation"),
        ],
        id="json-lines",
    ),
]


def _fields(asset: Asset) -> tuple[object, ...]:
    return (
        asset.host,
        asset.site,
        asset.directorate,
        asset.os_build,
        asset.model,
        asset.device_class,
    )


@pytest.mark.parametrize(("name", "content", "expected"), GOOD)
def test_good_exports_read_into_assets(
    tmp_path: Path, name: str, content: bytes, expected: list[tuple[object, ...]]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assets, rejections = read_inventory(path)
    assert rejections == []
    assert [_fields(a) for a in assets] == expected


HOST_CHARS = "host name may hold only letters, digits, '-', '_', '.' and '$'"
HEADER = "host,site,directorate,os_build,model,device_class\n"
BAD = [
    pytest.param(
        HEADER + ",KAO,FIN,,,\n", RowRejection(2, "host", "", "empty host name"), id="empty-host"
    ),
    pytest.param(
        HEADER + "FIN KAO,KAO,FIN,,,\n",
        RowRejection(2, "host", "FIN KAO", HOST_CHARS),
        id="space-in-host",
    ),
    pytest.param(
        HEADER + "A,KAO,FIN,,,toaster\n",
        RowRejection(
            2,
            "device_class",
            "toaster",
            "unknown device class; expected workstation, laptop or server",
        ),
        id="unknown-device-class",
    ),
    pytest.param(
        HEADER + "A,KAO,FIN,,HP, Inc. 800,workstation\n",
        RowRejection(
            2,
            None,
            '["workstation"]',
            "more fields than the header has columns (unquoted delimiter?)",
        ),
        id="surplus-field",
    ),
    pytest.param(
        HEADER + "A,KAO,,,,\na,MAR,,,,\n",
        RowRejection(3, "host", "a", "duplicate host, first seen at row 2"),
        id="duplicate-host",
    ),
    pytest.param(
        HEADER + "H" * 300 + ",KAO,,,,\n",
        RowRejection(2, "host", "H" * 197 + "...", "String should have at most 255 characters"),
        id="host-too-long",
    ),
    pytest.param(
        HEADER + 'B,KAO,,,,\n"C,KAO,,,,\n',
        RowRejection(3, "host", "C,KAO,,,,", HOST_CHARS),
        id="unterminated-quote",
    ),
]


@pytest.mark.parametrize(("content", "rejection"), BAD)
def test_bad_csv_rows_are_rejected_with_row_column_and_value(
    tmp_path: Path, content: str, rejection: RowRejection
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    assets, rejections = read_inventory(path)
    assert rejection in rejections
    assert len(assets) + len(rejections) >= 1


BAD_JSON = [
    pytest.param(
        b'[{"host": "A"}, "B", {"host": "C"}]',
        RowRejection(2, None, "B", "expected an object with named fields"),
        id="not-an-object",
    ),
    pytest.param(
        b'[{"host": {"name": "A"}}]',
        RowRejection(1, "host", '{"name": "A"}', "expected text, got dict"),
        id="nested-value",
    ),
    pytest.param(
        b'[{"host": "A", "device_class": true}]',
        RowRejection(1, "device_class", "true", "expected text, got bool"),
        id="boolean-value",
    ),
    pytest.param(
        b'[{"site": "KAO"}, {"host": "A"}]',
        RowRejection(1, None, None, "no host column in this row"),
        id="row-without-host",
    ),
]


@pytest.mark.parametrize(("content", "rejection"), BAD_JSON)
def test_bad_json_rows_are_rejected(
    tmp_path: Path, content: bytes, rejection: RowRejection
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    _, rejections = read_inventory(path)
    assert rejections == [rejection]


def test_bad_json_line_is_one_rejection_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"host": "A"}\n{"host": "B"\n{"host": "C"}\n')
    assets, rejections = read_inventory(path)
    assert [a.host for a in assets] == ["A", "C"]
    assert [(r.row, r.value) for r in rejections] == [(2, '{"host": "B"')]
    assert rejections[0].reason.startswith("invalid JSON")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param("broken.json", b'[{"host": "A"', "not valid JSON", id="broken-json"),
        pytest.param("scalar.json", b"42", "expected a JSON array", id="json-scalar"),
        pytest.param(
            "nohost.csv", b"site,model\nKAO,HP\nMAR,Dell\n", "no host column", id="no-host-column"
        ),
    ],
)
def test_unreadable_files_raise_inventory_error(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InventoryError, match=message):
        read_inventory(path)


def test_oversized_csv_field_is_one_rejection_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text(HEADER + "A,KAO,,,,\n" + "B," + '"' + "x" * 200_000 + '"' + ",,,,\nC,MAR,,,,\n")
    assets, rejections = read_inventory(path)
    assert [a.host for a in assets] == ["A", "C"]
    assert len(rejections) == 1 and rejections[0].reason.startswith(
        "unreadable CSV row: field larger"
    )


def test_missing_file_raises_inventory_error(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="cannot read inventory"):
        read_inventory(tmp_path / "absent.csv")


def test_rejection_reads_well() -> None:
    text = str(RowRejection(7, "Type", "toaster", "unknown device class"))
    assert text == "row 7, column 'Type', value 'toaster': unknown device class"


ASSETS = [
    Asset(host="A", site="KAO", directorate="FIN", os_build="10.0.19045.1"),
    Asset(host="B", site="KAO", directorate="SAN", os_build="10.0.19045.1"),
    Asset(host="C", site="MAR", directorate="FIN"),
    Asset(host="D", directorate="FIN", device_class="server"),
]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        pytest.param(site_populations, {"KAO": 2, "MAR": 1}, id="sites-skip-unknown"),
        pytest.param(directorate_populations, {"FIN": 3, "SAN": 1}, id="directorates"),
        pytest.param(lambda a: populations(a, "os_build"), {"10.0.19045.1": 2}, id="os-build"),
        pytest.param(
            lambda a: populations(a, "device_class"), {"server": 1, "workstation": 3}, id="class"
        ),
    ],
)
def test_populations(count: Callable[[list[Asset]], dict[str, int]], expected: dict[str, int]) -> None:
    assert count(ASSETS) == expected
