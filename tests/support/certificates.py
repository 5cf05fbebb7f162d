"""Certificates the tests make: the same helper ``make run-federation`` uses (services/demo/certificates.py)."""

from services.demo.certificates import CertificateAuthority, Issued

__all__ = ["CertificateAuthority", "Issued"]
