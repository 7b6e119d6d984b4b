"""RSA-SHA256 (PKCS#1 v1.5) signatures, as WeChat Pay API v3 and Alipay (RSA2) both use them, on `cryptography`."""
from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def _pem(text: str, kind: str) -> bytes:
    """A key as PEM: given whole, or as the bare base64 body providers' consoles hand out."""
    text = text.strip()
    if text.startswith("-----"):
        return text.encode()
    return f"-----BEGIN {kind}-----\n{text}\n-----END {kind}-----\n".encode()


def private_key(text: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(_pem(text, "PRIVATE KEY"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def public_key(text: str) -> rsa.RSAPublicKey:
    pem = _pem(text, "PUBLIC KEY")
    if b"CERTIFICATE" in pem:
        from cryptography import x509

        key = x509.load_pem_x509_certificate(pem).public_key()
    else:
        key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def sign(key_text: str, message: bytes) -> str:
    return base64.b64encode(private_key(key_text).sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(key_text: str, message: bytes, signature: str) -> bool:
    try:
        public_key(key_text).verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError):
        return False
