"""``outreach_session``: one community communication session on trafficking.

Feeds plan 1522/KH-UBND target "100% of high-risk localities and localities with
victims run anti-trafficking communication", with priority on women and girls.
"""

from __future__ import annotations

from .common import (
    COMMUNE_HINT,
    DATE_NOT_FUTURE_OR_BEFORE_2025,
    EXCLUSIVE_MSG,
    NEW_COMMUNES_FROM,
    SELECT_COMMUNE,
    Form,
    commune_name,
    count_field,
    end_group,
    exclusive,
    metadata,
    other_text,
    q,
)

FORMATS = [
    ("village_meeting", "Họp thôn, bản", "Village meeting"),
    ("school", "Buổi tại trường học", "School session"),
    ("home_visit", "Thăm hộ gia đình", "Home visit"),
    ("market_stall", "Gian hàng ở chợ, lễ hội", "Market or festival stall"),
    ("loudspeaker", "Phát thanh loa", "Loudspeaker broadcast"),
    ("cross_border_market", "Chợ biên giới, cửa khẩu", "Cross-border market"),
    ("other", "Khác", "Other"),
]
LANGUAGES_USED = [
    ("vietnamese", "Tiếng Việt", "Vietnamese"),
    ("co_tu", "Cơ Tu", "Co Tu (Katu)"),
    ("gie_trieng", "Giẻ Triêng", "Gie Trieng"),
    ("xo_dang", "Xơ Đăng", "Xo Dang (Sedang)"),
    ("bhnoong", "Bh'noong", "Bh'noong"),
    ("ca_dong", "Ca Dong", "Ca Dong"),
    ("co", "Co", "Co (Cor)"),
    ("other", "Khác", "Other"),
]
TOPICS = [
    ("lures", "Thủ đoạn, chiêu trò dụ dỗ", "Trafficking tricks and recruitment lures"),
    ("safe_migration", "Di cư, đi làm ăn an toàn", "Safe migration"),
    (
        "cross_border_marriage",
        "Kết hôn trái phép với người nước ngoài qua biên giới",
        "Illegal cross-border marriage",
    ),
    ("labour_exploitation", "Bóc lột lao động", "Labour exploitation"),
    ("child_trafficking", "Mua bán trẻ em", "Child trafficking"),
    (
        "online_scams",
        "Tuyển dụng, lừa đảo qua mạng",
        "Online recruitment and scams",
    ),
    ("hotlines", "Đường dây nóng 111, 113", "Hotlines 111 and 113"),
    ("legal_rights", "Quyền và chính sách pháp luật", "Legal rights"),
    ("other", "Khác", "Other"),
]
MATERIALS = [
    ("leaflet", "Tờ rơi, tờ gấp", "Leaflets"),
    ("poster", "Áp phích, pa nô", "Posters"),
    ("handbook", "Sổ tay, tài liệu hỏi đáp", "Handbooks, Q&A booklets"),
    ("hotline_card", "Thẻ, lịch in số đường dây nóng", "Hotline cards or calendars"),
    ("audio", "Băng, USB, tệp âm thanh", "Audio recordings (tape, USB, file)"),
    ("items", "Vật phẩm (áo, mũ, túi…)", "Promotional items (shirts, hats, bags…)"),
    ("other", "Khác", "Other"),
    ("none", "Không phát tài liệu", "None handed out"),
]
PARTNERS = [
    ("commune_police", "Công an xã", "Commune police"),
    ("border_guard", "Đồn Biên phòng", "Border guard post"),
    ("womens_union", "Hội Liên hiệp Phụ nữ", "Women's Union"),
    ("youth_union", "Đoàn Thanh niên", "Youth Union"),
    ("school", "Nhà trường", "School"),
    ("health_station", "Trạm y tế", "Health station"),
    (
        "social_affairs",
        "Cán bộ văn hóa – xã hội (lao động, thương binh và xã hội)",
        "Social affairs / labour officer",
    ),
    ("ngo", "Tổ chức phi chính phủ", "NGO"),
    ("other", "Khác", "Other"),
    ("none", "Không có đơn vị phối hợp", "No partner"),
]
NO_SHEET_REASONS = [
    (
        "not_applicable",
        "Hình thức không lập điểm danh (phát thanh loa, gian hàng…)",
        "Format has no attendance sheet (loudspeaker, stall…)",
    ),
    ("no_sheet", "Không lập danh sách", "No list was kept"),
    ("camera_problem", "Điện thoại, máy ảnh gặp sự cố", "Phone or camera problem"),
    ("refused", "Người tham dự không đồng ý chụp", "Participants did not agree"),
    ("other", "Khác", "Other"),
]

