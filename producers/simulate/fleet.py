"""The simulated fleet: sites (provinces, communes) × directorates, named as an AD admin would.

Clients are ``DIR-SITE-WS0123`` desktops and ``DIR-SITE-LT0045`` laptops; each site's first
directorate runs its servers, ``DIR-SITE-SRV01`` being the site's file and print server.
"""

from __future__ import annotations

from collections.abc import Sequence
from random import Random
from typing import NamedTuple

from deskwatch.producers.simulate.spec import FleetSpec
from deskwatch.schemas.asset import Asset, DeviceClass

DIRECTORATES = (
    "FIN",
    "SAN",
    "EDU",
    "AGR",
    "INT",
    "JUS",
    "TRP",
    "ENV",
    "DGI",
    "DOU",
    "TRE",
    "PLN",
    "COM",
    "CUL",
    "EMP",
)
SITE_CODES = (
    "KAO",
    "TAM",
    "DOS",
    "MAR",
    "ZIN",
    "AGA",
    "TIL",
    "DIF",
    "NIA",
    "BIR",
    "GAY",
    "KOL",
    "SAY",
    "FIL",
    "TES",
    "OUA",
    "BOB",
    "KOU",
    "DED",
    "FAD",
    "GAO",
    "MOP",
    "SEG",
    "SIK",
    "KAY",
    "NIO",
    "TOM",
    "LAB",
    "KIN",
    "BOK",
    "ZIG",
    "KED",
    "MAT",
    "TAH",
    "LOU",
    "POD",
)
CLIENT_BUILDS = (
    ("10.0.19045", 45, (5011, 5131, 5247)),
    ("10.0.22631", 30, (4460, 4541, 4602)),
    ("10.0.26100", 15, (2314, 2454)),
    ("10.0.19044", 5, (4894,)),
    ("10.0.22621", 5, (4317, 4460)),
)
SERVER_BUILDS = (
    ("10.0.17763", 40, (6414, 6532)),
    ("10.0.20348", 50, (2762, 2849)),
    ("10.0.26100", 10, (2314,)),
)
MODELS = {
    "workstation": (
        "Dell OptiPlex 7010",
        "HP EliteDesk 800 G6",
        "Lenovo ThinkCentre M70q",
        "HP ProDesk 400 G7",
        "Dell OptiPlex 3080",
    ),
    "laptop": (
        "Dell Latitude 5420",
        "HP ProBook 450 G8",
        "Lenovo ThinkPad T14 Gen 2",
        "HP EliteBook 840 G7",
        "Dell Latitude 3520",
    ),
    "server": ("HPE ProLiant DL360 Gen10", "Dell PowerEdge R650", "HPE ProLiant ML350 Gen10"),
}
FIRST_NAMES = (
    "aminata",
    "moussa",
    "fatou",
    "ibrahim",
    "awa",
    "oumar",
    "mariam",
    "jean",
    "claire",
    "pierre",
    "salif",
    "adama",
    "koffi",
    "nadia",
    "yacouba",
    "sophie",
    "issa",
    "rokia",
    "boubacar",
    "celine",
    "hamidou",
    "aissata",
    "paul",
    "halima",
)
LAST_NAMES = (
    "traore",
    "diallo",
    "ouedraogo",
    "kone",
    "sawadogo",
    "diarra",
    "coulibaly",
    "sangare",
    "kabore",
    "dupont",
    "martin",
    "toure",
    "keita",
    "zongo",
    "bamba",
    "camara",
    "sylla",
    "nikiema",
    "kere",
    "compaore",
    "bernard",
    "maiga",
    "cisse",
)


class Host(NamedTuple):
    """One simulated machine; ``Asset`` minus validation, cheap enough for 100k of them."""

    name: str
    site: str
    directorate: str
    device_class: DeviceClass
    os_build: str
    model: str
    user: str

    def asset(self) -> Asset:
        """The inventory row of this host."""
        return Asset(
            host=self.name,
            site=self.site,
            directorate=self.directorate,
            os_build=self.os_build,
            model=self.model,
            device_class=self.device_class,
        )


