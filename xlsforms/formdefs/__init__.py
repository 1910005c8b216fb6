"""XLSForm definitions as code; ``xlsforms/build.py`` writes them as ``.xlsx``."""

from .case_followup import FORM as CASE_FOLLOWUP
from .common import Form
from .outreach_session import FORM as OUTREACH_SESSION
from .staff_training import FORM as STAFF_TRAINING
from .victim_case import FORM as VICTIM_CASE

FORMS: tuple[Form, ...] = (OUTREACH_SESSION, VICTIM_CASE, STAFF_TRAINING, CASE_FOLLOWUP)

__all__ = ["FORMS", "Form"]
