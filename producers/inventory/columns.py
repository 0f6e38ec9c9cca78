"""Which export column feeds which ``Asset`` field, and how its values are normalised.

GLPI, Active Directory (``Get-ADComputer | Export-Csv``) and hand-made spreadsheets name the same
things differently; headers are compared after lower-casing and dropping spaces, dashes, dots and
underscores, so ``Operating System Version``, ``operating_system_version`` and
``OperatingSystemVersion`` are one column (accents dropped too: GLPI in French says ``Entité``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from deskwatch.schemas.asset import DeviceClass

# Per field, accepted headers in order of preference: when an export has several (AD has both
# ``Name`` and ``DNSHostName``), the first one listed wins.
FIELD_ALIASES: Mapping[str, tuple[str, ...]] = {
    "host": (
        "host",
        "hostname",
        "computer",
        "computername",
        "devicename",
        "name",
        "nom",
        "dnshostname",
    ),
    "site": ("site", "location", "locationname", "lieu", "localisation", "sitename"),
    "directorate": (
        "directorate",
        "direction",
        "entity",
        "entite",
        "entityname",
        "ou",
        "organizationalunit",
        "department",
        "departement",
    ),
    "os_build": (
        "osbuild",
        "build",
        "operatingsystemversion",
        "osversion",
        "operatingsystemversionname",
        "systemedexploitationversion",
        "os",
        "operatingsystem",
        "systemedexploitation",
    ),
    "model": ("model", "modele", "computermodel", "modelname", "hardwaremodel"),
    "device_class": (
        "deviceclass",
        "type",
        "devicetype",
        "computertype",
        "class",
        "chassis",
        "chassistype",
    ),
}

_DEVICE_CLASS_WORDS: Mapping[str, DeviceClass] = {
    "workstation": "workstation",
    "desktop": "workstation",
    "pc": "workstation",
    "tower": "workstation",
    "minitower": "workstation",
    "sff": "workstation",
    "smallformfactor": "workstation",
    "allinone": "workstation",
    "ordinateurdebureau": "workstation",
    "poste": "workstation",
    "postedetravail": "workstation",
    "fixe": "workstation",
    "laptop": "laptop",
    "notebook": "laptop",
    "portable": "laptop",
    "ordinateurportable": "laptop",
    "portableordinateur": "laptop",
    "ultrabook": "laptop",
    "convertible": "laptop",
    "server": "server",
    "serveur": "server",
    "rackmountchassis": "server",
    "rack": "server",
}

_HEADER_NOISE = re.compile(r"[^a-z0-9]+")
_AD_VERSION = re.compile(r"^(\d+\.\d+)\s*\((\d+)\)$")  # AD: "10.0 (19045)"


def normalise_header(header: str) -> str:
    """Lower-case a header, drop its accents and everything but letters and digits."""
    plain = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode("ascii")
    return _HEADER_NOISE.sub("", plain.lower())


def map_columns(headers: Iterable[str]) -> dict[str, str]:
    """Map each ``Asset`` field to the export header that feeds it; unknown headers are ignored."""
    by_normal: dict[str, str] = {}
    for header in headers:
        by_normal.setdefault(normalise_header(header), header)
    mapping: dict[str, str] = {}
    for field, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            if alias in by_normal:
                mapping[field] = by_normal[alias]
                break
    return mapping


def parse_device_class(value: str) -> DeviceClass | None:
    """The device class a free-text type names, or None when it names none we know."""
    return _DEVICE_CLASS_WORDS.get(normalise_header(value))


def normalise_os_build(value: str) -> str:
    """``10.0 (19045)`` → ``10.0.19045``; dotted builds and product names are kept as given."""
    text = " ".join(value.split())
    ad = _AD_VERSION.match(text)
    if ad:
        return f"{ad.group(1)}.{ad.group(2)}"
    return text
