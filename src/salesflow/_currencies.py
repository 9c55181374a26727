"""The ISO 4217 currency codes that :class:`~salesflow.Money` accepts, and custom ones.

:data:`ISO_4217` holds the active alphabetic codes (including the fund and
``X`` codes such as ``XAU``), plus a few withdrawn since 2023 that exports
still carry (``HRK``, ``SLL``, ``ZWL``, ``ANG``, ``BGN``, ``CUC``). Any other
code is refused until :meth:`Money.register_currency` allows it.
"""

from __future__ import annotations

__all__ = ["ISO_4217", "custom_currencies", "is_known_currency", "register"]

# fmt: off
ISO_4217: frozenset[str] = frozenset({
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD",
    "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP",
    "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU",
    "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB",
    "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD",
    "HNL", "HRK", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP",
    "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU",
    "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR",
    "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD",
    "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS",
    "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY",
    "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED",
    "VES", "VND", "VUV", "WST", "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD",
    "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XTS", "XUA", "XXX", "YER", "ZAR",
    "ZMW", "ZWG", "ZWL",
})
# fmt: on

_custom: set[str] = set()


def register(code: str) -> None:
    """Accept *code* (three upper-case letters) as a currency from now on, in this process."""
    _custom.add(code)


def custom_currencies() -> frozenset[str]:
    """The codes accepted through :func:`register`."""
    return frozenset(_custom)


def is_known_currency(code: str) -> bool:
    """True for an ISO 4217 code or a registered custom one."""
    return code in ISO_4217 or code in _custom
