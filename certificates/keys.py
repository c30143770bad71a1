"""The platform's signing key, its signer certificate and the trust list it publishes.

* Embedded mode: on first use a P-256 key and a self-signed signer certificate (country VN,
  extended key usage "vaccination") are generated at the configured paths (default
  ``var/keys/signing-key.pem`` and ``signing-cert.pem``; the key file is mode 0600).
* Production: both files must exist at ``VAX_SIGNING_KEY_PATH`` / ``VAX_SIGNING_CERT_PATH``;
  nothing is generated.

The trust list is the current signer certificate plus every certificate kept in
``trusted/`` beside it. `rotate` moves the current certificate there before it makes a new
key, so certificates signed before a rotation keep verifying.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from certificates.trust import EKU_VACCINATION, Signer, TrustError, TrustList
from vaxviet.settings import Settings

ISSUER_COUNTRY = "VN"
TRUSTED_DIR = "trusted"
CERTIFICATE_YEARS = 5


class KeyStoreError(Exception):
    """The signing key or certificate is missing or unusable; the message says which."""


@dataclass(frozen=True)
class SigningKey:
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    signer: Signer

    @property
    def kid(self) -> bytes:
        return self.signer.kid


def generate(now: dt.datetime, serial_hint: str = "") -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    """A new P-256 key and its self-signed signer certificate (DER)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, ISSUER_COUNTRY),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "VaxViet"),
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"VaxViet certificate signer {serial_hint}".strip()
            ),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * CERTIFICATE_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier(EKU_VACCINATION)]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.DER)


def _write(path: Path, data: bytes, private: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tmp.replace(path)


def _store(settings: Settings, key: ec.EllipticCurvePrivateKey, der: bytes) -> None:
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pem_cert = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
    _write(settings.signing_cert_path, pem_cert, private=False)
    _write(settings.signing_key_path, pem_key, private=True)


def load(settings: Settings) -> SigningKey:
    """Read the configured key and certificate; they must belong together."""
    key_path, cert_path = settings.signing_key_path, settings.signing_cert_path
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        signer = Signer.from_bytes(cert_path.read_bytes())
    except OSError as error:
        raise KeyStoreError(f"cannot read {error.filename}: {error.strerror}") from None
    except (ValueError, TypeError, TrustError) as error:
        raise KeyStoreError(f"unusable signing key or certificate: {error}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyStoreError(f"{key_path} must hold a P-256 (ES256) private key")
    own = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    listed = signer.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if own != listed:
        raise KeyStoreError(f"{cert_path} does not certify the key in {key_path}")
    return SigningKey(key, signer)


def ensure(settings: Settings, now: dt.datetime | None = None) -> SigningKey:
    """The signing key; embedded mode generates it on first use."""
    if not settings.signing_key_path.exists() and not settings.signing_cert_path.exists():
        if not settings.embedded:
            raise KeyStoreError(
                f"no signing key at {settings.signing_key_path}: production mode needs "
                "VAX_SIGNING_KEY_PATH and VAX_SIGNING_CERT_PATH to name existing files"
            )
        key, der = generate(now or dt.datetime.now(dt.UTC), "1")
        _store(settings, key, der)
    return load(settings)


def rotate(settings: Settings, now: dt.datetime | None = None) -> SigningKey:
    """Keep the current certificate in the trust list, then sign with a new key."""
    current = ensure(settings, now)
    archive = settings.signing_cert_path.parent / TRUSTED_DIR / f"{current.kid.hex()}.pem"
    _write(archive, current.signer.pem.encode("ascii"), private=False)
    count = len(list(archive.parent.glob("*.pem"))) + 1
    key, der = generate(now or dt.datetime.now(dt.UTC), str(count))
    _store(settings, key, der)
    return load(settings)


def trust_list(settings: Settings) -> TrustList:
    """The current signer certificate and every earlier one kept in ``trusted/``."""
    current = ensure(settings)
    kept = sorted((settings.signing_cert_path.parent / TRUSTED_DIR).glob("*.pem"))
    try:
        earlier = [Signer.from_bytes(path.read_bytes()) for path in kept]
    except TrustError as error:
        raise KeyStoreError(f"a certificate in {TRUSTED_DIR}/ is unusable: {error}") from None
    return TrustList.of([current.signer, *earlier])
