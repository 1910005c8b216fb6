"""Filled-in instances of the three mission forms, as ODK Collect would send them.

Each case maps every node of the form's primary instance (path relative to ``/data``)
to its value, so ``tests/test_mission_forms.py`` can check that the data matches the
published XForm exactly:

- a string is the node's text ("" for a relevant but empty node: notes, optional
  questions left blank);
- ``None`` marks a node that is **not relevant** with these answers. Collect (JavaRosa's
  ``XFormSerializingVisitor``) leaves such nodes out of the submission; Enketo and
  Central's web forms send them empty. A group set to ``None`` (``pii`` without consent)
  goes as a whole;
- a list of dicts fills a repeat, one dict per instance (paths relative to the repeat).

``meta/instanceID`` is generated per submission and ``meta/instanceName`` is computed
from the form's own expression, so neither is listed. The calculated fields
(``commune_name``, counts, ``age_band``…) are what the form computes from these answers;
the JavaRosa check in the test module recomputes them.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMS_DIR = ROOT / "xlsforms"
COMMUNES_CSV = FORMS_DIR / "communes.csv"
VERSION = "2026112804"
FORM_IDS = ("outreach_session", "victim_case", "staff_training", "case_followup")

# Border communes on the Laos border (2025 codes) used below.
LA_EE, TAY_GIANG, HUNG_SON = "20698", "20455", "20443"


def commune_short_names() -> dict[str, str]:
    """2025 commune code -> short name, from the form media."""
    with COMMUNES_CSV.open(encoding="utf-8", newline="") as fh:
        return {row["name"]: row["short_name"] for row in csv.DictReader(fh)}


def _jpeg(seed: int, size: tuple[int, int]) -> bytes:
    """A real JPEG at Collect's ``max-pixels=1024`` size, noisy so it is not tiny."""
    from PIL import Image

    rnd = random.Random(seed)
    width, height = size
    image = Image.frombytes("RGB", (64, 48), rnd.randbytes(64 * 48 * 3)).resize(
        (width, height)
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


# Collect names a photo after System.currentTimeMillis() when it was taken.
PHOTO_ATTENDANCE = "1795138867127.jpg"
PHOTO_1 = "1795143492954.jpg"
PHOTO_2 = "1795143824310.jpg"


def outreach_photos() -> dict[str, bytes]:
    """The three photos of the outreach session, by the file names in the XML."""
    return {
        PHOTO_ATTENDANCE: _jpeg(1, (768, 1024)),
        PHOTO_1: _jpeg(2, (1024, 768)),
        PHOTO_2: _jpeg(3, (1024, 576)),
    }


# --- outreach_session: a village meeting in La Êê -----------------------------------

OUTREACH_SESSION: dict[str, object] = {
    "start": "2026-11-20T08:02:11.482+07:00",
    "end": "2026-11-20T10:47:55.019+07:00",
    "today": "2026-11-20",
    "deviceid": "collect:Vx8Qm2LrT4pYzA91",
    "username": "Alăng Thị Bích",
    "session/session_date": "2026-11-20",
    "session/commune": LA_EE,
    "session/village": "Bản Pà Ai",
    "session/gps": "15.7542 107.4521 702.4 4.8",
    "activity/format": "village_meeting",
    "activity/format_other": None,
    "activity/languages": "vietnamese gie_trieng",
    "activity/languages_other": None,
    "activity/topics": "lures cross_border_marriage online_scams hotlines other",
    "activity/topics_other": "Lừa đi làm rẫy thuê bên Lào, bị giữ giấy tờ",
    "participants/count_rule": "",
    "participants/n_total": "45",
    "participants/n_women": "18",
    "participants/n_girls": "9",
    "participants/n_men": "12",
    "participants/n_boys": "4",
    "participants/n_ethnic_minority": "41",
    "participants/unsorted_note": "",  # 2 people not split by sex and age: shown
    "n_by_sex": "43",
    "n_unsorted": "2",
    "n_women_girls": "27",
    "materials_partners/materials": "leaflet hotline_card",
    "materials_partners/materials_other": None,
    "materials_partners/materials_count": "120",
    "materials_partners/partners": "commune_police border_guard womens_union",
    "materials_partners/partners_other": None,
    "photos/photo_rule": "",
    "photos/photo_attendance": PHOTO_ATTENDANCE,
    "photos/no_attendance_reason": None,
    "photos/no_attendance_other": None,
    "photos/photo_1": PHOTO_1,
    "photos/photo_2": PHOTO_2,
    "notes": (
        "Nhiều chị em hỏi về việc sang Trung Quốc lấy chồng qua “cò”; một thanh niên "
        "kể được rủ sang Lào làm rẫy, hứa lương 8 triệu/tháng. Đã phát số đường dây "
        "nóng 111 và hướng dẫn báo Đồn Biên phòng."
    ),
    "commune_name": "La Êê",
}
OUTREACH_SESSION_NAME = "2026-11-20 · La Êê · Bản Pà Ai · 45 người"

# --- victim_case --------------------------------------------------------------------

# Everything outside ``pii`` that both cases share the shape of.
_CASE_COMMON: dict[str, object] = {
    "start": "2026-11-25T14:10:03.117+07:00",
    "end": "2026-11-25T14:52:40.908+07:00",
    "today": "2026-11-25",
    "deviceid": "collect:Qp3Zt7Nw0sLkE5ux",
    "username": "Cán bộ BTXH Đà Nẵng",
    "consent_block/consent_script": "",
}

VICTIM_WITH_CONSENT: dict[str, object] = {
    **_CASE_COMMON,
    "consent_block/consent": "yes",
    "consent_block/consent_by": "self",
    "consent_block/consent_name_on_phone": "yes",
    "consent_block/no_consent_note": None,
    "case/case_code": "DN-2026-00123",
    "case/id_date": "2026-11-20",
    "case/id_agency": "border_guard",
    "case/id_agency_other": None,
    "pii/full_name": "Hồ Thị Lan",
    "pii/given_name": "Lan",
    "pii/birth_year": "2003",
    "pii/ethnicity": "co_tu",
    "pii/ethnicity_other": None,
    "pii/id_type": "cccd",
    "pii/id_number": "049303001234",
    "pii/phone": "0905123456",
    "pii/village": "Bản Pà Ai",
    "pii/contact_name": "Hồ Văn Bốn (cha)",
    "pii/contact_phone": "0935111222",
    "pii/case_notes": (
        "Chị Lan bị người quen dụ sang Trung Quốc làm giúp việc, bị ép kết hôn. "
        "Trốn về qua cửa khẩu Nam Giang ngày 14/11/2026. Sợ gia đình nhà chồng tìm "
        "đến; không cho biết địa chỉ với người lạ."
    ),
    "link": None,  # the linkage code is asked only without consent
    "profile/residence_province": "48",
    "profile/commune": LA_EE,
    "profile/sex": "female",
    "profile/age_band_asked": None,  # birth year recorded
    "profile/ethnic_minority_asked": None,  # ethnicity recorded
    "age_band": "18_29",  # 2026 - 2003 = 23
    "ethnic_minority": "yes",
    "trafficking/destination": "china",
    "trafficking/destination_other": None,
    "trafficking/exploitation": "forced_marriage forced_labour",
    "trafficking/exploitation_other": None,
    "needs": "essentials medical psychological legal_aid travel_home",
    "services": "essentials medical travel_home",
    "n_needs": "5",
    "n_services": "3",
    "all_needs_served": "no",
    "follow_up/referral": "social_protection_centre legal_aid womens_union",
    "follow_up/referral_other": None,
    "follow_up/risk": "medium",
    "follow_up/next_visit": "2026-12-04",
    "commune_name": "La Êê",
    "risk_label": "Trung bình",
    # the case entity: needs not yet served, and the label with the given name (both
    # consents given)
    "services_outstanding": "psychological legal_aid",
    "case_status": "active",
    "last_contact": "2026-11-20",
    "meta/entity/label": "DN-2026-00123 · La Êê · Lan",
}
VICTIM_WITH_CONSENT_NAME = "DN-2026-00123 · 2026-11-20 · La Êê · nguy cơ Trung bình"

# Only the anonymous minimum: the pii group is not relevant, so nothing in it exists.
VICTIM_WITHOUT_CONSENT: dict[str, object] = {
    **_CASE_COMMON,
    "start": "2026-11-25T15:20:44.530+07:00",
    "end": "2026-11-25T15:41:09.002+07:00",
    "consent_block/consent": "no",
    "consent_block/consent_by": None,
    "consent_block/consent_name_on_phone": None,
    "consent_block/no_consent_note": "",
    "case/case_code": "BPTG-2026-017",
    "case/id_date": "2026-11-25",
    "case/id_agency": "foreign_authority",
    "case/id_agency_other": None,
    "pii": None,
    # no linkage code either: the person did not want to give one
    "link/link_status": "declined",
    "link/link_code": None,
    "profile/residence_province": "48",
    "profile/commune": TAY_GIANG,
    "profile/sex": "male",
    "profile/age_band_asked": "16_17",
    "profile/ethnic_minority_asked": "yes",
    "age_band": "16_17",
    "ethnic_minority": "yes",
    "trafficking/destination": "cambodia",
    "trafficking/destination_other": None,
    "trafficking/exploitation": "forced_criminality forced_labour",
    "trafficking/exploitation_other": None,
    "needs": "essentials psychological travel_home",
    "services": "essentials psychological travel_home",
    "n_needs": "3",
    "n_services": "3",
    "all_needs_served": "yes",
    "follow_up/referral": "none",
    "follow_up/referral_other": None,
    "follow_up/risk": "high",
    "follow_up/next_visit": "2026-12-01",
    "commune_name": "Tây Giang",
    "risk_label": "Cao",
    "services_outstanding": "",
    "case_status": "active",
    "last_contact": "2026-11-25",
    "meta/entity/label": "BPTG-2026-017 · Tây Giang",
}
VICTIM_WITHOUT_CONSENT_NAME = "BPTG-2026-017 · 2026-11-25 · Tây Giang · nguy cơ Cao"
# The same case where the person agreed to give the pseudonymous linkage code
# (family initial, given-name initial, birth year: xlsforms/README.md, "link").
VICTIM_WITHOUT_CONSENT_CODED: dict[str, object] = {
    **VICTIM_WITHOUT_CONSENT,
    "link/link_status": "given",
    "link/link_code": "AT2009",
}

# Values that identify the consenting person: none may appear outside /data/pii, and
# none may appear anywhere in the no-consent case.
PII_VALUES = [
    str(VICTIM_WITH_CONSENT[f"pii/{name}"])
    for name in ("full_name", "id_number", "phone", "village")
    + ("contact_name", "contact_phone", "case_notes")
]

# --- staff_training: a two-day course in Tây Giang ----------------------------------

_AGENCIES = (
    "police",
    "border_guard",
    "social_protection",
    "justice",
    "health",
    "education",
    "womens_union",
    "youth_union",
    "commune_officials",
    "ngo",
    "other",
)
_COUNTS = {  # agency -> (women, men), only for the agencies ticked
    "police": ("2", "6"),
    "border_guard": ("1", "7"),
    "womens_union": ("5", "0"),
    "commune_officials": ("4", "7"),
}

STAFF_TRAINING: dict[str, object] = {
    "start": "2026-11-24T07:31:26.004+07:00",
    "end": "2026-11-25T16:05:12.771+07:00",
    "today": "2026-11-24",
    "deviceid": "collect:Hn6Rb1YcW8dGq2Jm",
    "username": "Hồ Thị Lan",
    "event/training_date": "2026-11-24",
    "event/duration_days": "2",
    "event/commune": TAY_GIANG,
    "event/venue": "Hội trường UBND xã Tây Giang (thôn A Xờ)",
    "event/organiser": "social_protection",
    "event/organiser_other": None,
    "event/topics": "identification victim_centred referral law",
    "event/topics_other": None,
    "agencies_block/agencies": "police border_guard womens_union commune_officials",
    "agencies_block/agencies_other": None,
    **{
        f"counts/{sex}_{agency}": (_COUNTS[agency][i] if agency in _COUNTS else None)
        for agency in _AGENCIES
        for i, sex in enumerate(("women", "men"))
    },
    "counts/counts_total": "",
    "n_women": "12",
    "n_men": "20",
    "n_trainees": "32",
    "trainee": [
        {
            "trainee_name": "Hồ Thị Lan",
            "trainee_sex": "female",
            "trainee_agency": "womens_union",
            "trainee_role": "Chủ tịch Hội Liên hiệp Phụ nữ xã",
            "trainee_commune": TAY_GIANG,
        },
        {
            "trainee_name": "Bh'riu Liếc",
            "trainee_sex": "male",
            "trainee_agency": "border_guard",
            "trainee_role": "Đội trưởng vận động quần chúng, Đồn Biên phòng A Nông",
            "trainee_commune": HUNG_SON,
        },
        {
            "trainee_name": "Zơrâm Thị Nhung",
            "trainee_sex": "female",
            "trainee_agency": "commune_officials",
            "trainee_role": "Công chức văn hóa – xã hội, UBND Xã La Êê",
            "trainee_commune": LA_EE,
        },
        {
            "trainee_name": "Nguyễn Đức Thắng",
            "trainee_sex": "male",
            "trainee_agency": "police",
            "trainee_role": "Cán bộ Phòng Cảnh sát hình sự, Công an thành phố",
            "trainee_commune": "",  # city level
        },
    ],
    "n_roster": "4",
    "roster_mismatch": "",  # 4 on the roster, 32 counted: the note shows
    "notes": "Học viên người Cơ Tu, Giẻ Triêng đề nghị có tài liệu song ngữ.",
    "commune_name": "Tây Giang",
}
STAFF_TRAINING_NAME = "2026-11-24 · Tây Giang · 32 học viên"
