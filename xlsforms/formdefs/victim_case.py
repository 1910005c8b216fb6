"""``victim_case``: intake of an identified trafficking victim into support.

Feeds plan 1522/KH-UBND target "100% of identified victims access support services
according to their needs".

Privacy contract: consent is asked first. Everything that is recorded only with
consent (name, birth year, ethnicity, ID document, phones, village, free-text notes)
lives in the single group ``pii`` (XForm path ``/data/pii/...``), which is relevant
only when ``${consent} = 'yes'``. Without consent the worker may ask only for a
pseudonymous linkage code (initials and birth year, "HL2004") in the group ``link``
(``/data/link/...``, relevant only when ``${consent} = 'no'``), which servers restrict
exactly like ``pii``. Everything outside ``pii`` and ``link`` is anonymous and is
recorded for every case, so servers can hide or encrypt ``/data/pii`` in exports and
maps without losing the statistics (``age_band`` and ``ethnic_minority`` are
derived outside the group).

Each intake creates a ``cases`` entity for offline follow-up (``case_followup``). The
entity list is sent to outreach workers' phones, so it carries only the properties in
``CASE_PROPERTIES`` (no identifier from ``pii``), and its label shows the person's
given name only with a second, separate consent (``consent_name_on_phone``).
"""

from __future__ import annotations

from .common import (
    COMMUNE_HINT,
    EXCLUSIVE_MSG,
    SELECT_COMMUNE,
    YES_NO,
    YES_NO_UNKNOWN,
    Form,
    commune_name,
    end_group,
    exclusive,
    metadata,
    other_text,
    q,
    subset_of,
)

PII_GROUP = "pii"
LINK_GROUP = "link"
CONSENT = "${consent} = 'yes'"
NO_CONSENT = "${consent} = 'no'"
NAME_ON_PHONE = f"{CONSENT} and ${{consent_name_on_phone}} = 'yes'"
ENTITY_LIST = "cases"
# Entity properties: what every phone serving the commune carries (xlsforms/README.md).
CASE_PROPERTIES = (
    "case_code",
    "commune",
    "sex",
    "age_band",
    "risk",
    "next_visit",
    "services_outstanding",
    "status",
    "last_contact",
)
CASE_CODE_REGEX = "^[A-Z]{2,4}-[0-9]{4}-[0-9]{3,5}$"
# Pseudonymous linkage code (UIC): family initial, given-name initial, birth year.
LINK_CODE_REGEX = "^[A-Za-z]{2}[0-9]{4}$"
LINK_STATUS = [
    ("given", "Có, người được hỗ trợ cho mã", "Yes, the person gave the code"),
    ("declined", "Không muốn cho", "Does not want to give it"),
    (
        "unknown",
        "Không biết (không nhớ năm sinh, tên…)",
        "Does not know (birth year, name…)",
    ),
]

