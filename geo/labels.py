"""User-facing texts of maps and tables in Vietnamese (default) and English."""

from __future__ import annotations

__all__ = ["LANGS", "text"]

LANGS = ("vi", "en")

_TEXT: dict[str, tuple[str, str]] = {
    "title": (
        "Độ bao phủ truyền thông phòng, chống mua bán người",
        "Anti-trafficking outreach coverage",
    ),
    "period": ("Kỳ", "Period"),
    "data_time": ("Dữ liệu đến", "Data as of"),
    "boundaries": ("Ranh giới", "Boundaries"),
    "valid_from": ("hiệu lực từ", "valid from"),
    "approximate": (
        "VÙNG GẦN ĐÚNG – không phải ranh giới đo đạc",
        "APPROXIMATE AREAS – not surveyed boundaries",
    ),
    "legend_sessions": ("Số buổi truyền thông trong kỳ", "Outreach sessions in period"),
    "legend_participants": ("Số người tham dự trong kỳ", "Participants in period"),
    "legend_women_girls": (
        "Phụ nữ và trẻ em gái được tiếp cận",
        "Women and girls reached",
    ),
    "legend_ethnic_minority": (
        "Người dân tộc thiểu số tham dự",
        "Ethnic-minority participants",
    ),
    "high_risk_list": (
        "Xã nguy cơ cao: lý do · số buổi",
        "High-risk communes: reasons · sessions",
    ),
    "more": ("và {n} xã khác", "and {n} more"),
    "source": ("Nguồn ranh giới", "Boundary source"),
    "no_data": ("không có", "none"),
    "high_risk": ("Xã nguy cơ cao (viền đỏ)", "High-risk commune (red outline)"),
    "high_risk_uncovered": (
        "Nguy cơ cao, chưa có buổi nào (gạch chéo)",
        "High-risk, no session yet (hatched)",
    ),
    "border_line": ("Biên giới Việt Nam – Lào", "Viet Nam – Lao PDR border"),
    "sessions_short": ("buổi", "sess."),
    "victims_short": ("nạn nhân", "victims"),
    "inset": (
        "Đặc khu Hoàng Sa (khung phụ, tỷ lệ khác)",
        "Hoàng Sa (inset, other scale)",
    ),
    "reason_border": ("giáp biên giới", "border"),
    "reason_victim_cases": ("có nạn nhân", "victim cases"),
    "reason_marked": ("giám sát viên đánh dấu", "marked by supervisor"),
    "ind_sessions_high_risk": (
        "% xã nguy cơ cao có ít nhất một buổi truyền thông",
        "% of high-risk communes with at least one session",
    ),
    "ind_victims_needs_served": (
        "% nạn nhân được đáp ứng đủ các nhu cầu đã đánh giá",
        "% of identified victims whose assessed needs were all served",
    ),
    "ind_staff_trained": (
        "% cán bộ hỗ trợ được tập huấn",
        "% of support staff trained",
    ),
    "indicators": ("Chỉ tiêu kế hoạch", "Plan indicators"),
    "not_available": ("chưa có", "n/a"),
    "suppressed": ("<5 (ẩn)", "<5 (hidden)"),
}


def text(key: str, lang: str = "vi") -> str:
    """The text for ``key`` in ``lang``.

    Parameters
    ----------
    key : str
        E.g. ``"title"``, ``"reason_border"``, ``"ind_staff_trained"``.
    lang : {"vi", "en"}

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For a language other than ``vi`` or ``en``.
    KeyError
        For an unknown key.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    return _TEXT[key][LANGS.index(lang)]
