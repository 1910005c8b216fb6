"""Human-readable reasons, in Vietnamese and English, from structured reason codes.

A reason is ``code`` (``<comparator>.<level>``, stable), the comparison name, the
weight it added and ``params``. The UI may translate the code itself; this catalogue
is the server's default rendering. Parameters of personal fields hold relations only
(a difference in years, a number of edits), never the values.
"""

from __future__ import annotations

import typing as t

__all__ = ["LANGUAGES", "MESSAGES", "describe"]

LANGUAGES = ("en", "vi")

# code -> (English, Vietnamese). {label} is the comparison's label in that language.
MESSAGES: dict[str, tuple[str, str]] = {
    "date.same_day": ("same {label}", "cùng {label}"),
    "date.close": ("{label} {days_en} apart", "{label} cách nhau {days} ngày"),
    "date.near": ("{label} {days_en} apart", "{label} cách nhau {days} ngày"),
    "date.far": ("{label} {days_en} apart", "{label} cách nhau {days} ngày"),
    "year.same": ("same {label}", "cùng {label}"),
    "year.off_by_one": (
        "{label} differs by 1{values_en}",
        "{label} lệch 1 năm{values_vi}",
    ),
    "year.close": (
        "{label} differs by {diff}{values_en}",
        "{label} lệch {diff} năm{values_vi}",
    ),
    "year.far": (
        "{label} differs by {diff}{values_en}",
        "{label} lệch {diff} năm{values_vi}",
    ),
    "commune.same": ("same commune", "cùng xã/phường"),
    "commune.neighbour": (
        "neighbouring communes{values_en}",
        "hai xã/phường giáp ranh{values_vi}",
    ),
    "commune.different": ("different communes{values_en}", "khác xã/phường{values_vi}"),
    "geopoint.identical": (
        "identical GPS fix (a copied form)",
        "cùng một tọa độ GPS (biểu mẫu sao chép)",
    ),
    "geopoint.same_place": ("{metres} m apart", "cách nhau {metres} m"),
    "geopoint.close": ("{metres} m apart", "cách nhau {metres} m"),
    "geopoint.area": ("{metres} m apart", "cách nhau {metres} m"),
    "geopoint.far": ("{km} km apart", "cách nhau {km} km"),
    "place.exact": ("same {label}", "cùng {label}"),
    "place.folded": (
        "same {label} after removing diacritics and prefixes{values_en}",
        "cùng {label} khi bỏ dấu và tiền tố{values_vi}",
    ),
    "place.similar": (
        "similar {label} names{values_en}",
        "tên {label} gần giống nhau{values_vi}",
    ),
    "place.different": ("different {label}{values_en}", "khác {label}{values_vi}"),
    "counts.close": ("{label} {a} vs {b}", "{label} {a} và {b}"),
    "counts.total_close": (
        "{label} {a} vs {b}, breakdown differs",
        "{label} {a} và {b}, phân loại khác nhau",
    ),
    "counts.moderate": ("{label} {a} vs {b}", "{label} {a} và {b}"),
    "counts.far": ("{label} {a} vs {b}", "{label} {a} và {b}"),
    "category.same": ("same {label}", "cùng {label}"),
    "category.different": ("different {label}{values_en}", "khác {label}{values_vi}"),
    "choices.same": ("same {label}", "cùng {label}"),
    "choices.overlap": ("mostly the same {label}", "{label} phần lớn giống nhau"),
    "choices.partial": ("some {label} in common", "một số {label} giống nhau"),
    "choices.disjoint": ("no {label} in common", "không có {label} nào giống nhau"),
    "reporter.same_device": ("sent from the same phone", "gửi từ cùng một điện thoại"),
    "reporter.same_user": (
        "same reporting user, another phone",
        "cùng người báo cáo, khác điện thoại",
    ),
    "reporter.different": (
        "reported by different people",
        "do người khác nhau báo cáo",
    ),
    "identifier.same": ("same {label}", "cùng {label}"),
    "identifier.different": ("different {label}", "khác {label}"),
    "case_code.same": ("same case code", "cùng mã hồ sơ"),
    "case_code.same_unit": (
        "same recording unit, different case numbers",
        "cùng đơn vị ghi nhận, khác số hồ sơ",
    ),
    "case_code.different": (
        "case codes from different units",
        "mã hồ sơ của các đơn vị khác nhau",
    ),
    "person_name.exact": ("names identical", "họ tên trùng khớp"),
    "person_name.folded.diacritics": (
        "names match after removing diacritics",
        "họ tên trùng khi bỏ dấu",
    ),
    "person_name.folded.typing": (
        "names match after undoing Telex/VNI typing",
        "họ tên trùng khi sửa lỗi gõ Telex/VNI",
    ),
    "person_name.folded.spacing": (
        "names match ignoring spaces",
        "họ tên trùng khi bỏ khoảng trắng",
    ),
    "person_name.reordered": (
        "same name words in another order (given name first?)",
        "cùng các chữ trong họ tên, khác thứ tự",
    ),
    "person_name.abbreviated": (
        "names match with an initial or a missing middle name",
        "họ tên khớp khi viết tắt hoặc thiếu tên đệm",
    ),
    "person_name.accent_conflict": (
        "names differ only in tone or vowel marks",
        "họ tên chỉ khác dấu",
    ),
    "person_name.typo": (
        "names differ by {edits} letter(s)",
        "họ tên khác {edits} chữ cái",
    ),
    "person_name.different": ("different names", "họ tên khác nhau"),
    "link_code.same": ("same linkage code", "cùng mã liên kết"),
    "link_code.off_by_one": (
        "linkage codes: same initials, birth year differs by 1",
        "mã liên kết: cùng chữ cái đầu, năm sinh lệch 1 năm",
    ),
    "link_code.initials": (
        "linkage codes: same initials{diff_en}",
        "mã liên kết: cùng chữ cái đầu{diff_vi}",
    ),
    "link_code.one_initial": (
        "linkage codes differ in one initial",
        "mã liên kết khác một chữ cái đầu",
    ),
    "link_code.different": ("different linkage codes", "mã liên kết khác nhau"),
    "link_code.named": (
        "linkage codes from both names (compared as names)",
        "mã liên kết từ hai họ tên (đã so sánh họ tên)",
    ),
    "missing": (
        "{label} missing on one or both records",
        "thiếu {label} ở một hoặc cả hai hồ sơ",
    ),
}


