"""Vaccination certificates: status rules, signing (HCERT/COSE) and verification.
Built in the certificates issue; nothing here yet.
"""
