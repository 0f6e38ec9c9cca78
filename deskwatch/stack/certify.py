"""Certificates of the secured stack, made once with the JDK's keytool.

One local CA signs one server certificate (SAN ``localhost`` and ``127.0.0.1``) that both engines
present: Kafka reads the PKCS12 keystore and truststore, Elasticsearch the same keystore, Python
clients the CA in PEM. Passwords reach keytool through its environment (``-storepass:env``),
never through its command line, where ``ps`` would show them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pydantic import SecretStr

from deskwatch.stack.engine import base_env, java_home
from deskwatch.stack.errors import StackError

SAN = "SAN=dns:localhost,ip:127.0.0.1"
VALIDITY_DAYS = "825"
STORE_ENV = "DESKWATCH_STORE_PASS"  # keytool reads the store password from this variable
SERVER_STORE = "server.p12"
TRUSTSTORE = "truststore.p12"


class CertificateError(StackError):
    """keytool failed: the message carries its command (no passwords are on it) and its output."""


def _keytool(folder: Path, password: SecretStr, *args: str) -> None:
    command = [str(java_home() / "bin" / "keytool"), *args]
    env = base_env() | {STORE_ENV: password.get_secret_value()}
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CertificateError(
            f"{' '.join(command)} exited {done.returncode}: {done.stdout}{done.stderr}"
        )


def _store(name: str) -> list[str]:
    return ["-keystore", name, "-storetype", "PKCS12", "-storepass:env", STORE_ENV]


def _new_key(
    folder: Path, password: SecretStr, alias: str, store: str, dname: str, *ext: str
) -> None:
    _keytool(
        folder,
        password,
        "-genkeypair",
        "-alias",
        alias,
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        VALIDITY_DAYS,
        "-dname",
        dname,
        *ext,
        *_store(store),
    )


def _import_cert(folder: Path, password: SecretStr, alias: str, file: str, store: str, *flags: str) -> None:
    _keytool(folder, password, "-importcert", *flags, "-alias", alias, "-file", file, *_store(store))


def make_certificates(folder: Path, password: SecretStr) -> None:
    """CA, server keystore, truststore and ``ca.pem`` in ``folder`` (skipped when all exist)."""
    wanted = [folder / n for n in ("ca.pem", SERVER_STORE, TRUSTSTORE)]
    if all(p.exists() for p in wanted):
        return
    folder.mkdir(parents=True, exist_ok=True)
    for stale in ("ca.p12", "ca.pem", SERVER_STORE, TRUSTSTORE, "server.csr", "server.pem"):
        (folder / stale).unlink(missing_ok=True)
    _new_key(
        folder,
        password,
        "ca",
        "ca.p12",
        "CN=deskwatch local CA",
        "-ext",
        "bc:c",
        "-ext",
        "KU=keyCertSign,cRLSign",
    )
    _keytool(
        folder,
        password,
        "-exportcert",
        "-rfc",
        "-alias",
        "ca",
        "-file",
        "ca.pem",
        *_store("ca.p12"),
    )
    _new_key(folder, password, "server", SERVER_STORE, "CN=localhost", "-ext", SAN)
    _keytool(
        folder,
        password,
        "-certreq",
        "-alias",
        "server",
        "-file",
        "server.csr",
        *_store(SERVER_STORE),
    )
    _keytool(
        folder,
        password,
        "-gencert",
        "-alias",
        "ca",
        "-infile",
        "server.csr",
        "-outfile",
        "server.pem",
        "-rfc",
        "-validity",
        VALIDITY_DAYS,
        "-ext",
        SAN,
        "-ext",
        "KU=digitalSignature,keyEncipherment",
        "-ext",
        "EKU=serverAuth,clientAuth",
        *_store("ca.p12"),
    )
    _import_cert(folder, password, "ca", "ca.pem", SERVER_STORE, "-noprompt")
    _import_cert(folder, password, "server", "server.pem", SERVER_STORE)
    _import_cert(folder, password, "ca", "ca.pem", TRUSTSTORE, "-noprompt")
    for path in folder.iterdir():
        path.chmod(0o644 if path.name == "ca.pem" else 0o600)