SEX_SUM = "${n_women} + ${n_girls} + ${n_men} + ${n_boys}"
NOT_ABOVE_TOTAL = (
    "Từ 0 đến tổng số người tham dự.",
    "From 0 up to the total number of participants.",
)

SURVEY = [
    *metadata(),
    q(
        "begin_group",
        "session",
        ("Buổi truyền thông", "Session"),
        appearance="field-list",
    ),
    q(
        "date",
        "session_date",
        ("Ngày tổ chức", "Date of the session"),
        required=True,
        default="today()",
        constraint=f". <= today() and . >= date('{NEW_COMMUNES_FROM}')",
        constraint_msg=DATE_NOT_FUTURE_OR_BEFORE_2025,
    ),
    q(
        SELECT_COMMUNE,
        "commune",
        ("Xã, phường nơi tổ chức", "Commune where the session took place"),
        COMMUNE_HINT,
        required=True,
        appearance="minimal autocomplete",
    ),
    q(
        "text",
        "village",
        ("Thôn, bản, tổ dân phố", "Village or hamlet (thôn, bản)"),
        ("Ví dụ: thôn Aur.", "For example: thôn Aur."),
        required=True,
        constraint="string-length(.) >= 2 and string-length(.) <= 80",
        constraint_msg=("Từ 2 đến 80 ký tự.", "2 to 80 characters."),
    ),
    q(
        "geopoint",
        "gps",
        ("Vị trí GPS nơi tổ chức", "GPS location of the session"),
        (
            "Đứng ngoài trời. Máy tự lưu khi sai số ≤ 10 m, cảnh báo nếu > 50 m. "
            "Nếu 2–3 phút không bắt được, có thể bỏ qua.",
            "Stand outdoors. The point is saved automatically at 10 m accuracy or "
            "better, with a warning above 50 m. If there is no fix after 2–3 "
            "minutes you may skip it.",
        ),
        parameters="capture-accuracy=10 warning-accuracy=50",
    ),
    end_group(),
    q(
        "begin_group",
        "activity",
        ("Hình thức và nội dung", "Format and content"),
        appearance="field-list",
    ),
    q("select_one format", "format", ("Hình thức", "Format"), required=True),
    other_text("format", "format_other", multiple=False),
    q(
        "select_multiple language",
        "languages",
        ("Ngôn ngữ sử dụng", "Language(s) used"),
        (
            "Chọn tất cả, kể cả ngôn ngữ dùng qua người phiên dịch.",
            "Tick all, including languages used through an interpreter.",
        ),
        required=True,
    ),
    other_text("languages", "languages_other"),
    q(
        "select_multiple topic",
        "topics",
        ("Nội dung truyền thông", "Topics covered"),
        required=True,
    ),
    other_text("topics", "topics_other"),
    end_group(),
    q(
        "begin_group",
        "participants",
        ("Người tham dự", "Participants"),
        appearance="field-list",
    ),
    q(
        "note",
        "count_rule",
        (
            "Đếm mỗi người một lần. Phát thanh loa, gian hàng: ghi số ước tính.",
            "Count each person once. Loudspeaker or stall: enter an estimate.",
        ),
    ),
    q(
        "integer",
        "n_total",
        ("Tổng số người tham dự", "Total participants"),
        required=True,
        constraint=". >= 1 and . <= 5000",
        constraint_msg=("Nhập số từ 1 đến 5.000.", "Enter a number from 1 to 5,000."),
    ),
    *(
        count_field(name, label, at_most="${n_total}", at_most_msg=NOT_ABOVE_TOTAL)
        for name, label in (
            ("n_women", ("Phụ nữ (từ 18 tuổi)", "Women (18 and over)")),
            ("n_girls", ("Trẻ em gái (dưới 18 tuổi)", "Girls (under 18)")),
            ("n_men", ("Nam giới (từ 18 tuổi)", "Men (18 and over)")),
        )
    ),
    q(
        "integer",
        "n_boys",
        ("Trẻ em trai (dưới 18 tuổi)", "Boys (under 18)"),
        required=True,
        constraint=f". >= 0 and {SEX_SUM} <= ${{n_total}}",
        constraint_msg=(
            "Phụ nữ + trẻ em gái + nam giới + trẻ em trai không được lớn hơn "
            "tổng số người tham dự.",
            "Women + girls + men + boys cannot be more than the total.",
        ),
    ),
    count_field(
        "n_ethnic_minority",
        ("Trong đó: người dân tộc thiểu số", "Of whom: ethnic-minority people"),
        at_most="${n_total}",
        at_most_msg=NOT_ABOVE_TOTAL,
    ),
    q(
        "note",
        "unsorted_note",
        (
            "Còn ${n_unsorted} người chưa chia theo giới và tuổi. "
            "Kiểm tra lại nếu đã đếm đủ.",
            "${n_unsorted} people are not split by sex and age. "
            "Check again if you counted everyone.",
        ),
        relevant="${n_unsorted} > 0",
    ),
    end_group(),
    q("calculate", "n_by_sex", calculation=SEX_SUM),
    q("calculate", "n_unsorted", calculation=f"${{n_total}} - ({SEX_SUM})"),
    q("calculate", "n_women_girls", calculation="${n_women} + ${n_girls}"),
    q(
        "begin_group",
        "materials_partners",
        ("Tài liệu và đơn vị phối hợp", "Materials and partners"),
        appearance="field-list",
    ),
    q(
        "select_multiple material",
        "materials",
        ("Tài liệu, vật phẩm đã phát", "Materials handed out"),
        required=True,
        constraint=exclusive(),
        constraint_msg=EXCLUSIVE_MSG,
    ),
    other_text("materials", "materials_other"),
    q(
        "integer",
        "materials_count",
        ("Tổng số tài liệu, vật phẩm đã phát", "Total number of items handed out"),
        required=True,
        relevant=(
            "count-selected(${materials}) > 0 and not(selected(${materials}, 'none'))"
        ),
        constraint=". >= 1 and . <= 20000",
        constraint_msg=(
            "Nhập số từ 1 đến 20.000.",
            "Enter a number from 1 to 20,000.",
        ),
    ),
    q(
        "select_multiple partner",
        "partners",
        ("Đơn vị phối hợp", "Partner agencies"),
        required=True,
        constraint=exclusive(),
        constraint_msg=EXCLUSIVE_MSG,
    ),
    other_text("partners", "partners_other"),
    end_group(),
    q(
        "begin_group",
        "photos",
        ("Ảnh", "Photos"),
        appearance="field-list",
    ),
    q(
        "note",
        "photo_rule",
        (
            "Không chụp rõ mặt trẻ em hoặc người có thể là nạn nhân.",
            "Do not take recognisable photos of children or of anyone who may "
            "be a victim.",
        ),
    ),
    q(
        "image",
        "photo_attendance",
        ("Ảnh danh sách điểm danh", "Photo of the attendance sheet"),
        (
            "Đặt tờ giấy phẳng, đủ sáng, chụp rõ chữ.",
            "Lay the sheet flat in good light so the writing is readable.",
        ),
        parameters="max-pixels=1024",
    ),
    q(
        "select_one no_sheet_reason",
        "no_attendance_reason",
        ("Vì sao không có ảnh điểm danh?", "Why is there no attendance photo?"),
        required=True,
        relevant="${photo_attendance} = ''",
    ),
    other_text("no_attendance_reason", "no_attendance_other", multiple=False),
    q(
        "image",
        "photo_1",
        ("Ảnh buổi truyền thông (1)", "Session photo (1)"),
        parameters="max-pixels=1024",
    ),
    q(
        "image",
        "photo_2",
        ("Ảnh buổi truyền thông (2)", "Session photo (2)"),
        parameters="max-pixels=1024",
        relevant="${photo_1} != ''",
    ),
    end_group(),
    q(
        "text",
        "notes",
        ("Ghi chú", "Notes"),
        (
            "Câu hỏi của người dân, dấu hiệu nghi vấn cần báo cáo. "
            "Không ghi họ tên nạn nhân hay người bị nghi vấn.",
            "Questions people asked, warning signs to report. "
            "Do not write names of victims or suspects.",
        ),
        appearance="multiline",
        constraint="string-length(.) <= 1000",
        constraint_msg=("Tối đa 1.000 ký tự.", "At most 1,000 characters."),
    ),
    q("calculate", "commune_name", calculation=commune_name()),
]

FORM = Form(
    form_id="outreach_session",
    title="Truyền thông phòng, chống mua bán người tại cộng đồng",
    instance_name=(
        "concat(${session_date}, ' · ', ${commune_name}, ' · ', ${village}, "
        "' · ', ${n_total}, ' người')"
    ),
    survey=SURVEY,
    choices={
        "format": FORMATS,
        "language": LANGUAGES_USED,
        "topic": TOPICS,
        "material": MATERIALS,
        "partner": PARTNERS,
        "no_sheet_reason": NO_SHEET_REASONS,
    },
)
