"""``staff_training``: a training event for staff who identify and support victims.

Feeds plan 1522/KH-UBND target "100% of staff working on victim support are
trained". Counts by agency and sex are the indicator; the ``trainee`` repeat is
the roster behind them.
"""

from __future__ import annotations

from .common import (
    COMMUNE_HINT,
    DATE_NOT_FUTURE_OR_BEFORE_2025,
    NEW_COMMUNES_FROM,
    SELECT_COMMUNE,
    Form,
    commune_name,
    end_group,
    metadata,
    other_text,
    q,
)

ORGANISERS = [
    (
        "social_protection",
        "Cơ quan bảo trợ xã hội cấp thành phố",
        "City social protection agency",
    ),
    ("police", "Công an", "Police"),
    ("border_guard", "Bộ đội Biên phòng", "Border guard"),
    ("womens_union", "Hội Liên hiệp Phụ nữ", "Women's Union"),
    ("commune_pc", "UBND xã, phường", "Commune People's Committee"),
    ("ngo", "Tổ chức phi chính phủ, quốc tế", "NGO or international organisation"),
    ("other", "Khác", "Other"),
]
TOPICS = [
    ("identification", "Nhận diện nạn nhân", "Victim identification"),
    (
        "victim_centred",
        "Hỗ trợ lấy nạn nhân làm trung tâm",
        "Victim-centred support",
    ),
    ("referral", "Chuyển gửi, phối hợp liên ngành", "Referral"),
    ("law", "Pháp luật phòng, chống mua bán người", "Anti-trafficking law"),
    ("other", "Khác", "Other"),
]
# (name, Vietnamese, English); each one gets a women/men count pair.
AGENCIES = [
    ("police", "Công an", "Police"),
    ("border_guard", "Biên phòng", "Border guard"),
    (
        "social_protection",
        "Bảo trợ xã hội, văn hóa – xã hội",
        "Social protection / social affairs",
    ),
    ("justice", "Tư pháp, trợ giúp pháp lý", "Justice, legal aid"),
    ("health", "Y tế", "Health"),
    ("education", "Giáo dục", "Education"),
    ("womens_union", "Hội Liên hiệp Phụ nữ", "Women's Union"),
    ("youth_union", "Đoàn Thanh niên", "Youth Union"),
    ("commune_officials", "Cán bộ xã, thôn, bản", "Commune and village officials"),
    ("ngo", "Tổ chức phi chính phủ", "NGO"),
    ("other", "Khác", "Other"),
]
SEX = [
    ("female", "Nữ", "Female"),
    ("male", "Nam", "Male"),
]


def _agency_counts() -> list[dict[str, str]]:
    rows = []
    for name, vi, en in AGENCIES:
        picked = f"selected(${{agencies}}, '{name}')"
        rows.append(
            q(
                "integer",
                f"women_{name}",
                (f"{vi}: nữ", f"{en}: women"),
                required=True,
                relevant=picked,
                constraint=". >= 0 and . <= 1000",
                constraint_msg=(
                    "Nhập số từ 0 đến 1.000.",
                    "Enter a number from 0 to 1,000.",
                ),
            )
        )
        rows.append(
            q(
                "integer",
                f"men_{name}",
                (f"{vi}: nam", f"{en}: men"),
                required=True,
                relevant=picked,
                constraint=f". >= 0 and . <= 1000 and . + ${{women_{name}}} >= 1",
                constraint_msg=(
                    "Mỗi cơ quan đã chọn phải có ít nhất 1 học viên (tối đa 1.000).",
                    "Each agency ticked needs at least 1 trainee (at most 1,000).",
                ),
            )
        )
    return rows


def _sum(prefix: str) -> str:
    return " + ".join(f"coalesce(${{{prefix}_{name}}}, 0)" for name, _, _ in AGENCIES)


