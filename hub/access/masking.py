"""Masking of personal data for readers without pii:read (e.g. `3201**********1234`)."""

from __future__ import annotations


def mask(value: str | None) -> str | None:
    """Keeps enough to recognise a value, hides enough that it identifies no one."""
    if value is None:
        return None
    text = str(value)
    length = len(text)
    if length >= 12:  # identity numbers and long phone numbers: first 4, last 4
        return text[:4] + "*" * (length - 8) + text[-4:]
    if length >= 7:  # short phone numbers and codes: first 3, last 2
        return text[:3] + "*" * (length - 5) + text[-2:]
    if length >= 2:  # names: the first character only
        return text[0] + "*" * (length - 1)
    return "*"


def mask_address(value: str | None) -> str | None:
    """Addresses keep their first six characters (province and city)."""
    if value is None:
        return None
    return value[:6] + "*" * max(len(value) - 6, 4)


def mask_personal(value: object, *, address: bool = False) -> object:
    """A personal value as readers without pii:read see it (lists and objects leaf by leaf)."""
    if value is None:
        return None
    if isinstance(value, list):
        return [mask_personal(v, address=address) for v in value]
    if isinstance(value, dict):
        return {
            k: mask_personal(v, address=address or "address" in k.lower()) for k, v in value.items()
        }
    text = str(value)
    return mask_address(text) if address else mask(text)