CONSENT_BY = [
    ("self", "Chính người được hỗ trợ", "The person themself"),
    (
        "parent_guardian",
        "Cha mẹ hoặc người giám hộ (trẻ em dưới 16 tuổi)",
        "Parent or guardian (child under 16)",
    ),
]
AGENCIES = [
    ("border_guard", "Bộ đội Biên phòng", "Border guard"),
    ("police", "Công an", "Police"),
    (
        "social_protection",
        "Cơ quan bảo trợ xã hội (trước đây ngành LĐ-TB&XH)",
        "Social protection agency (formerly labour and social affairs)",
    ),
    ("commune_pc", "UBND xã, phường", "Commune People's Committee"),
    ("womens_union", "Hội Liên hiệp Phụ nữ", "Women's Union"),
    (
        "overseas_mission",
        "Cơ quan đại diện Việt Nam ở nước ngoài",
        "Vietnamese mission abroad",
    ),
    (
        "foreign_authority",
        "Cơ quan chức năng nước ngoài (trao trả)",
        "Foreign authorities (handover)",
    ),
    ("ngo", "Tổ chức phi chính phủ", "NGO"),
    ("other", "Khác", "Other"),
]
PROVINCES_2025 = [  # 34 provinces from 12 June 2025 (Resolution 202/2025/QH15)
    ("01", "Hà Nội"),
    ("04", "Cao Bằng"),
    ("08", "Tuyên Quang"),
    ("11", "Điện Biên"),
    ("12", "Lai Châu"),
    ("14", "Sơn La"),
    ("15", "Lào Cai"),
    ("19", "Thái Nguyên"),
    ("20", "Lạng Sơn"),
    ("22", "Quảng Ninh"),
    ("24", "Bắc Ninh"),
    ("25", "Phú Thọ"),
    ("31", "Hải Phòng"),
    ("33", "Hưng Yên"),
    ("37", "Ninh Bình"),
    ("38", "Thanh Hóa"),
    ("40", "Nghệ An"),
    ("42", "Hà Tĩnh"),
    ("44", "Quảng Trị"),
    ("46", "Huế"),
    ("48", "Đà Nẵng"),
    ("51", "Quảng Ngãi"),
    ("52", "Gia Lai"),
    ("56", "Khánh Hòa"),
    ("66", "Đắk Lắk"),
    ("68", "Lâm Đồng"),
    ("75", "Đồng Nai"),
    ("79", "Hồ Chí Minh"),
    ("80", "Tây Ninh"),
    ("82", "Đồng Tháp"),
    ("86", "Vĩnh Long"),
    ("91", "An Giang"),
    ("92", "Cần Thơ"),
    ("96", "Cà Mau"),
]
PROVINCES = [
    *((code, name, name) for code, name in PROVINCES_2025),
    ("abroad", "Ở nước ngoài", "Abroad"),
    ("unknown", "Không rõ", "Unknown"),
]
SEX = [
    ("female", "Nữ", "Female"),
    ("male", "Nam", "Male"),
    ("other", "Khác / không xác định", "Other / not stated"),
]
AGE_BANDS = [
    ("u16", "Dưới 16 tuổi (trẻ em)", "Under 16 (child)"),
    ("16_17", "16–17 tuổi", "16–17"),
    ("18_29", "18–29 tuổi", "18–29"),
    ("30_plus", "30 tuổi trở lên", "30 and over"),
    ("unknown", "Không rõ", "Unknown"),
]
ETHNICITIES = [
    ("kinh", "Kinh", "Kinh"),
    ("co_tu", "Cơ Tu", "Co Tu (Katu)"),
    ("gie_trieng", "Giẻ Triêng (kể cả Bh'noong)", "Gie Trieng (incl. Bh'noong)"),
    ("xo_dang", "Xơ Đăng (kể cả Ca Dong)", "Xo Dang (incl. Ca Dong)"),
    ("co", "Co", "Co (Cor)"),
    ("other", "Dân tộc khác", "Other ethnic group"),
]
ID_TYPES = [
    ("cccd", "Thẻ căn cước / CCCD (12 số)", "Citizen ID card (12 digits)"),
    ("cmnd", "CMND cũ (9 số)", "Old ID card (9 digits)"),
    ("passport", "Hộ chiếu", "Passport"),
    ("none", "Không có giấy tờ", "No ID document"),
]
DESTINATIONS = [
    ("china", "Trung Quốc", "China"),
    ("laos", "Lào", "Laos"),
    ("cambodia", "Campuchia", "Cambodia"),
    ("thailand", "Thái Lan", "Thailand"),
    ("malaysia", "Malaysia", "Malaysia"),
    ("myanmar", "Myanmar", "Myanmar"),
    ("vietnam", "Trong nước (Việt Nam)", "Within Vietnam"),
    ("other", "Nơi khác", "Other"),
]
EXPLOITATION = [
    ("sexual", "Bóc lột tình dục", "Sexual exploitation"),
    ("forced_labour", "Cưỡng bức lao động", "Forced labour"),
    ("forced_marriage", "Cưỡng ép kết hôn", "Forced marriage"),
    ("child_sale", "Bán trẻ em, trẻ sơ sinh", "Child or baby sale"),
    ("organ_removal", "Lấy bộ phận cơ thể", "Organ removal"),
    (
        "forced_criminality",
        "Cưỡng bức phạm tội, lừa đảo trực tuyến (trại “scam”)",
        "Forced criminality, online scam compounds",
    ),
    ("other", "Khác", "Other"),
]
NEEDS = [
    ("essentials", "Nhu cầu thiết yếu (ăn, mặc, vệ sinh)", "Essential needs"),
    ("accommodation", "Chỗ ở tạm thời", "Accommodation"),
    ("medical", "Y tế", "Medical care"),
    ("psychological", "Tâm lý", "Psychological support"),
    ("legal_aid", "Trợ giúp pháp lý", "Legal aid"),
    ("education", "Học văn hóa, học nghề", "Education, vocational training"),
    ("livelihood", "Hỗ trợ sinh kế, vay vốn", "Livelihood support, loans"),
    ("travel_home", "Chi phí đi lại về nơi cư trú", "Travel home"),
    ("none", "Không có nhu cầu, từ chối hỗ trợ", "No needs, or declined support"),
]
SERVICE_NAMES = [name for name, _, _ in NEEDS if name != "none"]
REFERRALS = [
    (
        "social_protection_centre",
        "Cơ sở trợ giúp xã hội, trung tâm công tác xã hội",
        "Social protection or social work centre",
    ),
    ("health", "Cơ sở y tế", "Health facility"),
    ("legal_aid", "Trung tâm trợ giúp pháp lý", "Legal aid centre"),
    ("police", "Công an", "Police"),
    ("womens_union", "Hội Liên hiệp Phụ nữ", "Women's Union"),
    ("vocational", "Cơ sở giáo dục nghề nghiệp, trường học", "School or vocational"),
    ("employment", "Trung tâm dịch vụ việc làm", "Employment service centre"),
    ("ngo", "Tổ chức phi chính phủ", "NGO"),
    ("commune_pc", "UBND xã, phường", "Commune People's Committee"),
    ("other", "Khác", "Other"),
    ("none", "Chưa chuyển gửi", "Not referred"),
]
RISK = [
    ("low", "Thấp", "Low"),
    ("medium", "Trung bình", "Medium"),
    ("high", "Cao", "High"),
]