def build_fleet(spec: FleetSpec) -> list[Host]:
    """The fleet of a spec; the same spec always gives the same fleet."""
    rng = Random(f"{spec.seed}:fleet")
    sites = _site_codes(spec.sites)
    clients = _clients_per_site(spec, rng)
    hosts: list[Host] = []
    for site, count in zip(sites, clients, strict=False):
        present = rng.sample(
            DIRECTORATES[: spec.directorates], k=min(spec.directorates, rng.randint(1, 3))
        )
        hosts.extend(_servers(site, present[0], spec.servers_per_site, rng))
        numbers: dict[tuple[str, str], int] = {}
        for _ in range(count):
            directorate = _pick(rng, present)
            laptop = rng.random() < spec.laptop_share
            prefix = "LT" if laptop else "WS"
            number = numbers[(directorate, prefix)] = numbers.get((directorate, prefix), 0) + 1
            device_class: DeviceClass = "laptop" if laptop else "workstation"
            hosts.append(
                Host(
                    f"{directorate}-{site}-{prefix}{number:04d}",
                    site,
                    directorate,
                    device_class,
                    _build(CLIENT_BUILDS, rng),
                    _pick(rng, MODELS[device_class]),
                    _user(rng),
                )
            )
    return hosts


def _pick(rng: Random, options: Sequence[str]) -> str:
    """A uniform choice, cheaper than ``Random.choice`` (one float draw) for 100k hosts."""
    return options[int(rng.random() * len(options))]


def print_server(site: str, hosts: Sequence[Host]) -> str:
    """The site's print server: its first server, or a conventional name when it has none."""
    return next(
        (h.name for h in hosts if h.site == site and h.device_class == "server"), f"PRN-{site}"
    )


def _servers(site: str, directorate: str, count: int, rng: Random) -> list[Host]:
    """The site's servers, run by its first directorate."""
    return [
        Host(
            f"{directorate}-{site}-SRV{n:02d}",
            site,
            directorate,
            "server",
            _build(SERVER_BUILDS, rng),
            rng.choice(MODELS["server"]),
            "svc-admin",
        )
        for n in range(1, count + 1)
    ]


def _site_codes(count: int) -> list[str]:
    """``count`` distinct site codes; past the list, numbered communes (``KAO2``)."""
    return [
        SITE_CODES[i % len(SITE_CODES)]
        + (str(i // len(SITE_CODES) + 1) if i >= len(SITE_CODES) else "")
        for i in range(count)
    ]


def _clients_per_site(spec: FleetSpec, rng: Random) -> list[int]:
    """Clients per site: drawn from the range, or ``spec.hosts`` shared out unevenly."""
    if spec.hosts is None:
        return [rng.randint(*spec.hosts_per_site) for _ in range(spec.sites)]
    weights = [rng.uniform(0.5, 1.5) for _ in range(spec.sites)]
    total = sum(weights)
    counts = [int(spec.hosts * w / total) for w in weights]
    for i in range(spec.hosts - sum(counts)):  # largest sites take the remainder
        counts[i % spec.sites] += 1
    return counts


def _build(table: tuple[tuple[str, int, tuple[int, ...]], ...], rng: Random) -> str:
    """An OS build with its patch level (UBR), e.g. ``10.0.19045.5131``."""
    draw = rng.random() * 100.0  # the tables' weights are percentages
    for build, weight, ubrs in table:  # noqa: B007 - read after the loop: the entry the draw fell on
        draw -= weight
        if draw < 0:
            break
    return f"{build}.{ubrs[int(rng.random() * len(ubrs))]}"


def _user(rng: Random) -> str:
    """A primary user's login, e.g. ``a.traore``."""
    return f"{_pick(rng, FIRST_NAMES)[0]}.{_pick(rng, LAST_NAMES)}"
