"""Remediation requests in the states tests need, with a stored evidence file on the vendor's answer.

Call inside an app context; stored files go to the app's evidence store.
"""

from __future__ import annotations

import io

from vendorcheck.extensions import db
from vendorcheck.models.assessments import Assessment, FindingRecord
from vendorcheck.models.remediation import (
    RemediationAction,
    RemediationEvent,
    RemediationRequest,
    RemediationState,
)
from vendorcheck.storage import Area, current_store


def make_remediation(assessment: Assessment, *, state: RemediationState = RemediationState.REQUESTED,
                     finding_id: str = "manual-rem", with_file: bool = True) -> RemediationRequest:
    """Add a manual finding and a request about it; with a file, the vendor's answer carries one."""
    finding = FindingRecord(assessment_id=assessment.id, finding_id=finding_id, source="manual",
                            severity="high", title={"en": "Enable MFA", "fr": "Activer la MFA"},
                            refs=[], remediation={"en": "Turn on MFA for admins."})
    request = RemediationRequest(assessment_id=assessment.id, finding=finding, state=state,
                                 note="Please fix")
    request.events.append(RemediationEvent(action=RemediationAction.REQUESTED, side="buyer",
                                           text="Please fix"))
    if with_file:
        key, sha256, size = current_store().save(Area.EVIDENCE, io.BytesIO(b"mfa enabled\n"))
        request.events.append(RemediationEvent(
            action=RemediationAction.RESPONDED, side="vendor", text="Done", file_name="mfa.txt",
            storage_key=key, content_type="text/plain; charset=utf-8", size=size, sha256=sha256))
    db.session.add_all([finding, request])
    db.session.commit()
    db.session.refresh(request)
    return request