def _values(params: t.Mapping[str, t.Any], lang: str) -> str:
    if "a" not in params or "b" not in params:
        return ""
    a, b = params["a"], params["b"]
    if isinstance(a, list):
        a, b = " ".join(a), " ".join(b)
    joiner = "vs" if lang == "en" else "và"
    return f" ({a} {joiner} {b})"


def describe(
    code: str, level: str, params: t.Mapping[str, t.Any], label: str, lang: str = "en"
) -> str:
    """Render one reason in ``lang`` ("en" or "vi"; anything else falls back to en)."""
    key = code
    if level == "missing":
        key = "missing"
    elif code == "person_name.folded":
        key = f"{code}.{params.get('via', 'diacritics')}"
    pair = MESSAGES.get(key)
    if pair is None:
        return f"{label}: {level}"
    template = pair[1] if lang == "vi" else pair[0]
    days = params.get("days")
    values = {
        **params,
        "label": label,
        "days_en": f"{days} day" + ("" if days == 1 else "s")
        if days is not None
        else "",
        "km": f"{params.get('metres', 0) / 1000:.1f}",
        "diff_en": f", birth year differs by {params['diff']}"
        if params.get("diff")
        else "",
        "diff_vi": f", năm sinh lệch {params['diff']} năm"
        if params.get("diff")
        else "",
        "values_en": _values(params, "en"),
        "values_vi": _values(params, "vi"),
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return f"{label}: {level}"
