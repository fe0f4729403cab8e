"""Masking personal data in complaint texts before they are stored: e-mail addresses, phone numbers, payment card
numbers and IBANs become `[email]`, `[phone]`, `[card]` and `[iban]`.

Phone numbers are found by libphonenumber (the `phonenumbers` package) in Russian, Romanian and Bulgarian national
formats and in any international one; a card number must pass the Luhn check and an IBAN its country's format and
ISO 13616 checksum (`python-stdnum`), so order numbers, amounts and dates are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

import phonenumbers
from stdnum import iban, luhn

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
CARD_MASK = "[card]"
IBAN_MASK = "[iban]"

PHONE_REGIONS = ("RU", "RO", "BG")
"""Whose national formats (8 912 ..., 0721 ..., 0888 ...) are read as phone numbers; `+CC` ones are read anyway."""
CARD_DIGITS = range(13, 20)
IBAN_CHARACTERS = range(15, 35)

EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
DIGIT_RUN = re.compile(r"(?<!\w)\d{3,}(?:[ -]\d{3,})*(?!\w)")
"""Groups of three or more digits joined by single spaces or dashes: where card numbers are looked for."""
IBAN_RUN = re.compile(r"(?<!\w)[A-Za-z]{2}\d{2}[A-Za-z0-9]*(?:[ -][A-Za-z0-9]+)*")
"""A country code and two check digits, then letters and digits, grouped or not: where IBANs are looked for."""
GROUP = re.compile(r"[A-Za-z0-9]+")
DATE_OR_TIME = re.compile(r"(?<!\d)(?:\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2})(?!\d)")
"""Dates and times, which libphonenumber may otherwise take for numbers (05.11.2024 is a valid Bulgarian one)."""


def mask_pii(text: str) -> str:
    """`text` with every e-mail address, IBAN, card number and phone number replaced by its mask."""
    text = EMAIL.sub(EMAIL_MASK, text)
    text = _replace(text, _checked_spans(text, IBAN_RUN, iban.is_valid, IBAN_CHARACTERS), IBAN_MASK)
    text = _replace(text, _checked_spans(text, DIGIT_RUN, luhn.is_valid, CARD_DIGITS), CARD_MASK)
    return _replace(text, _phone_spans(text), PHONE_MASK)


def _checked_spans(
    text: str, run: re.Pattern[str], is_valid: Callable[[str], bool], lengths: range
) -> Iterator[tuple[int, int]]:
    """Spans of whole groups of a `run` whose joined characters are `is_valid`, longest first from each group.

    Looking inside runs of groups finds a card number followed by its expiry month (`4111 1111 1111 1111 12/27`)
    or preceded by another number, and two IBANs written one after the other.
    """
    for match in run.finditer(text):
        groups = list(GROUP.finditer(match.group()))
        first = 0
        while first < len(groups):
            joined, last = "", None
            for index in range(first, len(groups)):
                joined += groups[index].group()
                if len(joined) >= lengths.stop:
                    break
                if len(joined) in lengths and is_valid(joined):
                    last = index
            if last is None:
                first += 1
                continue
            yield match.start() + groups[first].start(), match.start() + groups[last].end()
            first = last + 1


def _phone_spans(text: str) -> Iterator[tuple[int, int]]:
    """Spans of valid phone numbers in the national formats of `PHONE_REGIONS` or international, not dates."""
    for region in PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            if not DATE_OR_TIME.search(match.raw_string):
                yield match.start, match.end


def _replace(text: str, spans: Iterable[tuple[int, int]], mask: str) -> str:
    """`text` with each span replaced by `mask`; overlapping spans are masked as one."""
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    parts: list[str] = []
    end = 0
    for start, stop in merged:
        parts += [text[end:start], mask]
        end = stop
    return "".join(parts) + text[end:]
