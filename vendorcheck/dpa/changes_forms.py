"""Forms for proposed sub-processor changes: propose, withdraw, authorise or refuse."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from vendorcheck.forms import BaseForm, options
from vendorcheck.models.dpa_changes import AUTHORISED, REFUSED

MAX_TEXT = 10_000

__all__ = ["DecisionForm", "ProposeForm", "WithdrawForm"]


class ProposeForm(BaseForm):
    """The vendor announces the draft's sub-processor change, with its effective date."""

    effective_date = DateField(
        _l("Effective date (UTC)"), validators=[Optional()],
        description=_l("The change takes effect at 00:00 UTC on this day. Leave empty for the "
                       "first day after the objection period."))
    confirm = BooleanField(
        _l("I confirm: announce this change now to our subscribers and customers. It will be "
           "public at once and take effect on the date above unless we withdraw it."),
        validators=[DataRequired(_l("Tick the confirmation box to announce the change."))])


class WithdrawForm(BaseForm):
    """The vendor withdraws an announced change before its effective date."""

    reason = TextAreaField(_l("Reason (sent to those who were told of the change)"),
                           validators=[Optional(), Length(max=MAX_TEXT)])


class DecisionForm(BaseForm):
    """A buyer's written authorisation or refusal of a change (specific authorisation)."""

    decision = RadioField(_l("Your organisation's decision"), choices=options([
        (AUTHORISED, _l("We authorise this change of sub-processors")),
        (REFUSED, _l("We refuse this change of sub-processors"))]),
        validators=[DataRequired(_l("Choose whether you authorise or refuse the change."))])
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=MAX_TEXT)])