YEAR_OF_ID = "number(format-date(${id_date}, '%Y'))"
AGE_AT_ID = f"({YEAR_OF_ID} - ${{birth_year}})"
# Guarded by consent as well as by relevance: a value typed before consent was
# changed to "no" must never feed the anonymous fields.
HAS_BIRTH_YEAR = f"{CONSENT} and string-length(${{birth_year}}) > 0"
HAS_ETHNICITY = f"{CONSENT} and ${{ethnicity}} != ''"
AGE_BAND_CALC = (
    f"if({HAS_BIRTH_YEAR}, "
    f"if({AGE_AT_ID} < 16, 'u16', if({AGE_AT_ID} < 18, '16_17', "
    f"if({AGE_AT_ID} < 30, '18_29', '30_plus'))), ${{age_band_asked}})"
)
PHONE = "regex(., '^(0[0-9]{9}|[+][0-9]{8,15})$')"
PHONE_MSG = (
    "Số Việt Nam 10 số bắt đầu bằng 0, hoặc số quốc tế bắt đầu bằng +.",
    "A 10-digit Vietnamese number starting with 0, or an international number "
    "starting with +.",
)


def outstanding(needs: str, served: str, previous: str = "") -> str:
    """Needs not yet served, space-separated (a select_multiple value).

    ``previous`` (a follow-up) adds the needs still open from the last visit.
    """
    parts = []
    for name in SERVICE_NAMES:
        wanted = f"selected({needs}, '{name}')"
        if previous:
            wanted = f"(selected({previous}, '{name}') or {wanted})"
        parts.append(
            f"if({wanted} and not(selected({served}, '{name}')), '{name} ', '')"
        )
    return f"normalize-space(concat({', '.join(parts)}))"


# The entity label on workers' phones (/data/meta/entity/label, the only place outside
# pii the given name can reach): case code and commune; the given name only with its
# own consent (guarded on both consents, like age_band, as defence in depth).
CASE_LABEL = (
    "concat(${case_code}, "
    "if(${commune_name} != '', concat(' · ', ${commune_name}), ''), "
    f"if({NAME_ON_PHONE} and string-length(${{given_name}}) > 0, "
    "concat(' · ', ${given_name}), ''))"
)

