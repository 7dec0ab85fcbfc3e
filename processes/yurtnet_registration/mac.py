"""MAC addresses as students type them: check, refuse the unusable, write them one way.

Students copy the address from Windows (``AA-BB-CC-DD-EE-FF``), macOS/Linux/Android
(``aa:bb:cc:dd:ee:ff``), Cisco switch output (``aabb.ccdd.eeff``) or a sticker
(``aabbccddeeff``). The network team's DHCP reservations use the upper-case colon
form, so every accepted address is written that way.
"""

from __future__ import annotations

import re

_FORMATS = (
    re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$"),
    re.compile(r"^[0-9a-f]{2}(-[0-9a-f]{2}){5}$"),
    re.compile(r"^[0-9a-f]{4}(\.[0-9a-f]{4}){2}$"),
    re.compile(r"^[0-9a-f]{12}$"),
)


class MacError(ValueError):
    """A MAC address that cannot be registered; ``str()`` is the reason, in Turkish."""


def normalize_mac(value: object) -> str:
    """The address in upper-case colon form.

    :param value: the address as typed, in any of the four usual notations
    :raises MacError: not a MAC address, or one no device can use on YurtNet
        (all zeros, broadcast, multicast)
    """
    if not isinstance(value, str) or not value.strip():
        raise MacError("MAC adresi boş.")
    text = value.strip().lower()
    if not any(pattern.match(text) for pattern in _FORMATS):
        raise MacError(
            f"'{value.strip()}' geçerli bir MAC adresi değil. Örnek: AA:BB:CC:DD:EE:FF, "
            "AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff ya da aabbccddeeff."
        )
    digits = re.sub(r"[^0-9a-f]", "", text).upper()
    normal = ":".join(digits[i:i + 2] for i in range(0, 12, 2))
    if digits == "0" * 12:
        raise MacError(f"{normal} (sıfırlardan oluşan adres) bir cihazın adresi olamaz.")
    if digits == "F" * 12:
        raise MacError(f"{normal} yayın (broadcast) adresidir, bir cihazın adresi olamaz.")
    if int(digits[:2], 16) & 1:
        raise MacError(f"{normal} bir çoklu yayın (multicast) adresidir, bir cihazın adresi olamaz.")
    return normal
