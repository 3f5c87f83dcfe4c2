"""ISO 4217 currency codes a purchase price may carry. Python ships no ISO 4217 table and the v1
spec only says "ISO 4217 format", so the list is kept here.

Source: ISO 4217 List One (current currency and funds codes), as published by SIX Financial
Information, the standard's maintenance agency (https://www.six-group.com/en/products-services/
financial-information/data-standards.html), checked on 2026-12-02 against pycountry 26.2.16's copy
of it. Codes replaced recently (ANG by XCG, SLL by SLE, ZWL by ZWG, BGN by EUR on 2026-01-01) are
kept: a receipt from before the change still names them. XTS (reserved for testing) and XXX ("no
currency") are left out: neither prices a real sale. Update this list when SIX publishes an amendment.
"""
from __future__ import annotations

ISO_4217 = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN
BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF
KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR
MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK
SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI
UYU UYW UZS VED VES VND VUV WST XAD XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER
ZAR ZMW ZWG ZWL
""".split())


def is_iso_4217(code: str) -> bool:
    """Whether `code` (as written: ISO codes are upper case) is an active ISO 4217 code."""
    return code in ISO_4217
