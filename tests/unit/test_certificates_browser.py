"""The documents the browser verifier reads (certificates/browser.py): the trust list in
WebCrypto's form and the rules, both computed from what the Python verifier reads."""

from __future__ import annotations

import base64
import datetime as dt
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from certificates import browser, rules, schema
from certificates.keys import generate
from certificates.trust import Signer, TrustList

NOW = dt.datetime(2026, 11, 26, 9, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def certificate(key: object, eku: list[str] | None = None) -> Signer:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "signer")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(1)
        .not_valid_before(dt.datetime(2026, 1, 1))
        .not_valid_after(dt.datetime(2027, 1, 1))
    )
    if eku:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier(oid) for oid in eku]), critical=False
        )
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    der = builder.sign(key, algorithm).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]
    return Signer.from_der(der)


def test_trust_document_lists_each_usable_key_with_its_kid_spki_and_usages() -> None:
    _, platform_der = generate(NOW)
    platform = Signer.from_der(platform_der)
    p384 = certificate(ec.generate_private_key(ec.SECP384R1()), ["1.3.6.1.4.1.0.1847.2021.1.1"])
    rsa_signer = certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    brainpool = certificate(ec.generate_private_key(ec.BrainpoolP256R1()))
    edwards = certificate(ed25519.Ed25519PrivateKey.generate())
    trust = TrustList.of([platform, p384, rsa_signer, brainpool, edwards])

    document = browser.trust_document(trust, NOW)

    assert document["format"] == "vaxviet-browser-trust/1"
    assert document["issuer"] == "VN"
    assert document["issued_at"] == "2026-11-26T02:00:00Z"
    keys = document["keys"]
    assert [key["kty"] for key in keys] == ["EC", "EC", "RSA"]  # brainpool, Ed25519 left out
    assert [key["crv"] for key in keys] == ["P-256", "P-384", None]
    assert [key["usages"] for key in keys] == [["v"], ["t"], None]
    for key, signer in zip(keys, (platform, p384, rsa_signer), strict=True):
        assert base64.b64decode(key["kid"]) == signer.kid
        spki = signer.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert base64.b64decode(key["spki"]) == spki
    json.dumps(document)


def test_trust_document_keeps_certificates_that_share_a_kid() -> None:
    first, second = (
        certificate(ec.generate_private_key(ec.SECP256R1())),
        certificate(ec.generate_private_key(ec.SECP256R1())),
    )
    twin = Signer(second.der, second.certificate, first.kid, second.usages)
    document = browser.trust_document(TrustList.of([first, twin]), NOW)
    assert [key["kid"] for key in document["keys"]] == [base64.b64encode(first.kid).decode()] * 2
    assert document["keys"][0]["spki"] != document["keys"][1]["spki"]


def test_empty_trust_list() -> None:
    assert browser.trust_document(TrustList(), NOW)["keys"] == []


def test_rules_document_holds_every_release_the_checked_value_sets_and_products() -> None:
    document = browser.rules_document()
    assert document["format"] == "vaxviet-verifier-rules/1"
    assert set(document["schemas"]) == {
        ".".join(map(str, version)) for version in schema.releases()
    }
    assert set(document["valuesets"]) == {
        "disease-agent-targeted",
        "vaccine-prophylaxis",
        "vaccine-medicinal-product",
        "vaccine-mah-manf",
        "test-type",
        "test-result",
    }
    for name, codes in document["valuesets"].items():
        assert set(codes) == schema.value_set(name)
    assert document["products"] == {
        code: product.series_doses for code, product in rules.products().items()
    }
    assert document["products"]["Abdala"] == 3
    assert document["products"]["EU/1/20/1525"] == 1
    assert len(json.dumps(document, separators=(",", ":"))) < 40_000  # small: no annotations


def test_compact_schemas_keep_every_validation_keyword() -> None:
    document = browser.rules_document()
    for version, path in schema.releases().items():
        original = json.loads(path.read_text(encoding="utf-8"))
        compact = document["schemas"][".".join(map(str, version))]
        assert compact == strip(original)
        assert "description" not in json.dumps(compact)
        # a property that happens to be called like an annotation would stay
    assert browser.compact_schema({"properties": {"title": {"type": "string", "title": "x"}}}) == {
        "properties": {"title": {"type": "string"}}
    }


def strip(node: object) -> object:
    """The annotations removed by an independent walk (every dict key in ANNOTATIONS that is
    not a property or definition name)."""
    if isinstance(node, list):
        return [strip(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, object] = {}
    for key, value in node.items():
        if key in browser.ANNOTATIONS:
            continue
        if key in ("properties", "$defs"):
            out[key] = {name: strip(item) for name, item in value.items()}
        elif key in ("enum", "const", "required"):
            out[key] = value
        else:
            out[key] = strip(value)
    return out
