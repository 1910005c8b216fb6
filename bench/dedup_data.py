"""Seeded, labelled synthetic data for the dedup benchmark (bench/dedup.py).

Everything here is invented: names follow Kinh and ethnic-minority (Cơ Tu, Giẻ Triêng,
Xơ Đăng) naming *patterns*; no real person is described. Commune centroids, areas,
Laos-border flags and adjacency were derived once from
``danang2025_communes_simplified.geojson`` (the project's shared boundary data, MIT,
from thanglequoc/vietnamese-provinces-database; geometry derived from the Vietnam
Administrative Units Reference Map, sapnhap.bando.com.vn) with shapely:
representative point, and polygons within 0.0005° count as neighbours.

Two generators, each returning a :class:`Dataset` of records plus the truth:

* :func:`outreach_sessions`: village meetings, school sessions … Each real session may
  be reported twice (by the commune and the district worker: GPS up to ~300 m apart,
  counts ±10 %, date the same or a day off, village spelled differently, sometimes a
  neighbouring commune) or re-sent from the phone as a new instance after an edit.
  Hard non-duplicates: the same village on another day, two sessions at the same
  school in the same week.
* :func:`victim_cases`: each person may be registered by the border guard and again by
  the women's union or social protection ("Hồ Thị Lan" / "Ho Thi Lan" / "Hồ T. Lan" /
  "Hoof Thij Lan", birth year 2004 vs 2005 …) or re-sent after an edit. Hard
  non-duplicates: sisters (same family and middle name, close birth years, same
  village, sometimes identified the same day), common names ("Nguyễn Thị Hoa")
  across communes, and records without consent (no name at all). A registration
  without consent usually carries a pseudonymous linkage code ("HL2004", see
  :func:`link_code_given` for its noise), drawn from a separate random stream.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from sync.linkage import Record

# code, short name, lat, lon (representative point), area km², Laos border, neighbours
# fmt: off
COMMUNES: tuple[tuple[str, str, float, float, float, str, str], ...] = (
    ("20194", "Hải Vân", 16.1245, 107.9893, 406.09, "no", "20197 20308 20485"),
    ("20197", "Liên Chiểu", 16.0885, 108.0858, 41.19, "no", "20194 20200 20308"),
    ("20200", "Hoà Khánh", 16.0548, 108.1317, 40.93, "no", "20197 20209 20305 20308"),
    ("20209", "Thanh Khê", 16.0668, 108.1948, 7.92, "no", "20200 20242 20257 20305"),
    ("20242", "Hải Châu", 16.0759, 108.2195, 7.58, "no", "20209 20257 20263 20275"),
    ("20257", "Hoà Cường", 16.0443, 108.2131, 15.72, "no", "20209 20242 20260 20275 20285 20305 20314"),
    ("20260", "Cẩm Lệ", 16.015, 108.1807, 14.05, "no", "20257 20305 20308 20314 20320 20332"),
    ("20263", "Sơn Trà", 16.1171, 108.273, 56.03, "no", "20242 20275"),
    ("20275", "An Hải", 16.0708, 108.2368, 7.37, "no", "20242 20257 20263 20285"),
    ("20285", "Ngũ Hành Sơn", 16.0066, 108.2505, 40.19, "no", "20257 20275 20314 20579"),
    ("20305", "An Khê", 16.0395, 108.18, 12.36, "no", "20200 20209 20257 20260 20308"),
    ("20308", "Bà Nà", 16.0501, 108.0241, 136.41, "no", "20194 20197 20200 20260 20305 20320 20485"),
    ("20314", "Hoà Xuân", 15.9856, 108.2029, 27.96, "no", "20257 20260 20285 20332 20557 20579"),
    ("20320", "Hoà Vang", 15.9703, 108.0286, 107.61, "no", "20260 20308 20332 20485 20515"),
    ("20332", "Hoà Tiến", 15.9602, 108.1327, 65.9, "no", "20260 20314 20320 20500 20515 20557"),
    ("20333", "Hoàng Sa", 16.0358, 112.5555, 350, "no", ""),
    ("20335", "Bàn Thạch", 15.5963, 108.4679, 34.77, "no", "20341 20356 20364 20380 20836 20848"),
    ("20341", "Tam Kỳ", 15.5573, 108.4751, 8.36, "no", "20335 20350 20356 20364"),
    ("20350", "Hương Trà", 15.5402, 108.4833, 14.64, "no", "20341 20356 20364 20392 20971"),
    ("20356", "Quảng Phú", 15.6053, 108.5165, 36.21, "no", "20335 20341 20350 20836 20971"),
    ("20364", "Chiên Đàn", 15.5637, 108.432, 48.63, "no", "20335 20341 20350 20380 20392 20854"),
    ("20380", "Tây Hồ", 15.5884, 108.377, 75.67, "no", "20335 20364 20827 20848 20854 20857"),
    ("20392", "Phú Ninh", 15.4716, 108.4319, 131.35, "no", "20350 20364 20854 20878 20908 20971 20977 21004"),
    ("20401", "Hội An Tây", 15.897, 108.3168, 18.09, "no", "20410 20413 20551 20579"),
    ("20410", "Hội An", 15.8698, 108.3334, 10.81, "no", "20401 20413 20551 20599"),
    ("20413", "Hội An Đông", 15.881, 108.3647, 18.22, "no", "20401 20410 20599 20635"),
    ("20434", "Tân Hiệp", 15.9513, 108.5227, 16.43, "no", ""),
    ("20443", "Hùng Sơn", 15.8113, 107.3039, 287.95, "yes", "20455 20698"),
    ("20455", "Tây Giang", 15.8752, 107.4887, 400.45, "yes", "20443 20458 20467 20494 20698 20707 20710"),
    ("20458", "Avương", 15.9702, 107.5552, 225.3, "tri-point", "20455 20467"),
    ("20467", "Đông Giang", 15.9299, 107.6638, 169.43, "no", "20455 20458 20476 20494"),
    ("20476", "Sông Kôn", 15.9772, 107.7894, 212.94, "no", "20467 20485 20494 20506"),
    ("20485", "Sông Vàng", 15.9882, 107.9201, 183.63, "no", "20194 20308 20320 20476 20506 20515"),
    ("20494", "Bến Hiên", 15.8473, 107.7183, 255.85, "no", "20455 20467 20476 20506 20695 20710"),
    ("20500", "Đại Lộc", 15.8953, 108.1067, 73.97, "no", "20332 20515 20539 20557 20569 20587 20611"),
    ("20506", "Thượng Đức", 15.8363, 107.8704, 216.37, "no", "20476 20485 20494 20515 20542 20669 20695"),
    ("20515", "Hà Nha", 15.8599, 108.0084, 132.69, "no", "20320 20332 20485 20500 20506 20539 20542"),
    ("20539", "Vu Gia", 15.8544, 108.0678, 25.12, "no", "20500 20515 20542 20611"),
    ("20542", "Phú Thuận", 15.7834, 107.9941, 130.89, "no", "20506 20515 20539 20611 20656 20669"),
    ("20551", "Điện Bàn", 15.8832, 108.2658, 19.78, "no", "20401 20410 20575 20579 20587 20599"),
    ("20557", "Điện Bàn Bắc", 15.9303, 108.1772, 36.39, "no", "20314 20332 20500 20569 20575 20579"),
    ("20569", "Điện Bàn Tây", 15.889, 108.1757, 43.31, "no", "20500 20557 20575 20587"),
    ("20575", "An Thắng", 15.9062, 108.2313, 19.64, "no", "20551 20557 20569 20579 20587"),
    ("20579", "Điện Bàn Đông", 15.9287, 108.2841, 61.02, "no", "20285 20314 20401 20551 20557 20575"),
    ("20587", "Gò Nổi", 15.8553, 108.2245, 36.2, "no", "20500 20551 20569 20575 20599 20611 20623"),
    ("20599", "Nam Phước", 15.8399, 108.2924, 38.85, "no", "20410 20413 20551 20587 20623 20635 20650"),
    ("20611", "Thu Bồn", 15.7914, 108.1032, 108.77, "no", "20500 20539 20542 20587 20623 20656"),
    ("20623", "Duy Xuyên", 15.7817, 108.2044, 125.78, "no", "20587 20599 20611 20641 20650 20656 20662"),
    ("20635", "Duy Nghĩa", 15.841, 108.3793, 35.36, "no", "20413 20599 20650 20794"),
    ("20641", "Quế Sơn", 15.6671, 108.1929, 94.1, "no", "20623 20656 20662 20767 20818"),
    ("20650", "Xuân Phú", 15.7908, 108.3035, 51.99, "no", "20599 20623 20635 20662 20791 20794"),
    ("20656", "Nông Sơn", 15.7023, 108.1027, 112.53, "no", "20542 20611 20623 20641 20662 20669 20767 20779"),
    ("20662", "Quế Sơn Trung", 15.7112, 108.2511, 111.37, "no", "20623 20641 20650 20656 20791 20818"),
    ("20669", "Quế Phước", 15.6414, 107.9865, 359.11, "no", "20506 20542 20656 20695 20710 20728 20779"),
    ("20695", "Thạnh Mỹ", 15.7547, 107.7653, 207.28, "no", "20494 20506 20669 20710"),
    ("20698", "La Êê", 15.6602, 107.3524, 243.12, "yes", "20443 20455 20704 20707"),
    ("20704", "La Dêê", 15.5528, 107.4408, 184.81, "yes", "20698 20707 20716"),
    ("20707", "Nam Giang", 15.675, 107.5132, 262.94, "no", "20455 20698 20704 20710 20716"),
    ("20710", "Bến Giằng", 15.6673, 107.7335, 535.96, "no", "20455 20494 20669 20695 20707 20716 20722 20728"),
    ("20716", "Đắc Pring", 15.4999, 107.5975, 412.49, "yes", "20704 20707 20710 20722 20734"),
    ("20722", "Khâm Đức", 15.5005, 107.7677, 161.98, "no", "20710 20716 20728 20734 20740 20752"),
    ("20728", "Phước Hiệp", 15.469, 107.9169, 340.05, "no", "20669 20710 20722 20752 20770 20779 20920"),
    ("20734", "Phước Năng", 15.3694, 107.7273, 257.1, "no", "20716 20722 20740"),
    ("20740", "Phước Chánh", 15.3217, 107.8037, 107.56, "no", "20722 20734 20752"),
    ("20752", "Phước Thành", 15.3139, 107.8861, 286.65, "no", "20722 20728 20740 20920 20938"),
    ("20767", "Việt An", 15.5677, 108.1694, 150.17, "no", "20641 20656 20770 20779 20818 20857 20875"),
    ("20770", "Phước Trà", 15.4821, 108.0662, 196.22, "no", "20728 20767 20779 20875 20920"),
    ("20779", "Hiệp Đức", 15.5711, 108.0633, 150.47, "no", "20656 20669 20728 20767 20770 20875"),
    ("20791", "Thăng Bình", 15.7228, 108.3623, 68.91, "no", "20650 20662 20794 20818 20827 20848"),
    ("20794", "Thăng An", 15.7704, 108.4045, 80.98, "no", "20635 20650 20791 20836 20848"),
    ("20818", "Đồng Dương", 15.6471, 108.2903, 76.49, "no", "20641 20662 20767 20791 20827 20857"),
    ("20827", "Thăng Phú", 15.637, 108.3532, 60.5, "no", "20380 20791 20818 20848 20857"),
    ("20836", "Thăng Trường", 15.685, 108.4663, 63.79, "no", "20335 20356 20794 20848"),
    ("20848", "Thăng Điền", 15.6715, 108.4201, 61.59, "no", "20335 20380 20791 20794 20827 20836"),
    ("20854", "Tiên Phước", 15.5003, 108.3358, 74.63, "no", "20364 20380 20392 20857 20878"),
    ("20857", "Sơn Cẩm Hà", 15.5379, 108.2555, 118.75, "no", "20380 20767 20818 20827 20854 20875 20878"),
    ("20875", "Lãnh Ngọc", 15.444, 108.2028, 161.14, "no", "20767 20770 20779 20857 20878 20900 20920"),
    ("20878", "Thạnh Bình", 15.4398, 108.3233, 100.89, "no", "20392 20854 20857 20875 20900 20908"),
    ("20900", "Trà My", 15.3462, 108.2334, 130.6, "no", "20875 20878 20908 20920 20923"),
    ("20908", "Trà Liên", 15.3406, 108.3734, 178.15, "no", "20392 20878 20900 20923 20929 20977 21004"),
    ("20920", "Trà Đốc", 15.3525, 108.0638, 233.61, "no", "20728 20752 20770 20875 20900 20923 20938"),
    ("20923", "Trà Tân", 15.2565, 108.1825, 183.08, "no", "20900 20908 20920 20929 20938 20944"),
    ("20929", "Trà Giáp", 15.1987, 108.2489, 121.55, "no", "20908 20923 20944 20959"),
    ("20938", "Trà Leng", 15.2287, 107.9996, 221.15, "no", "20752 20920 20923 20941 20944"),
    ("20941", "Trà Tập", 15.1401, 108.057, 183.17, "no", "20938 20944 20950"),
    ("20944", "Nam Trà My", 15.1256, 108.1521, 178.31, "no", "20923 20929 20938 20941 20950 20959"),
    ("20950", "Trà Linh", 15.0237, 108.0413, 158.19, "no", "20941 20944"),
    ("20959", "Trà Vân", 15.0893, 108.2168, 85.58, "no", "20929 20944"),
    ("20965", "Núi Thành", 15.4247, 108.6636, 124.75, "no", "20977 20984 20992 21004"),
    ("20971", "Tam Xuân", 15.5346, 108.5484, 66.92, "no", "20350 20356 20392 20977 20984"),
    ("20977", "Đức Phú", 15.4437, 108.4971, 108.97, "no", "20392 20908 20965 20971 20984 21004"),
    ("20984", "Tam Anh", 15.4829, 108.5708, 68.84, "no", "20965 20971 20977 20992"),
    ("20992", "Tam Hải", 15.4942, 108.655, 13.32, "no", "20965 20984"),
    ("21004", "Tam Mỹ", 15.3676, 108.5552, 173.14, "no", "20392 20908 20965 20977"),
)
# fmt: on

START = dt.date(2025, 7, 1)  # the 2025 commune codes took effect
END = dt.date(2026, 11, 27)
SPAN = (END - START).days


def neighbours() -> dict[str, set[str]]:
    """Commune adjacency (what the geo layer computes), code → neighbour codes."""
    return {code: set(nb.split()) for code, _, _, _, _, _, nb in COMMUNES}


@dataclass
class Dataset:
    """Records plus the truth: entity per record and how each copy was made."""

    records: list[Record]
    entity: dict[str, str]  # record id -> real session / person id
    kind: dict[str, str]  # record id -> "original" or how the copy differs
    hard: dict[tuple[str, str], str] = field(default_factory=dict)  # hard non-dups

    def true_pairs(self) -> set[tuple[str, str]]:
        """Every pair of records of one entity, ids sorted."""
        groups: dict[str, list[str]] = defaultdict(list)
        for record_id, entity in self.entity.items():
            groups[entity].append(record_id)
        pairs = set()
        for ids in groups.values():
            ids.sort()
            pairs.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1 :])
        return pairs

    def pair_kind(self, a: str, b: str) -> str:
        """How a true pair was made (the copy's kind; copy-vs-copy if neither is first)."""
        kinds = {self.kind[a], self.kind[b]} - {"original"}
        if len(kinds) == 1 and "original" in (self.kind[a], self.kind[b]):
            return kinds.pop()
        return "copy_vs_copy"


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"uuid:{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _day(rng: random.Random) -> int:
    return START.toordinal() + rng.randrange(SPAN)


def _iso(ordinal: int) -> str:
    return dt.date.fromordinal(min(ordinal, END.toordinal())).isoformat()


def _offset(
    lat: float, lon: float, metres: float, bearing: float
) -> tuple[float, float]:
    dlat = metres * math.cos(bearing) / 111_320.0
    dlon = metres * math.sin(bearing) / (111_320.0 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def _gps(rng: random.Random, lat: float, lon: float, spread: float) -> str:
    lat, lon = _offset(lat, lon, abs(rng.gauss(0, spread)), rng.uniform(0, 2 * math.pi))
    accuracy = (
        rng.choice((3.0, 4.0, 5.0, 6.5, 8.0, 10.0))
        if rng.random() < 0.8
        else round(rng.uniform(10, 50), 1)
    )
    return f"{lat:.6f} {lon:.6f} {rng.uniform(50, 900):.1f} {accuracy}"


# --- text damage ---------------------------------------------------------------------

import unicodedata  # noqa: E402

_TONE_KEYS = {
    "́": ("s", "1"),
    "̀": ("f", "2"),
    "̉": ("r", "3"),
    "̃": ("x", "4"),
    "̣": ("j", "5"),
}
_QUALITY = {"̂": ("{0}{0}", "{0}6"), "̆": ("{0}w", "{0}8"), "̛": ("{0}w", "{0}7")}


def strip_marks(text: str) -> str:
    """ "Hồ Thị Lan" → "Ho Thi Lan" (case kept), as typed on a phone without Vietnamese."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _ime_off(word: str, telex: bool) -> str:
    out, tone = [], ""
    for char in unicodedata.normalize("NFD", word):
        if char in _TONE_KEYS:
            tone = _TONE_KEYS[char][0 if telex else 1]
        elif char in _QUALITY and out:
            out[-1] = _QUALITY[char][0 if telex else 1].format(out[-1])
        elif char in "đĐ":
            out.append(
                ("dd" if telex else "d9") if char == "đ" else ("Dd" if telex else "D9")
            )
        else:
            out.append(char)
    return "".join(out) + tone


def telex_typed(text: str) -> str:
    """What Telex keystrokes give with the input method off: "Hồ Thị" → "Hoof Thij"."""
    return " ".join(_ime_off(w, True) for w in text.split())


def vni_typed(text: str) -> str:
    """The same for VNI: "Hồ Thị" → "Ho62 Thi5"."""
    return " ".join(_ime_off(w, False) for w in text.split())


_KEYBOARD = {
    c: n
    for c, n in zip(
        "qwertyuiopasdfghjklzxcvbnm", "wertyuioposdfghjklkxcvbnmn", strict=True
    )
}


def typo(rng: random.Random, word: str) -> str:
    """One slip: a neighbouring key, a dropped, doubled or swapped letter."""
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word))
    kind = rng.random()
    if kind < 0.3:
        return word[:i] + word[i + 1 :]
    if kind < 0.5:
        return word[:i] + word[i] + word[i:]
    if kind < 0.7 and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    char = word[i]
    base = strip_marks(char).lower()
    return word[:i] + _KEYBOARD.get(base, base) + word[i + 1 :]


# --- outreach sessions ---------------------------------------------------------------

# fmt: off
_PLAIN_VILLAGES = (
    "Phú Hòa", "Tân Lập", "Trung Phước", "An Lương", "Phước Hội", "Thạnh Mỹ",
    "Hòa Bình", "Đồng Tràm", "Bình An", "Mỹ Sơn", "Thanh Quýt", "Phú Thạnh", "Tây An",
    "Lộc Thượng", "Ngọc Thạch"
)
_MINORITY_SYLLABLES = (
    "A", "Ta", "Pà", "Ra", "Za", "Bh", "Tr'", "Ch'", "Pơ", "Đắc", "Tà", "Cơ", "Zơ",
    "A Rầng", "Đhrông", "Bờ", "Cà", "Tơ"
)
_MINORITY_ENDINGS = (
    "Ur", "Xòo", "Lai", "Rớt", "Lô", "Ting", "Ốc", "Pứt", "Lang", "Giằng", "Ra", "Ê",
    "Hôồng", "Nét", "Dinh", "Prang", "Hy", "Ning", "Nghi", "Bhlô", "Ró", "Mêê", "Lắp",
    "Ka", "Tu", "Xí", "Ruông"
)
_FORMATS = (
    ("village_meeting", 45), ("school", 18), ("home_visit", 10), ("market_stall", 8),
    ("loudspeaker", 10), ("cross_border_market", 4), ("other", 5)
)
_TOPICS = tuple(
    "lures safe_migration cross_border_marriage labour_exploitation "
    "child_trafficking online_scams hotlines legal_rights".split()
)
_LANGUAGES = ("vietnamese", "co_tu", "gie_trieng", "xo_dang")
# fmt: on


# how often a session covers each topic: campaigns repeat the same core messages
_TOPIC_RATES = (0.85, 0.5, 0.45, 0.35, 0.3, 0.35, 0.75, 0.3)


def _topics(rng: random.Random) -> str:
    chosen = [
        t for t, rate in zip(_TOPICS, _TOPIC_RATES, strict=True) if rng.random() < rate
    ]
    return " ".join(chosen or ["lures"])


def _mountain(commune: tuple) -> bool:
    return commune[5] != "no" or (commune[4] > 180 and commune[3] < 108.2)


@dataclass
class _Village:
    commune: str
    name: str  # as the commune worker writes it, with its prefix ("Thôn Aur")
    lat: float
    lon: float
    minority: bool


def _villages(rng: random.Random) -> dict[str, list[_Village]]:
    out: dict[str, list[_Village]] = {}
    for commune in COMMUNES:
        code, _, lat, lon, area, _, _ = commune
        mountain = _mountain(commune)
        radius = math.sqrt(area / math.pi) * 700  # metres, inside the commune
        count = max(4, min(20, int(4 + area / 25)))
        names: set[str] = set()
        villages = []
        numbered = 1
        while len(villages) < count:
            if mountain and rng.random() < 0.75:
                prefix = "Bản" if rng.random() < 0.15 else "Thôn"
                core = (
                    rng.choice(_MINORITY_SYLLABLES)
                    + " "
                    + rng.choice(_MINORITY_ENDINGS)
                    if rng.random() < 0.6
                    else rng.choice(_MINORITY_ENDINGS)
                )
                name = f"{prefix} {core}"
                minority = True
            elif rng.random() < 0.5:
                name = f"{'Tổ dân phố' if area < 30 else 'Thôn'} {numbered}"
                numbered += 1
                minority = False
            else:
                name = f"Thôn {rng.choice(_PLAIN_VILLAGES)}"
                minority = False
            if name in names:
                continue
            names.add(name)
            vlat, vlon = _offset(
                lat, lon, rng.uniform(0, radius), rng.uniform(0, 2 * math.pi)
            )
            villages.append(_Village(code, name, vlat, vlon, minority))
        out[code] = villages
    return out


def _counts(rng: random.Random, fmt: str, minority_share: float) -> dict[str, int]:
    low, high = {
        "village_meeting": (15, 120),
        "school": (20, 180),
        "home_visit": (2, 9),
        "market_stall": (10, 80),
        "loudspeaker": (40, 400),
        "cross_border_market": (15, 120),
        "other": (5, 60),
    }[fmt]
    total = rng.randint(low, high)
    if fmt == "school":
        shares = (0.05, rng.uniform(0.4, 0.5), 0.04, 0.0)
    else:
        shares = (
            rng.uniform(0.3, 0.55),
            rng.uniform(0.02, 0.15),
            rng.uniform(0.2, 0.4),
            rng.uniform(0.01, 0.1),
        )
    women, girls, men, boys = (int(total * s) for s in shares)
    if fmt == "school":
        boys = total - women - girls - men
    counts = {
        "n_total": total,
        "n_women": women,
        "n_girls": girls,
        "n_men": men,
        "n_boys": boys,
        "n_ethnic_minority": min(total, int(total * minority_share)),
    }
    if fmt == "loudspeaker" and rng.random() < 0.5:
        for key in ("n_women", "n_girls", "n_men", "n_boys"):
            counts[key] = 0  # an estimate with no breakdown
    return counts


_COUNT_KEYS = ("n_total", "n_women", "n_girls", "n_men", "n_boys", "n_ethnic_minority")


def _perturb(rng: random.Random, counts: dict[str, int], rel: float) -> dict[str, int]:
    factor = rng.uniform(1 - rel, 1 + rel)
    out = {
        k: max(0, round(counts[k] * factor * rng.uniform(0.97, 1.03)))
        for k in _COUNT_KEYS
    }
    out["n_total"] = max(out["n_total"], 1)
    parts = sum(out[k] for k in ("n_women", "n_girls", "n_men", "n_boys"))
    if parts > out["n_total"]:
        out["n_total"] = parts
    out["n_ethnic_minority"] = min(out["n_ethnic_minority"], out["n_total"])
    return out


def _village_variant(rng: random.Random, name: str) -> tuple[str, str]:
    words = name.split()
    prefix_len = 3 if name.startswith("Tổ dân phố") else 1
    choice = rng.random()
    if choice < 0.25:
        return strip_marks(name), "village_no_diacritics"
    if choice < 0.45 and len(words) > prefix_len:
        return " ".join(words[prefix_len:]), "village_no_prefix"
    if choice < 0.55 and len(words) > prefix_len + 1:
        return " ".join(
            words[:prefix_len] + ["".join(words[prefix_len:])]
        ), "village_spacing"
    if choice < 0.65:
        swapped = {"Thôn": "Bản", "Bản": "Thôn"}.get(words[0], words[0])
        return " ".join([swapped, *words[1:]]), "village_prefix"
    if choice < 0.75:
        return telex_typed(name), "village_telex"
    if choice < 0.85:
        i = rng.randrange(prefix_len, len(words)) if len(words) > prefix_len else 0
        words[i] = typo(rng, words[i])
        return " ".join(words), "village_typo"
    return name.lower(), "village_case"


def outreach_sessions(
    n: int, seed: int, *, dup_rate: float = 0.12, resend_share: float = 0.3
) -> Dataset:
    """About ``n`` real sessions (plus hard non-duplicates), some reported twice."""
    rng = random.Random(seed)
    villages = _villages(rng)
    communes = {c[0]: c for c in COMMUNES}
    adjacency = neighbours()
    weights = [3.0 if c[5] != "no" else 2.0 if _mountain(c) else 1.0 for c in COMMUNES]
    schools = {
        code: rng.sample(vs, k=min(len(vs), rng.randint(1, 3)))
        for code, vs in villages.items()
    }
    records: list[Record] = []
    entity: dict[str, str] = {}
    kind: dict[str, str] = {}
    hard: dict[tuple[str, str], str] = {}

    def emit(fields: dict, ent: str, how: str) -> str:
        record_id = _uuid(rng)
        records.append(Record(record_id, "outreach_session", fields))
        entity[record_id] = ent
        kind[record_id] = how
        return record_id

    phones: dict[str, str] = {}

    def reporter(username: str) -> dict:
        if username not in phones:  # one phone per worker
            phones[username] = f"collect:{rng.getrandbits(40):x}"
        return {"username": username, "deviceid": phones[username]}

    def session(
        village: _Village, day: int, fmt: str, point: tuple[float, float]
    ) -> dict:
        commune = communes[village.commune]
        minority = village.minority or _mountain(commune)
        fields: dict = {
            "session_date": _iso(day),
            "commune": village.commune,
            "village": village.name,
            "format": fmt,
            "topics": _topics(rng),
            "languages": "vietnamese"
            + (" " + rng.choice(_LANGUAGES[1:]) if minority else ""),
            **reporter(f"xa{village.commune}"),
        }
        if rng.random() > 0.1:
            fields["gps"] = _gps(rng, point[0], point[1], 40)
        fields.update(_counts(rng, fmt, rng.uniform(0.7, 1.0) if minority else 0.05))
        return fields

    entity_no = 0
    while entity_no < n:
        commune = rng.choices(COMMUNES, weights)[0]
        code = commune[0]
        fmt = rng.choices([f for f, _ in _FORMATS], [w for _, w in _FORMATS])[0]
        if fmt == "cross_border_market" and commune[5] == "no":
            fmt = "market_stall"
        village = rng.choice(schools[code] if fmt == "school" else villages[code])
        day = _day(rng)
        point = _offset(
            village.lat, village.lon, rng.uniform(0, 150), rng.uniform(0, 6.3)
        )
        if fmt == "school":
            point = (village.lat, village.lon)
        entity_no += 1
        ent = f"s{entity_no}"
        base = session(village, day, fmt, point)
        first = emit(base, ent, "original")

        if rng.random() < dup_rate:
            copies = 2 if rng.random() < 0.15 else 1
            for _ in range(copies):
                if rng.random() < resend_share:
                    edited = dict(base)
                    what = rng.random()
                    if what < 0.4:
                        edited.update(_perturb(rng, base, 0.05))
                    elif what < 0.7:
                        edited["topics"] = " ".join(
                            sorted(set(base["topics"].split()) | {rng.choice(_TOPICS)})
                        )
                    else:
                        edited["village"] = _village_variant(rng, base["village"])[0]
                    emit(edited, ent, "resend_edited")
                    continue
                if rng.random() < 0.1:  # typed again from the paper sheet, same worker
                    again = dict(base)
                    again.pop("gps", None)
                    if rng.random() < 0.5:
                        lat, lon = _offset(
                            point[0],
                            point[1],
                            rng.uniform(0, 2000),
                            rng.uniform(0, 2 * math.pi),
                        )
                        again["gps"] = _gps(rng, lat, lon, 10)
                    if rng.random() < 0.5:
                        again["village"] = _village_variant(rng, base["village"])[0]
                    emit(again, ent, "same_worker_reentered")
                    continue
                other = dict(base)
                how = ["second_reporter"]
                other.update(reporter(f"huyen{code[:4]}{rng.randint(1, 3)}"))
                if rng.random() < 0.3:
                    other["session_date"] = _iso(day + rng.choice((-1, 1)))
                    how.append("date_1_day")
                if "gps" in base and rng.random() < 0.85:
                    lat, lon = _offset(
                        point[0],
                        point[1],
                        rng.uniform(0, 300),
                        rng.uniform(0, 2 * math.pi),
                    )
                    other["gps"] = _gps(rng, lat, lon, 10)
                else:
                    other.pop("gps", None)
                other.update(_perturb(rng, base, 0.10))
                r = rng.random()
                if r < 0.6:
                    other["village"], variant = _village_variant(rng, base["village"])
                    how.append(variant)
                elif r < 0.63:  # the school's or the hamlet's other name
                    other["village"] = rng.choice(villages[code]).name
                    how.append("village_other_name")
                if rng.random() < 0.05 and adjacency[code]:
                    other["commune"] = rng.choice(sorted(adjacency[code]))
                    how.append("neighbour_commune")
                if rng.random() < 0.1:
                    other["format"] = "other" if fmt != "other" else "village_meeting"
                if rng.random() < 0.5:
                    topics = set(base["topics"].split())
                    topics ^= {rng.choice(_TOPICS)}
                    other["topics"] = " ".join(sorted(topics)) or "hotlines"
                emit(other, ent, "+".join(how))

        # hard non-duplicates, made on purpose
        if rng.random() < 0.15:
            gap = rng.choice((1, 1, 2, 3, 5, 7, 10, 14)) * rng.choice((-1, 1))
            fmt2 = (
                fmt
                if rng.random() < 0.5
                else rng.choice(("village_meeting", "home_visit", "loudspeaker"))
            )
            entity_no += 1
            point2 = _offset(
                village.lat, village.lon, rng.uniform(0, 150), rng.uniform(0, 6.3)
            )
            second = emit(
                session(village, day + gap, fmt2, point2), f"s{entity_no}", "original"
            )
            hard[tuple(sorted((first, second)))] = "same_village_other_day"
        if fmt == "school" and rng.random() < 0.3:
            gap = 0 if rng.random() < 0.15 else rng.randint(1, 4) * rng.choice((-1, 1))
            entity_no += 1
            second = emit(
                session(village, day + gap, "school", point),
                f"s{entity_no}",
                "original",
            )
            hard[tuple(sorted((first, second)))] = "same_school_same_week"
    rng.shuffle(records)
    return Dataset(records, entity, kind, hard)


# --- victim cases --------------------------------------------------------------------

# fmt: off
_KINH_FAMILY = (
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Huỳnh", 4), ("Hoàng", 2),
    ("Phan", 4.5), ("Võ", 4), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 1.4), ("Hồ", 1.3),
    ("Ngô", 1.3), ("Dương", 1), ("Lý", 0.5), ("Trương", 1.5), ("Đinh", 1),
    ("Lương", 0.5), ("Mai", 0.5), ("Cao", 0.5)
)
_KINH_FEMALE = tuple(
    "Hoa Lan Hương Mai Linh Trang Thảo Hà Ngọc Nhung Hằng Thu Yến Vân Loan Hạnh "
    "Phương Thủy Hiền Dung Nga Oanh Tuyết Xuân Liên My Nhi Anh Quỳnh Diễm Trinh "
    "Hồng Tâm Huyền Nhàn Sương Thắm Bích Châu Vy".split()
)
_KINH_MALE = tuple(
    "Hùng Dũng Tuấn Minh Nam Hải Sơn Long Phúc Thắng Quang Bình Cường Đức Trung "
    "Tài Hiếu Khánh Lộc Vũ".split()
)
_FEMALE_MIDDLE = (
    ("Thị", 75), ("Ngọc", 5), ("Thu", 4), ("Thanh", 4), ("Kim", 3), ("Mỹ", 3),
    ("Thị Thu", 3), ("Hoài", 3)
)
_MALE_MIDDLE = (
    ("Văn", 60), ("Đức", 8), ("Minh", 8), ("Hữu", 8), ("Quốc", 6), ("Công", 5),
    ("Thanh", 5)
)
# family names, with the other spelling a second writer may use
_CO_TU_FAMILY = (
    ("Bríu", "Briu"), ("A Lăng", "Alăng"), ("Zơrâm", "Zơ Râm"), ("Hôih", "Hôih"),
    ("Bh'riu", 'Bhriu'), ("Coor", "Coor"), ("Clâu", "Clâu"), ("Ating", "A Ting"),
    ("Pơloong", "Pơ Loong"), ("Bhling", "Bhling"), ("Arất", "A Rất"),
    ("Tơngôl", "Tơ Ngôl"), ("Riah", "Riah"), ('Bnướch', "Bh'nướch"), ("Đinh", "Đinh"),
    ("Hồ", "Hồ")
)
_CO_TU_GIVEN = tuple(
    "Phơ Mé Blao Bhơ Zuôn Ly Nhu Pai Ngân Bíp Hiên Pứa Bốp Lúa Nướch Xoan Dớt Thư "
    "Đào Dung Hoa Thắng Lan Hương Mai".split()
)
_GIE_TRIENG_FAMILY = (
    ("Hồ", "Hồ"), ("Đinh", "Đinh"), ("Zơrâm", "Zơ Râm"), ("Pơloong", "Pơ Loong"),
    ("Ating", "A Ting"), ("Nguyễn", "Nguyễn")
)
_GIE_TRIENG_GIVEN = tuple(
    "Rin Xuyên Nhíp Kim Lý Bích Ngưi Đêm Rê Thẻo Mai Lan Hoa Dung Thuận Pết".split()
)
_XO_DANG_FAMILY = (("Hồ", "Hồ"), ("Đinh", "Đinh"), ("Trà", "Trà"), ("Hồ", "Hồ"))
_XO_DANG_GIVEN = tuple(
    "Mương Mây Bứa Lết Nhích Xuân Kiều Thơm Vinh Ơn Khé Lá Mót Nguyên Hoa Hường".split()
)
_UNITS = {
    "border_guard": ("BPTG", "BPNG", "BPDG"), "police": ("CADN", "CATG"),
    "social_protection": ("BTXH",), "womens_union": ("HLPN",), "commune_pc": ("UBXA",),
    "ngo": ("NGO",)
}
_DESTINATIONS = (
    ("china", 45), ("laos", 20), ("cambodia", 15), ("vietnam", 10), ("thailand", 3),
    ("malaysia", 3), ("myanmar", 4)
)
_EXPLOITATION = ("sexual", "forced_labour", "forced_marriage", "forced_criminality")
# fmt: on


def _ethnic_group(rng: random.Random, commune: tuple) -> str:
    _, _, lat, lon, _, _, _ = commune
    if not _mountain(commune) or rng.random() < 0.3:
        return "kinh"
    if lat > 15.75 and lon < 107.95:
        return "co_tu"
    if lat > 15.4 and lon < 107.8:
        return "gie_trieng"
    if lat < 15.45:
        return "xo_dang"
    return rng.choice(("co_tu", "gie_trieng"))


def _pick(rng: random.Random, weighted: tuple) -> str:
    return rng.choices([x for x, _ in weighted], [w for _, w in weighted])[0]


def _zipf(rng: random.Random, items: tuple[str, ...]) -> str:
    return rng.choices(items, [1 / (i + 1) for i in range(len(items))])[0]


@dataclass
class _Person:
    pid: str
    family: tuple[str, str]  # spelling, alternative spelling
    middle: str
    given: str
    sex: str
    birth_year: int
    ethnicity: str
    commune: str
    village: str
    phone: str | None
    id_number: str | None

    def name(self, alt: bool = False) -> str:
        return " ".join(
            x for x in (self.family[1 if alt else 0], self.middle, self.given) if x
        )


def _new_person(
    rng: random.Random,
    pid: str,
    commune: tuple,
    villages: list[_Village],
    sex: str | None = None,
    family: tuple[str, str] | None = None,
) -> _Person:
    group = _ethnic_group(rng, commune)
    sex = sex or ("female" if rng.random() < 0.85 else "male")
    if group == "kinh":
        fam = family or (lambda f: (f, f))(_pick(rng, _KINH_FAMILY))
        given = _zipf(rng, _KINH_FEMALE if sex == "female" else _KINH_MALE)
        middle = _pick(rng, _FEMALE_MIDDLE if sex == "female" else _MALE_MIDDLE)
    else:
        families, givens = {
            "co_tu": (_CO_TU_FAMILY, _CO_TU_GIVEN),
            "gie_trieng": (_GIE_TRIENG_FAMILY, _GIE_TRIENG_GIVEN),
            "xo_dang": (_XO_DANG_FAMILY, _XO_DANG_GIVEN),
        }[group]
        fam = family or rng.choice(families)
        given = rng.choice(
            givens
            if rng.random() < 0.6
            else (_KINH_FEMALE if sex == "female" else _KINH_MALE)[:15]
        )
        middle = "Thị" if sex == "female" else "Văn"
    year = END.year - max(8, min(60, int(rng.gammavariate(4.0, 5.0)) + 10))
    return _Person(
        pid=pid,
        family=fam,
        middle=middle,
        given=given,
        sex=sex,
        birth_year=year,
        ethnicity=group,
        commune=commune[0],
        village=rng.choice(villages).name,
        phone=f"09{rng.randrange(10**8):08d}" if rng.random() < 0.5 else None,
        id_number=f"0{commune[0][:2]}{rng.randrange(10**9):09d}"
        if rng.random() < 0.5
        else None,
    )


def _name_variant(rng: random.Random, person: _Person) -> tuple[str, str]:
    name = person.name()
    words = name.split()
    r = rng.random()
    if r < 0.28:
        return name, "name_exact"
    if r < 0.50:
        return strip_marks(name), "name_no_diacritics"
    if r < 0.58:
        if len(person.middle.split()) and rng.random() < 0.75:
            short = " ".join(m[0] + "." for m in person.middle.split())
            return " ".join(
                x for x in (person.family[0], short, person.given) if x
            ), "name_initial"
        return f"{person.family[0]} {person.given}", "name_no_middle"
    if r < 0.65:
        return telex_typed(name), "name_telex"
    if r < 0.68:
        return vni_typed(name), "name_vni"
    if r < 0.73:
        order = (
            (person.given, person.family[0], person.middle)
            if rng.random() < 0.5
            else (person.middle, person.given, person.family[0])
        )
        text = " ".join(x for x in order if x)
        return (strip_marks(text) if rng.random() < 0.5 else text), "name_given_first"
    if r < 0.82:
        i = rng.randrange(len(words))
        words[i] = typo(rng, words[i])
        return " ".join(words), "name_typo"
    if r < 0.87 and person.family[1] != person.family[0]:
        return person.name(alt=True), "name_spacing"
    if r < 0.92:
        i = rng.randrange(len(words))
        words[i] = strip_marks(words[i])
        return " ".join(words), "name_some_diacritics"
    return name.upper(), "name_upper_case"


# Nicknames a person may think of as their name when asked for its first letter.
_NICKNAMES = ("Bé", "Út", "Mi", "Ni", "Tí", "Su", "Cún", "Bống", "Xíu", "Gái")
# Family names whose main syllable is not the first letter ("A Lăng": A or L).
_SPLIT_FAMILY = re.compile(r"^(?:A ?|[BCDGKLMNPRSTVXZ]ơ ?)(\w)", re.IGNORECASE)


def _initial(word: str) -> str:
    return strip_marks(word)[:1].upper()


def link_code_given(rng: random.Random, person: _Person, day: int) -> tuple[str, str]:
    """The code a person without consent gives (``link_status``, ``link_code``).

    About 17 % give none (10 % do not want to, 7 % do not know their birth year).
    Otherwise: the family initial, or for a split Cơ Tu name ("A Lăng", "Zơrâm") the
    main syllable's letter (30 %); the given name's initial, or a nickname's (6 %);
    the birth year, ±1 (22 %: the lunar-year age, a guess) or ±2 (4 %); the two
    letters swapped by the worker (2 %).
    """
    r = rng.random()
    if r < 0.10:
        return "declined", ""
    if r < 0.17:
        return "unknown", ""
    family = _initial(person.family[0])
    split = _SPLIT_FAMILY.match(person.family[0])
    if split and rng.random() < 0.3:
        family = _initial(split.group(1))
    given = _initial(person.given if rng.random() >= 0.06 else rng.choice(_NICKNAMES))
    year = person.birth_year
    r = rng.random()
    if r < 0.22:
        year += rng.choice((-1, 1))
    elif r < 0.26:
        year += rng.choice((-2, 2))
    year = min(year, dt.date.fromordinal(day).year)
    letters = given + family if rng.random() < 0.02 else family + given
    return "given", f"{letters}{year}"


def victim_cases(
    n: int,
    seed: int,
    *,
    dup_rate: float = 0.3,
    resend_rate: float = 0.06,
    consent_rate: float = 0.88,
    sibling_rate: float = 0.2,
) -> Dataset:
    """About ``n`` identified persons, some registered twice or re-sent."""
    rng = random.Random(seed)
    # A separate stream for the linkage codes, so adding them left every other value
    # of the data set (names, dates, siblings …) exactly as it was before.
    code_rng = random.Random(f"link-code-{seed}")
    villages = _villages(rng)
    adjacency = neighbours()
    weights = [6.0 if c[5] != "no" else 3.0 if _mountain(c) else 0.5 for c in COMMUNES]
    sequence: dict[str, int] = defaultdict(int)
    records: list[Record] = []
    entity: dict[str, str] = {}
    kind: dict[str, str] = {}
    hard: dict[tuple[str, str], str] = {}
    first_record: dict[str, str] = {}

    def case_code(agency: str, day: int) -> str:
        unit = rng.choice(_UNITS[agency])
        sequence[unit] += 1
        year = dt.date.fromordinal(day).year
        width = 3 if len(unit) == 4 else 5
        return f"{unit}-{year}-{sequence[unit]:0{width}d}"

    def register(
        person: _Person,
        day: int,
        agency: str,
        how: str,
        consent: bool,
        base: dict | None = None,
    ) -> str:
        if base is None:
            fields: dict = {
                "consent": "yes" if consent else "no",
                "case_code": case_code(agency, day),
                "id_date": _iso(day),
                "id_agency": agency,
                "commune": person.commune,
                "residence_province": "48",
                "sex": person.sex,
                "destination": _pick(rng, _DESTINATIONS),
                "exploitation": " ".join(
                    sorted(rng.sample(_EXPLOITATION, rng.randint(1, 2)))
                ),
                "username": f"{agency}{rng.randint(1, 5)}",
            }
            age = dt.date.fromordinal(day).year - person.birth_year
            band = (
                "u16"
                if age < 16
                else "16_17"
                if age < 18
                else "18_29"
                if age < 30
                else "30_plus"
            )
            fields["age_band"] = band
            fields["ethnic_minority"] = "no" if person.ethnicity == "kinh" else "yes"
            if consent:
                fields.update(
                    full_name=person.name(),
                    birth_year=person.birth_year,
                    ethnicity=person.ethnicity,
                    village=person.village,
                )
                if person.phone:
                    fields["phone"] = person.phone
                if person.id_number:
                    fields["id_type"], fields["id_number"] = "cccd", person.id_number
            else:
                status, code = link_code_given(code_rng, person, day)
                fields["link_status"] = status
                if code:
                    fields["link_code"] = code
        else:
            fields = base
        record_id = _uuid(rng)
        records.append(Record(record_id, "victim_case", fields))
        entity[record_id] = person.pid
        kind[record_id] = how
        return record_id

    def second_registration(person: _Person, first: dict, day: int) -> None:
        agency = rng.choice(
            ("womens_union", "social_protection", "police", "commune_pc")
        )
        r = rng.random()  # most are registered again within two weeks, a few much later
        later = day + (
            rng.randint(0, 14)
            if r < 0.6
            else rng.randint(15, 90)
            if r < 0.9
            else rng.randint(91, 365)
        )
        consent = rng.random() < consent_rate
        rid = register(person, later, agency, "pending", consent)
        fields = records[-1].fields
        how = ["second_agency"]
        if consent and first.get("consent") == "yes":
            fields["full_name"], variant = _name_variant(rng, person)
            how.append(variant)
            r = rng.random()
            if r < 0.35:
                fields["birth_year"] = person.birth_year + rng.choice((-1, 1))
                how.append("year_1_off")
            elif r < 0.38:
                fields["birth_year"] = person.birth_year + rng.choice((-2, 2))
                how.append("year_2_off")
            elif r < 0.45:
                del fields["birth_year"]
                how.append("year_missing")
            r = rng.random()
            if r < 0.4:
                fields["village"] = _village_variant(rng, person.village)[0]
            elif r < 0.5:  # where she lives now, or the village she was taken from
                fields["village"] = rng.choice(villages[person.commune]).name
            elif r < 0.6:
                del fields["village"]
            if "phone" in fields and rng.random() < 0.2:
                fields["phone"] = f"09{rng.randrange(10**8):08d}"
            if "phone" in fields and rng.random() < 0.4:
                del fields["phone"]
            if "id_number" in fields and rng.random() < 0.4:
                del fields["id_number"]
                fields.pop("id_type", None)
            if rng.random() < 0.05:
                fields["ethnicity"] = "other"
        elif not consent or first.get("consent") != "yes":
            how.append("without_consent")
        r = rng.random()
        if r < 0.08 and adjacency[person.commune]:
            fields["commune"] = rng.choice(sorted(adjacency[person.commune]))
            how.append("neighbour_commune")
        elif r < 0.11:
            fields["commune"] = rng.choice(COMMUNES)[0]
            how.append("other_commune")
        if rng.random() < 0.15:
            fields["destination"] = _pick(rng, _DESTINATIONS)
        kind[rid] = "+".join(how)

    pid = 0
    while pid < n:
        commune = rng.choices(COMMUNES, weights)[0]
        pid += 1
        person = _new_person(rng, f"p{pid}", commune, villages[commune[0]])
        group = [person]
        if rng.random() < sibling_rate:  # sisters (or brothers): hard non-duplicates
            for _ in range(rng.choice((1, 1, 2))):
                pid += 1
                sib = _new_person(
                    rng,
                    f"p{pid}",
                    commune,
                    villages[commune[0]],
                    sex=person.sex,
                    family=person.family,
                )
                sib.middle = person.middle if rng.random() < 0.8 else sib.middle
                sib.ethnicity = person.ethnicity
                sib.village = person.village
                if rng.random() < 0.3:  # the family's phone
                    sib.phone = person.phone
                sib.birth_year = person.birth_year + rng.choice(
                    (0, 1, 1, 2, 2, 3, 4, 5)
                ) * rng.choice((-1, 1))
                if sib.given == person.given:
                    continue
                group.append(sib)
        day = _day(rng)
        together = rng.random() < 0.5
        for member in group:
            member_day = day if together else _day(rng)
            consent = rng.random() < consent_rate
            agency = (
                "border_guard"
                if rng.random() < 0.6
                else rng.choice(("police", "social_protection", "womens_union"))
            )
            first_id = register(member, member_day, agency, "original", consent)
            first_fields = records[-1].fields
            first_record[member.pid] = first_id
            if rng.random() < dup_rate:
                second_registration(member, first_fields, member_day)
            if rng.random() < resend_rate:
                edited = dict(first_fields)
                if "full_name" in edited and rng.random() < 0.5:
                    edited["full_name"] = _name_variant(rng, member)[0]
                else:
                    edited["risk"] = rng.choice(("low", "medium", "high"))
                    edited["destination"] = _pick(rng, _DESTINATIONS)
                register(member, member_day, agency, "resend_edited", consent, edited)
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                pair = tuple(sorted((first_record[a.pid], first_record[b.pid])))
                hard[pair] = "siblings"
    # common names in other communes: same name, another person
    by_name: dict[str, list[str]] = defaultdict(list)
    for record in records:
        if kind[record.record_id] == "original" and "full_name" in record.fields:
            by_name[record.fields["full_name"]].append(record.record_id)
    for ids in by_name.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                if entity[a] != entity[b]:
                    hard.setdefault(tuple(sorted((a, b))), "same_name_other_person")
    rng.shuffle(records)
    return Dataset(records, entity, kind, hard)


def iter_records(dataset: Dataset) -> Iterator[Record]:
    """The records in arrival order."""
    return iter(dataset.records)
