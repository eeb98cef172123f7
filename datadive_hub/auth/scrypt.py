"""The password hash of local hub accounts and of guests."""

import hashlib


def scrypt_hex(password: str, salt: bytes) -> str:
    """The scrypt hash (hex) of ``password`` with ``salt``."""
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32).hex()
