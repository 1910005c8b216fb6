"""``case_followup``: a follow-up visit to a case, picked offline from the ``cases`` list.

The outreach worker picks the case from the entity list ``cases`` (made by
``victim_case``; the server sends each phone only the cases of its communes) and
records the visit: reintegration status, services delivered since the last visit,
new needs, risk of re-trafficking and the next visit date. The form updates the case
entity's ``risk``, ``next_visit``, ``services_outstanding``, ``status`` and
``last_contact``, so the next visit, on any phone of the commune, starts from them.

No personal data: the case is identified by its entity (code and commune); nothing
here names or describes the person beyond coded answers.
"""

from __future__ import annotations

from .common import (
    DATE_NOT_FUTURE_OR_BEFORE_2025,
    EXCLUSIVE_MSG,
    NEW_COMMUNES_FROM,
    YES_NO,
    Form,
    commune_name,
    end_group,
    exclusive,
    metadata,
    other_text,
    q,
)
from .victim_case import ENTITY_LIST, NEEDS, RISK, outstanding

CASES_CSV = f"{ENTITY_LIST}.csv"
MET = "${met} = 'yes'"
ACTIVE_CASES = "status = 'active' or status = 'lost_contact'"


def case_value(prop: str) -> str:
    """XPath for a property of the chosen case in the entity list."""
    return f"instance('{ENTITY_LIST}')/root/item[name = ${{case}}]/{prop}"


CONTACT_MODES = [
    ("home_visit", "Đến nhà", "Home visit"),
    ("phone", "Gọi điện thoại", "Phone call"),
    ("office", "Tại trụ sở xã, cơ sở", "At the commune office or a centre"),
    ("other", "Khác", "Other"),
]
HOUSING = [
    ("stable", "Ổn định (nhà mình, nhà người thân)", "Stable (own or family home)"),
    ("temporary", "Tạm thời (nhà trọ, cơ sở bảo trợ)", "Temporary (rented, shelter)"),
    ("none", "Không có chỗ ở", "No housing"),
]
INCOME = [
    ("stable", "Có thu nhập ổn định", "Stable income"),
    ("irregular", "Thu nhập không thường xuyên", "Irregular income"),
    ("none", "Không có thu nhập", "No income"),
]
SCHOOL_WORK = [
    ("school", "Đang đi học", "In school"),
    ("vocational", "Đang học nghề", "In vocational training"),
    ("employed", "Đang đi làm", "Working"),
    ("seeking", "Đang tìm việc", "Looking for work"),
    ("none", "Không học, không làm", "Neither"),
]
FAMILY = [
    ("accepted", "Gia đình chấp nhận, hỗ trợ", "Accepted and supported"),
    ("partly", "Chấp nhận một phần, còn mâu thuẫn", "Partly accepted, some conflict"),
    ("rejected", "Gia đình không chấp nhận", "Rejected by family"),
    ("no_family", "Không có gia đình", "No family"),
]
COMMUNITY = [
    ("accepted", "Cộng đồng chấp nhận", "Accepted"),
    ("stigma", "Còn bị kỳ thị, bàn tán", "Some stigma or gossip"),
    ("rejected", "Bị xa lánh", "Shunned"),
]
HEALTH = [
    ("good", "Sức khỏe ổn định", "Good"),
    ("needs_care", "Cần khám, chăm sóc", "Needs care"),
    ("in_treatment", "Đang điều trị", "In treatment"),
]
SERVICES = [
    *((name, vi, en) for name, vi, en in NEEDS if name != "none"),
    ("none", "Chưa cung cấp dịch vụ nào", "None since the last visit"),
]
STATUS = [
    ("active", "Tiếp tục theo dõi", "Keep following up"),
    ("closed", "Kết thúc: đã tái hòa nhập", "Close: reintegrated"),
    ("transferred", "Chuyển nơi khác theo dõi", "Transferred elsewhere"),
    ("lost_contact", "Mất liên lạc", "Lost contact"),
]


def _select(list_name: str, name: str, label: tuple[str, str]) -> dict[str, str]:
    return q(f"select_one {list_name}", name, label, required=True)