SURVEY = [
    *metadata(),
    q(
        "begin_group",
        "event",
        ("Lớp tập huấn", "Training event"),
        appearance="field-list",
    ),
    q(
        "date",
        "training_date",
        ("Ngày bắt đầu", "Start date"),
        required=True,
        default="today()",
        constraint=f". <= today() and . >= date('{NEW_COMMUNES_FROM}')",
        constraint_msg=DATE_NOT_FUTURE_OR_BEFORE_2025,
    ),
    q(
        "integer",
        "duration_days",
        ("Số ngày", "Number of days"),
        required=True,
        default="1",
        constraint=". >= 1 and . <= 30",
        constraint_msg=("Từ 1 đến 30 ngày.", "1 to 30 days."),
    ),
    q(
        SELECT_COMMUNE,
        "commune",
        ("Xã, phường nơi tổ chức", "Commune where it took place"),
        COMMUNE_HINT,
        required=True,
        appearance="minimal autocomplete",
    ),
    q(
        "text",
        "venue",
        ("Địa điểm", "Venue"),
        ("Ví dụ: hội trường UBND xã.", "E.g. commune hall."),
        required=True,
        constraint="string-length(.) >= 2 and string-length(.) <= 100",
        constraint_msg=("Từ 2 đến 100 ký tự.", "2 to 100 characters."),
    ),
    q(
        "select_one organiser",
        "organiser",
        ("Đơn vị tổ chức chính", "Main organiser"),
        required=True,
    ),
    other_text("organiser", "organiser_other", multiple=False),
    q(
        "select_multiple topic",
        "topics",
        ("Nội dung tập huấn", "Topics"),
        required=True,
    ),
    other_text("topics", "topics_other"),
    end_group(),
    q(
        "begin_group",
        "agencies_block",
        ("Cơ quan của học viên", "Trainees' agencies"),
        appearance="field-list",
    ),
    q(
        "select_multiple agency",
        "agencies",
        (
            "Học viên đến từ những cơ quan nào?",
            "Which agencies did trainees come from?",
        ),
        required=True,
    ),
    other_text("agencies", "agencies_other"),
    end_group(),
    q(
        "begin_group",
        "counts",
        ("Số học viên theo cơ quan và giới tính", "Trainees by agency and sex"),
        appearance="field-list",
    ),
    *_agency_counts(),
    q(
        "note",
        "counts_total",
        (
            "Tổng: ${n_trainees} học viên (nữ ${n_women}, nam ${n_men}).",
            "Total: ${n_trainees} trainees (${n_women} women, ${n_men} men).",
        ),
    ),
    end_group(),
    q("calculate", "n_women", calculation=_sum("women")),
    q("calculate", "n_men", calculation=_sum("men")),
    q("calculate", "n_trainees", calculation="${n_women} + ${n_men}"),
    q(
        "begin_repeat",
        "trainee",
        ("Danh sách học viên", "Trainee roster"),
        appearance="field-list",
    ),
    q(
        "text",
        "trainee_name",
        ("Họ và tên học viên", "Trainee's full name"),
        required=True,
        constraint="string-length(.) >= 2 and string-length(.) <= 100",
        constraint_msg=("Từ 2 đến 100 ký tự.", "2 to 100 characters."),
    ),
    q("select_one sex", "trainee_sex", ("Giới tính", "Sex"), required=True),
    q(
        "select_one agency",
        "trainee_agency",
        ("Cơ quan", "Agency"),
        required=True,
        choice_filter="selected(${agencies}, name)",
    ),
    q(
        "text",
        "trainee_role",
        ("Chức vụ, vai trò", "Position or role"),
        ("Ví dụ: Phó Trưởng Công an xã.", "E.g. deputy head of commune police."),
        required=True,
        constraint="string-length(.) <= 100",
        constraint_msg=("Tối đa 100 ký tự.", "At most 100 characters."),
    ),
    q(
        SELECT_COMMUNE,
        "trainee_commune",
        ("Xã, phường nơi công tác", "Commune where they work"),
        (
            "Để trống nếu công tác ở cấp thành phố. " + COMMUNE_HINT[0],
            "Leave blank if they work at city level. " + COMMUNE_HINT[1],
        ),
        appearance="minimal autocomplete",
    ),
    q("end_repeat"),
    q("calculate", "n_roster", calculation="count(${trainee})"),
    q(
        "note",
        "roster_mismatch",
        (
            "Danh sách có ${n_roster} người, tổng số đã đếm là ${n_trainees}. "
            "Kiểm tra lại nếu đã ghi đủ danh sách.",
            "The roster has ${n_roster} people but the counts total "
            "${n_trainees}. Check again if the roster should be complete.",
        ),
        relevant="${n_roster} != ${n_trainees}",
    ),
    q(
        "text",
        "notes",
        ("Ghi chú", "Notes"),
        appearance="multiline",
        constraint="string-length(.) <= 1000",
        constraint_msg=("Tối đa 1.000 ký tự.", "At most 1,000 characters."),
    ),
    q("calculate", "commune_name", calculation=commune_name()),
]

FORM = Form(
    form_id="staff_training",
    title="Tập huấn cán bộ hỗ trợ nạn nhân bị mua bán",
    instance_name=(
        "concat(${training_date}, ' · ', ${commune_name}, ' · ', ${n_trainees}, "
        "' học viên')"
    ),
    survey=SURVEY,
    choices={
        "organiser": ORGANISERS,
        "topic": TOPICS,
        "agency": AGENCIES,
        "sex": SEX,
    },
)