SURVEY = [
    *metadata(),
    # 1. Consent first: it decides whether the pii group is asked at all.
    q(
        "begin_group",
        "consent_block",
        ("Sự đồng ý", "Consent"),
        appearance="field-list",
    ),
    q(
        "note",
        "consent_script",
        (
            "Đọc cho người được hỗ trợ: “Chúng tôi ghi thông tin để hỗ trợ anh/chị. "
            "Thông tin được giữ bí mật. Anh/chị có quyền không cho ghi họ tên và "
            "thông tin cá nhân; việc này không ảnh hưởng đến quyền được hỗ trợ.”",
            "Read to the person: “We record this to arrange your support. It is kept "
            "confidential. You may refuse to have your name and personal details "
            "recorded; this does not affect your right to support.”",
        ),
    ),
    q(
        "select_one yes_no",
        "consent",
        (
            "Người được hỗ trợ có đồng ý cho ghi họ tên và thông tin cá nhân không?",
            "Does the person agree to their name and personal details being recorded?",
        ),
        (
            "Trẻ em dưới 16 tuổi: cần cha mẹ/người giám hộ đồng ý, và cả trẻ nếu "
            "trẻ từ đủ 7 tuổi.",
            "Child under 16: a parent or guardian must agree, and the child too if "
            "aged 7 or over.",
        ),
        required=True,
    ),
    q(
        "select_one consent_by",
        "consent_by",
        ("Ai đồng ý?", "Who gave consent?"),
        required=True,
        relevant=CONSENT,
    ),
    q(
        "select_one yes_no",
        "consent_name_on_phone",
        (
            "Có đồng ý cho hiện TÊN GỌI (không có họ) trong danh sách hồ sơ trên điện "
            "thoại của cán bộ xã mình, để đi thăm lại không?",
            "Does the person agree that their GIVEN NAME (no family name) is shown in "
            "the case list on the phones of their commune's outreach workers, for "
            "follow-up visits?",
        ),
        (
            "Hỏi riêng. Nếu không, danh sách chỉ hiện mã hồ sơ và xã.",
            "Ask separately. If not, the list shows only the case code and commune.",
        ),
        required=True,
        relevant=CONSENT,
    ),
    q(
        "note",
        "no_consent_note",
        (
            "KHÔNG ghi họ tên, năm sinh, dân tộc, giấy tờ, số điện thoại, thôn bản. "
            "Chỉ trả lời các câu hỏi ẩn danh tiếp theo và, nếu người được hỗ trợ "
            "đồng ý, mã liên kết (chữ cái đầu và năm sinh).",
            "Do NOT record name, birth year, ethnicity, ID, phone or village. "
            "Answer only the anonymous questions that follow and, if the person "
            "agrees, the linkage code (initials and birth year).",
        ),
        relevant="${consent} = 'no'",
    ),
    end_group(),
    # 2. Anonymous case data.
    q("begin_group", "case", ("Hồ sơ", "Case"), appearance="field-list"),
    q(
        "text",
        "case_code",
        ("Mã hồ sơ", "Case code"),
        (
            "Dạng ĐƠNVỊ-NĂM-SỐ: 2–4 chữ in hoa không dấu, năm 4 số, số thứ tự 3–5 "
            "số. Ví dụ: DN-2026-00123. Không dùng tên người.",
            "UNIT-YEAR-NUMBER: 2–4 capital letters, 4-digit year, 3–5 digit "
            "number. E.g. DN-2026-00123. Never use a person's name.",
        ),
        required=True,
        save_to="case_code",
        constraint=f"regex(., '{CASE_CODE_REGEX}')",
        constraint_msg=(
            "Mã không đúng dạng. Ví dụ đúng: DN-2026-00123 (chữ IN HOA, dấu gạch "
            "ngang).",
            "Wrong format. A valid code: DN-2026-00123 (CAPITALS, hyphens).",
        ),
    ),
    q(
        "date",
        "id_date",
        ("Ngày xác định là nạn nhân", "Date identified as a victim"),
        required=True,
        default="today()",
        constraint=". <= today() and . >= date('2000-01-01')",
        constraint_msg=(
            "Ngày không được sau hôm nay.",
            "The date cannot be in the future.",
        ),
    ),
    q(
        "select_one agency",
        "id_agency",
        ("Cơ quan xác định nạn nhân", "Identifying agency"),
        required=True,
    ),
    other_text("id_agency", "id_agency_other", multiple=False),
    end_group(),
    # 3. Personal identifiers: only with consent, all in ONE group (the contract).
    q(
        "begin_group",
        PII_GROUP,
        ("Thông tin cá nhân (đã đồng ý)", "Personal details (with consent)"),
        relevant=CONSENT,
        appearance="field-list",
    ),
    q(
        "text",
        "full_name",
        ("Họ và tên", "Full name"),
        required=True,
        constraint="string-length(.) >= 2 and string-length(.) <= 100",
        constraint_msg=("Từ 2 đến 100 ký tự.", "2 to 100 characters."),
    ),
    q(
        "text",
        "given_name",
        (
            "Tên gọi (hiện trên điện thoại cán bộ)",
            "Given name (shown on workers' phones)",
        ),
        (
            "Chỉ tên gọi, ví dụ “Lan”. Không ghi họ, tên đệm hay biệt danh.",
            "The given name only, e.g. “Lan”. No family name, middle name or nickname.",
        ),
        required=True,
        relevant="${consent_name_on_phone} = 'yes'",
        constraint="string-length(.) >= 1 and string-length(.) <= 20",
        constraint_msg=("Từ 1 đến 20 ký tự.", "1 to 20 characters."),
    ),
    q(
        "integer",
        "birth_year",
        ("Năm sinh", "Year of birth"),
        ("Để trống nếu không biết.", "Leave blank if unknown."),
        constraint=f". >= 1940 and . <= {YEAR_OF_ID}",
        constraint_msg=(
            "Năm sinh từ 1940 đến năm xác định nạn nhân.",
            "Birth year from 1940 up to the year of identification.",
        ),
    ),
    q("select_one ethnicity", "ethnicity", ("Dân tộc", "Ethnicity"), required=True),
    other_text("ethnicity", "ethnicity_other", multiple=False),
    q(
        "select_one id_type",
        "id_type",
        ("Giấy tờ tùy thân", "ID document"),
        required=True,
    ),
    q(
        "text",
        "id_number",
        ("Số giấy tờ", "Document number"),
        required=True,
        relevant="${id_type} != 'none'",
        constraint=(
            "(${id_type} = 'cccd' and regex(., '^[0-9]{12}$')) or "
            "(${id_type} = 'cmnd' and regex(., '^[0-9]{9}$')) or "
            "(${id_type} = 'passport' and regex(., '^[A-Z][0-9]{7,8}$'))"
        ),
        constraint_msg=(
            "CCCD: 12 số; CMND: 9 số; hộ chiếu: 1 chữ in hoa và 7–8 số.",
            "Citizen ID: 12 digits; old ID: 9 digits; passport: 1 capital letter "
            "and 7–8 digits.",
        ),
    ),
    q(
        "text",
        "phone",
        ("Số điện thoại", "Phone number"),
        ("Để trống nếu không có.", "Leave blank if none."),
        appearance="numbers",
        constraint=PHONE,
        constraint_msg=PHONE_MSG,
    ),
    q(
        "text",
        "village",
        ("Thôn, bản nơi cư trú", "Village or hamlet of residence"),
        constraint="string-length(.) <= 80",
        constraint_msg=("Tối đa 80 ký tự.", "At most 80 characters."),
    ),
    q(
        "text",
        "contact_name",
        ("Người liên hệ (người thân, giám hộ)", "Contact person (relative, guardian)"),
        ("Không bắt buộc.", "Optional."),
        constraint="string-length(.) <= 100",
        constraint_msg=("Tối đa 100 ký tự.", "At most 100 characters."),
    ),
    q(
        "text",
        "contact_phone",
        ("Số điện thoại người liên hệ", "Contact person's phone"),
        appearance="numbers",
        relevant="${contact_name} != ''",
        constraint=PHONE,
        constraint_msg=PHONE_MSG,
    ),
    q(
        "text",
        "case_notes",
        ("Ghi chú hồ sơ", "Case notes"),
        (
            "Chỉ ghi ở đây các chi tiết có thể nhận ra người được hỗ trợ.",
            "Write anything that could identify the person only here.",
        ),
        appearance="multiline",
        constraint="string-length(.) <= 2000",
        constraint_msg=("Tối đa 2.000 ký tự.", "At most 2,000 characters."),
    ),
    end_group(),
    # 3b. Without consent: only a pseudonymous linkage code, in its own group (as
    # restricted as pii), so two agencies' registrations of one person can be linked.
    q(
        "begin_group",
        LINK_GROUP,
        ("Mã liên kết (không có họ tên)", "Linkage code (no name)"),
        relevant=NO_CONSENT,
        appearance="field-list",
    ),
    q(
        "select_one link_status",
        "link_status",
        (
            "Người được hỗ trợ có đồng ý cho một mã liên kết không? Mã gồm chữ cái "
            "đầu của họ, chữ cái đầu của tên và năm sinh; không ghi họ tên.",
            "Will the person give a linkage code? It is the first letter of the "
            "family name, the first letter of the given name and the birth year; "
            "no name is recorded.",
        ),
        (
            "Mã giúp không đếm một người hai lần khi nhiều cơ quan cùng tiếp nhận. "
            "Được quyền từ chối; không ảnh hưởng đến hỗ trợ.",
            "The code keeps one person from being counted twice when several "
            "agencies register them. They may refuse; support is not affected.",
        ),
        required=True,
    ),
    q(
        "text",
        "link_code",
        ("Mã liên kết", "Linkage code"),
        (
            "Chữ cái đầu của HỌ, chữ cái đầu của TÊN (không dấu, Đ viết D), rồi 4 số "
            "năm sinh. Ví dụ: Hồ Thị Lan sinh 2004 → HL2004; A Lăng Văn Thắng sinh "
            "1999 → AT1999. Chỉ hỏi chữ cái, không hỏi cả tên.",
            "First letter of the FAMILY name, first letter of the GIVEN name (no "
            "diacritics, Đ as D), then the 4-digit birth year. E.g. Hồ Thị Lan born "
            "2004 → HL2004; A Lăng Văn Thắng born 1999 → AT1999. Ask for the letters "
            "only, never the name.",
        ),
        required=True,
        relevant="${link_status} = 'given'",
        constraint=(
            f"regex(., '{LINK_CODE_REGEX}') and number(substr(., 2)) >= 1940 "
            f"and number(substr(., 2)) <= {YEAR_OF_ID}"
        ),
        constraint_msg=(
            "2 chữ cái rồi 4 số năm sinh, ví dụ HL2004 (năm từ 1940 đến năm xác "
            "định nạn nhân).",
            "2 letters, then the 4-digit birth year, e.g. HL2004 (year from 1940 up "
            "to the year of identification).",
        ),
    ),
    end_group(),
    # 4. Anonymous profile.
    q(
        "begin_group",
        "profile",
        ("Nơi cư trú, giới tính, tuổi", "Residence, sex, age"),
        appearance="field-list",
    ),
    q(
        "select_one province",
        "residence_province",
        ("Tỉnh, thành phố cư trú", "Province of residence"),
        ("Theo danh mục 34 tỉnh, thành từ 2025.", "The 34 provinces from 2025."),
        required=True,
        appearance="minimal",
    ),
    q(
        SELECT_COMMUNE,
        "commune",
        ("Xã, phường cư trú", "Commune of residence"),
        COMMUNE_HINT,
        required=True,
        relevant=(
            "count(instance('communes')/root/item"
            "[province_code = ${residence_province}]) > 0"
        ),
        appearance="minimal autocomplete",
        choice_filter="province_code = ${residence_province}",
        save_to="commune",
    ),
    q("select_one sex", "sex", ("Giới tính", "Sex"), required=True, save_to="sex"),
    q(
        "select_one age_band",
        "age_band_asked",
        ("Nhóm tuổi (ước tính)", "Age group (estimate)"),
        required=True,
        relevant=f"not({HAS_BIRTH_YEAR})",
    ),
    q(
        "select_one yes_no_unknown",
        "ethnic_minority_asked",
        ("Là người dân tộc thiểu số?", "Belongs to an ethnic minority?"),
        required=True,
        relevant=f"not({HAS_ETHNICITY})",
    ),
    end_group(),
    q("calculate", "age_band", calculation=AGE_BAND_CALC, save_to="age_band"),
    q(
        "calculate",
        "ethnic_minority",
        calculation=(
            f"if({HAS_ETHNICITY}, if(${{ethnicity}} = 'kinh', 'no', 'yes'), "
            "${ethnic_minority_asked})"
        ),
    ),
    # 5. Trafficking situation.
    q(
        "begin_group",
        "trafficking",
        ("Tình huống bị mua bán", "Trafficking situation"),
        appearance="field-list",
    ),
    q(
        "select_one destination",
        "destination",
        ("Bị mua bán đến đâu?", "Where was the person trafficked to?"),
        ("Nơi bị bóc lột chính.", "Main place of exploitation."),
        required=True,
    ),
    other_text("destination", "destination_other", multiple=False),
    q(
        "select_multiple exploitation",
        "exploitation",
        ("Hình thức bóc lột", "Form(s) of exploitation"),
        ("Chọn tất cả các hình thức.", "Tick all that apply."),
        required=True,
    ),
    other_text("exploitation", "exploitation_other"),
    end_group(),
    # 6. Needs, then services limited to assessed needs.
    q(
        "select_multiple need",
        "needs",
        ("Nhu cầu hỗ trợ đã đánh giá", "Needs assessed"),
        ("Chọn tất cả nhu cầu.", "Tick all that apply."),
        required=True,
        constraint=exclusive(),
        constraint_msg=EXCLUSIVE_MSG,
    ),
    q(
        "select_multiple need",
        "services",
        ("Dịch vụ đã cung cấp", "Services provided"),
        (
            "Chỉ hiện các nhu cầu đã đánh giá. Để trống nếu chưa cung cấp.",
            "Only assessed needs are listed. Leave blank if none provided yet.",
        ),
        relevant="count-selected(${needs}) > 0 and not(selected(${needs}, 'none'))",
        choice_filter="selected(${needs}, name)",
        constraint=subset_of("${needs}", SERVICE_NAMES),
        constraint_msg=(
            "Chỉ chọn dịch vụ cho các nhu cầu đã đánh giá.",
            "Only services for assessed needs can be ticked.",
        ),
    ),
    q(
        "calculate",
        "n_needs",
        calculation="if(selected(${needs}, 'none'), 0, count-selected(${needs}))",
    ),
    q("calculate", "n_services", calculation="count-selected(${services})"),
    q(
        "calculate",
        "all_needs_served",
        calculation=(
            "if(${n_needs} = 0, 'no_needs', "
            "if(${n_services} >= ${n_needs}, 'yes', 'no'))"
        ),
    ),
    # 7. Referral and risk.
    q(
        "begin_group",
        "follow_up",
        ("Chuyển gửi và nguy cơ", "Referral and risk"),
        appearance="field-list",
    ),
    q(
        "select_multiple referral",
        "referral",
        ("Chuyển gửi đến", "Referred to"),
        required=True,
        constraint=exclusive(),
        constraint_msg=EXCLUSIVE_MSG,
    ),
    other_text("referral", "referral_other"),
    q(
        "select_one risk",
        "risk",
        ("Nguy cơ bị mua bán lại", "Risk of re-trafficking"),
        (
            "Cao: còn liên lạc với kẻ môi giới, nợ nần, bị gia đình ép đi làm xa, "
            "không có thu nhập.",
            "High: still in contact with the broker, in debt, pushed by family to "
            "leave for work, no income.",
        ),
        required=True,
        save_to="risk",
    ),
    q(
        "date",
        "next_visit",
        ("Ngày dự kiến thăm lại", "Planned follow-up visit"),
        (
            "Ngày này hiện trong danh sách hồ sơ trên điện thoại cán bộ xã.",
            "This date is shown in the case list on the commune workers' phones.",
        ),
        required=True,
        constraint=". >= ${id_date}",
        constraint_msg=(
            "Ngày thăm lại không được trước ngày xác định nạn nhân.",
            "The follow-up cannot be before the identification date.",
        ),
        save_to="next_visit",
    ),
    end_group(),
    q("calculate", "commune_name", calculation=commune_name()),
    q("calculate", "risk_label", calculation="jr:choice-name(${risk}, '${risk}')"),
    # 8. The case entity (follow-up offline with case_followup).
    q(
        "calculate",
        "services_outstanding",
        calculation=outstanding("${needs}", "${services}"),
        save_to="services_outstanding",
    ),
    q("calculate", "case_status", calculation="'active'", save_to="status"),
    q(
        "calculate",
        "last_contact",
        calculation="format-date(${id_date}, '%Y-%m-%d')",
        save_to="last_contact",
    ),
]

FORM = Form(
    form_id="victim_case",
    title="Tiếp nhận, hỗ trợ nạn nhân bị mua bán",
    instance_name=(
        "concat(${case_code}, ' · ', ${id_date}, ' · ', ${commune_name}, "
        "' · nguy cơ ', ${risk_label})"
    ),
    survey=SURVEY,
    entities={"list_name": ENTITY_LIST, "label": CASE_LABEL},
    choices={
        "yes_no": YES_NO,
        "yes_no_unknown": YES_NO_UNKNOWN,
        "consent_by": CONSENT_BY,
        "link_status": LINK_STATUS,
        "agency": AGENCIES,
        "province": PROVINCES,
        "sex": SEX,
        "age_band": AGE_BANDS,
        "ethnicity": ETHNICITIES,
        "id_type": ID_TYPES,
        "destination": DESTINATIONS,
        "exploitation": EXPLOITATION,
        "need": NEEDS,
        "referral": REFERRALS,
        "risk": RISK,
    },
)