SURVEY = [
    *metadata(),
    # The commune list as form media (for commune_name), without a question.
    q("csv-external", "communes"),
    q("begin_group", "visit", ("Lần thăm", "Visit"), appearance="field-list"),
    q(
        f"select_one_from_file {CASES_CSV}",
        "case",
        ("Hồ sơ", "Case"),
        (
            "Gõ mã hồ sơ hoặc tên xã. Danh sách chỉ có hồ sơ của xã mình.",
            "Type the case code or the commune. Only your communes' cases are listed.",
        ),
        required=True,
        appearance="minimal autocomplete",
        choice_filter=ACTIVE_CASES,
    ),
    q(
        "note",
        "case_summary",
        (
            "Nguy cơ: ${prev_risk} · hẹn thăm: ${prev_next_visit} · "
            "nhu cầu chưa đáp ứng: ${prev_outstanding}",
            "Risk: ${prev_risk} · visit due: ${prev_next_visit} · "
            "needs outstanding: ${prev_outstanding}",
        ),
        relevant="${case} != ''",
    ),
    q(
        "date",
        "visit_date",
        ("Ngày thăm", "Date of the visit"),
        required=True,
        default="today()",
        constraint=f". <= today() and . >= date('{NEW_COMMUNES_FROM}')",
        constraint_msg=DATE_NOT_FUTURE_OR_BEFORE_2025,
    ),
    _select("contact_mode", "contact_mode", ("Hình thức", "How")),
    other_text("contact_mode", "contact_mode_other", multiple=False),
    _select(
        "yes_no",
        "met",
        ("Gặp được người được hỗ trợ không?", "Did you reach the person?"),
    ),
    end_group(),
    q(
        "begin_group",
        "reintegration",
        ("Tái hòa nhập", "Reintegration"),
        relevant=MET,
        appearance="field-list",
    ),
    _select("housing", "housing", ("Chỗ ở", "Housing")),
    _select("income", "income", ("Thu nhập", "Income")),
    _select("school_work", "school_work", ("Học tập, việc làm", "Schooling or work")),
    _select("family", "family", ("Gia đình", "Family acceptance")),
    _select("community", "community", ("Cộng đồng", "Community acceptance")),
    _select("health", "health", ("Sức khỏe", "Health")),
    end_group(),
    q(
        "begin_group",
        "support",
        ("Hỗ trợ và nguy cơ", "Support and risk"),
        relevant=MET,
        appearance="field-list",
    ),
    q(
        "select_multiple service",
        "services_since",
        (
            "Dịch vụ đã cung cấp từ lần thăm trước",
            "Services delivered since last visit",
        ),
        required=True,
        constraint=exclusive(),
        constraint_msg=EXCLUSIVE_MSG,
    ),
    q(
        "select_multiple need",
        "new_needs",
        ("Nhu cầu mới", "New needs"),
        ("Chọn “Không” nếu không có.", "Tick “None” if there are none."),
        required=True,
        constraint=exclusive(),
        constraint_msg=EXCLUSIVE_MSG,
    ),
    q(
        "select_one risk",
        "risk",
        ("Nguy cơ bị mua bán lại", "Risk of re-trafficking"),
        required=True,
        save_to="risk",
    ),
    end_group(),
    q("begin_group", "plan", ("Kế hoạch", "Plan"), appearance="field-list"),
    q(
        "select_one status",
        "case_status",
        ("Hồ sơ", "Case"),
        required=True,
        default="active",
        save_to="status",
    ),
    q(
        "date",
        "next_visit",
        ("Ngày dự kiến thăm lại", "Next visit"),
        required=True,
        relevant="${case_status} = 'active' or ${case_status} = 'lost_contact'",
        constraint=". >= ${visit_date}",
        constraint_msg=(
            "Ngày thăm lại không được trước ngày thăm này.",
            "The next visit cannot be before this one.",
        ),
        save_to="next_visit",
    ),
    end_group(),
    q("calculate", "prev_code", calculation=case_value("case_code")),
    q("calculate", "prev_risk", calculation=case_value("risk")),
    q("calculate", "prev_next_visit", calculation=case_value("next_visit")),
    q("calculate", "prev_outstanding", calculation=case_value("services_outstanding")),
    q("calculate", "commune", calculation=case_value("commune")),
    q("calculate", "commune_name", calculation=commune_name()),
    q(
        "calculate",
        "services_outstanding",
        calculation=outstanding(
            "${new_needs}", "${services_since}", previous="${prev_outstanding}"
        ),
        relevant=MET,
        save_to="services_outstanding",
    ),
    q(
        "calculate",
        "last_contact",
        calculation="format-date(${visit_date}, '%Y-%m-%d')",
        relevant=MET,
        save_to="last_contact",
    ),
]

FORM = Form(
    form_id="case_followup",
    title="Thăm lại, theo dõi tái hòa nhập",
    instance_name=(
        "concat(${prev_code}, ' · ', ${visit_date}, ' · ', ${commune_name}, ' · ', "
        "if(${met} = 'yes', 'đã gặp', 'không gặp'))"
    ),
    survey=SURVEY,
    media=("communes.csv", CASES_CSV),
    entities={"list_name": ENTITY_LIST, "entity_id": "${case}"},
    choices={
        "yes_no": YES_NO,
        "contact_mode": CONTACT_MODES,
        "housing": HOUSING,
        "income": INCOME,
        "school_work": SCHOOL_WORK,
        "family": FAMILY,
        "community": COMMUNITY,
        "health": HEALTH,
        "service": SERVICES,
        "need": NEEDS,
        "risk": RISK,
        "status": STATUS,
    },
)
