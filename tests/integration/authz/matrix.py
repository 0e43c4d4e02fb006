"""The authorization matrix: every endpoint, method and who may use it.

Roles are written as "<side>.<role>" ("buyer.admin", "vendor.admin"). An actor with an allowed
role in another organisation than the target's gets 404; a role not listed gets 403; anonymous
users are sent to login. PUBLIC routes answer everyone; USER routes every logged-in user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PUBLIC = "public"
USER = "user"

BUYER_ALL = frozenset({"buyer.admin", "buyer.assessor", "buyer.legal"})
BUYER_EDIT = frozenset({"buyer.admin", "buyer.assessor"})
ADMINS = frozenset({"buyer.admin", "vendor.admin"})
BUYER_ADMIN = frozenset({"buyer.admin"})
MEMBERS = BUYER_ALL | {"vendor.admin"}
VENDOR = frozenset({"vendor.admin"})
DPA_SIGNERS = frozenset({"buyer.admin", "buyer.legal"})  # accept or object to a DPA

# "a.link"/"b.link" hold an answer link to tenant A's/B's assessment (no account): they act as
# anonymous visitors everywhere but on the routes that list them in `link`, for assessment A only.
ACTORS = ("anon", "a.admin", "a.assessor", "a.legal", "a.vendor", "b.admin", "b.vendor", "a.link",
          "b.link")
LINK_HOLDERS = frozenset({"a.link", "b.link"})
HOLDER_ONLY = "holder"  # routes for link holders only: members get 403, anonymous visitors login
OK = frozenset({200, 302, 303})


def role_of(actor: str) -> str:
    """Return "<side>.<role>" for an actor name like "a.legal" or "b.vendor"."""
    role = actor.split(".")[1]
    return "vendor.admin" if role == "vendor" else f"buyer.{role}"


@dataclass(frozen=True)
class Route:
    """One endpoint: how to build its URL and form data, and who may use each method."""

    path: Callable[[Any], str]
    allow: dict[str, Any]
    data: Callable[[Any, str], dict[str, Any]] | None = None
    target: str | None = None          # organisation the target object belongs to: "a.buyer"
    ok: dict[str, frozenset[int]] = field(default_factory=dict)
    override: dict[str, int] = field(default_factory=dict)   # "user" → status for logged-in users
    link: frozenset[str] = frozenset()  # methods the holder of tenant A's answer link may use
    api: str | None = None  # an API route: the least token scope it needs ("read", "write", "admin")


def _vendor_form(w: Any, actor: str) -> dict[str, Any]:
    user = w.user(actor) if actor not in LINK_HOLDERS | {"anon"} else None
    return {"legal_name": "Matrix Vendor", "criticality": "low", "country": "FR",
            "owner_id": user.id if user else 1}


def _questionnaire_path(w: Any) -> str:
    q = w.extra.get("questionnaire")
    return f"/questionnaires/{q[0]}/{q[1]}" if q else "/questionnaires/none/1"


MATRIX: dict[str, Route] = {
    "public.index": Route(lambda w: "/", {"GET": PUBLIC}),
    "public.questionnaire": Route(_questionnaire_path, {"GET": PUBLIC}),
    "public.favicon": Route(lambda w: "/favicon.ico", {"GET": PUBLIC}),
    "public.healthz": Route(lambda w: "/healthz", {"GET": PUBLIC}),
    "public.readyz": Route(lambda w: "/readyz", {"GET": PUBLIC}),
    "auth.login": Route(lambda w: "/auth/login", {"GET": PUBLIC, "POST": PUBLIC},
                        data=lambda w, a: {}, ok={"POST": frozenset({422})}),
    "auth.logout": Route(lambda w: "/auth/logout", {"POST": USER}),
    "auth.signup": Route(lambda w: "/auth/signup", {"GET": PUBLIC, "POST": PUBLIC},
                         data=lambda w, a: {}, ok={"POST": frozenset({422})}),
    "auth.reset_request": Route(lambda w: "/auth/reset", {"GET": PUBLIC, "POST": PUBLIC},
                                data=lambda w, a: {"email": "nobody@nowhere.example"}),
    "auth.reset_password": Route(lambda w: f"/auth/reset/{w.reset_token}",
                                 {"GET": PUBLIC, "POST": PUBLIC}, data=lambda w, a: {},
                                 ok={"POST": frozenset({422})}),
    # Single sign-on (docs/sso.md): public entry points. Without a pending sign-in the callback is a 400
    # page; the world's organisations have no SAML provider, so their SAML URLs answer 404.
    "auth.sso_start": Route(lambda w: "/auth/sso", {"GET": PUBLIC, "POST": PUBLIC},
                            data=lambda w, a: {}, ok={"POST": frozenset({422})}),
    "auth.oidc_callback": Route(lambda w: "/auth/sso/oidc/callback?state=x&code=y", {"GET": PUBLIC},
                                ok={"GET": frozenset({400})}),
    "auth.saml_metadata": Route(lambda w: f"/auth/saml/{w['a'].buyer.slug}/metadata", {"GET": PUBLIC},
                                ok={"GET": frozenset({404})}),
    "auth.saml_login": Route(lambda w: f"/auth/saml/{w['a'].buyer.slug}/login", {"GET": PUBLIC},
                             ok={"GET": frozenset({404})}),
    "auth.saml_acs": Route(lambda w: f"/auth/saml/{w['a'].buyer.slug}/acs", {"POST": PUBLIC},
                           data=lambda w, a: {"SAMLResponse": "x"}, ok={"POST": frozenset({404})}),
    "auth.change_password": Route(lambda w: "/auth/password", {"GET": USER, "POST": USER},
                                  data=lambda w, a: {}, ok={"POST": frozenset({422})}),
    "auth.profile": Route(lambda w: "/auth/profile", {"GET": USER, "POST": USER},
                          data=lambda w, a: {"name": "Renamed", "locale": "en"}),
    # Each actor ends its own session (login_as leaves its id in world.extra); others' answer 404
    # (tests/integration/test_sessions.py).
    "auth.revoke_session": Route(
        lambda w: f"/auth/sessions/{w.extra.get('current_session', 0)}/revoke",
        {"GET": USER, "POST": USER}, data=lambda w, a: {}),
    "auth.logout_everywhere": Route(lambda w: "/auth/sessions/revoke-all", {"GET": USER, "POST": USER},
                                    data=lambda w, a: {}),
    "auth.accept_invitation": Route(lambda w: f"/auth/invitations/{w['a'].vendor_token}",
                                    {"GET": PUBLIC, "POST": PUBLIC}, data=lambda w, a: {},
                                    ok={"POST": frozenset({422})}, override={"user": 403}),
    # Second factors (docs/security.md, MFA): without a login waiting for its second step the verify
    # page sends back to login and its passkey endpoints answer 409; empty passkey answers are 400.
    "auth.mfa_verify": Route(lambda w: "/auth/mfa/verify", {"GET": PUBLIC, "POST": PUBLIC},
                             data=lambda w, a: {}),
    "auth.mfa_settings": Route(lambda w: "/auth/mfa", {"GET": USER}),
    "auth.totp_start": Route(lambda w: "/auth/mfa/totp/start", {"POST": USER}, data=lambda w, a: {}),
    "auth.totp_enrol": Route(lambda w: "/auth/mfa/totp", {"GET": USER, "POST": USER},
                             data=lambda w, a: {"code": "000000"}),
    "auth.totp_remove": Route(lambda w: "/auth/mfa/totp/remove", {"GET": USER, "POST": USER},
                              data=lambda w, a: {"proof": "x"}),
    "auth.recovery_codes": Route(lambda w: "/auth/mfa/recovery-codes", {"GET": USER, "POST": USER},
                                 data=lambda w, a: {}),
    "auth.passkey_register_options": Route(lambda w: "/auth/passkeys/options", {"POST": USER},
                                           data=lambda w, a: {}),
    "auth.passkey_register": Route(lambda w: "/auth/passkeys", {"POST": USER}, data=lambda w, a: {},
                                   ok={"POST": frozenset({422})}),
    "auth.passkey_remove": Route(lambda w: "/auth/passkeys/0/remove", {"GET": USER, "POST": USER},
                                 data=lambda w, a: {}, override={"user": 404}),
    "auth.passkey_second_factor_options": Route(
        lambda w: "/auth/mfa/verify/passkey/options", {"POST": PUBLIC}, data=lambda w, a: {},
        ok={"POST": frozenset({409})}),
    "auth.passkey_second_factor": Route(lambda w: "/auth/mfa/verify/passkey", {"POST": PUBLIC},
                                        data=lambda w, a: {}, ok={"POST": frozenset({409})}),
    "auth.passkey_login_options": Route(lambda w: "/auth/passkey/options", {"POST": PUBLIC},
                                        data=lambda w, a: {}),
    "auth.passkey_login": Route(lambda w: "/auth/passkey/login", {"POST": PUBLIC}, data=lambda w, a: {},
                                ok={"POST": frozenset({400})}),
    "org.security": Route(lambda w: "/org/security", {"GET": ADMINS, "POST": ADMINS},
                          data=lambda w, a: {}),
    "org.reset_member_mfa": Route(
        lambda w: f"/org/members/{w.extra['legal_membership_a']}/reset-mfa",
        {"GET": ADMINS, "POST": ADMINS}, data=lambda w, a: {"reason": "Lost phone"}, target="a.buyer"),
    "org.members": Route(lambda w: "/org/members", {"GET": MEMBERS}),
    "org.invite": Route(lambda w: "/org/members/invite", {"GET": ADMINS, "POST": ADMINS},
                        data=lambda w, a: {"email": "new-colleague@x.example", "role": "admin"}),
    "org.change_role": Route(
        lambda w: f"/org/members/{w.extra['legal_membership_a']}/role", {"POST": ADMINS},
        data=lambda w, a: {"role": "assessor"}, target="a.buyer"),
    "org.remove_member": Route(
        lambda w: f"/org/members/{w.extra['legal_membership_a']}/remove",
        {"GET": ADMINS, "POST": ADMINS}, data=lambda w, a: {}, target="a.buyer"),
    "org.revoke_invitation": Route(
        lambda w: f"/org/invitations/{w['a'].colleague_invitation.id}/revoke",
        {"GET": ADMINS, "POST": ADMINS}, data=lambda w, a: {}, target="a.buyer"),
    "org.resend_invitation": Route(
        lambda w: f"/org/invitations/{w['a'].colleague_invitation.id}/resend", {"POST": ADMINS},
        data=lambda w, a: {}, target="a.buyer"),
    "org.audit_log": Route(lambda w: "/org/audit", {"GET": ADMINS}),
    "org.outbox": Route(lambda w: "/org/outbox", {"GET": ADMINS}),
    # --- outgoing webhooks (issue 19): administrators of buyer and vendor organisations; the
    # world's endpoints point at a documentation address, refused before any connection.
    "org.webhooks_list": Route(lambda w: "/org/webhooks", {"GET": ADMINS}),
    "org.new_webhook": Route(lambda w: "/org/webhooks/new", {"GET": ADMINS, "POST": ADMINS},
                             data=lambda w, a: {}, ok={"POST": frozenset({422})}),
    "org.edit_webhook": Route(
        lambda w: f"/org/webhooks/{w.extra.get('webhook_a', 0)}/edit", {"GET": ADMINS, "POST": ADMINS},
        data=lambda w, a: {}, target="a.buyer", ok={"GET": OK, "POST": frozenset({422})}),
    "org.toggle_webhook": Route(
        lambda w: f"/org/webhooks/{w.extra.get('webhook_a', 0)}/enabled", {"POST": ADMINS},
        data=lambda w, a: {}, target="a.buyer"),
    "org.delete_webhook": Route(
        lambda w: f"/org/webhooks/{w.extra.get('webhook_a', 0)}/delete", {"GET": ADMINS, "POST": ADMINS},
        data=lambda w, a: {}, target="a.buyer"),
    "org.webhook_secret": Route(
        lambda w: f"/org/webhooks/{w.extra.get('webhook_a', 0)}/secret", {"GET": ADMINS, "POST": ADMINS},
        data=lambda w, a: {"action": "reveal"}, target="a.buyer"),
    "org.test_webhook": Route(
        lambda w: f"/org/webhooks/{w.extra.get('webhook_a', 0)}/test", {"POST": ADMINS},
        data=lambda w, a: {}, target="a.buyer"),
    "org.webhook_deliveries": Route(
        lambda w: f"/org/webhooks/{w.extra.get('webhook_a', 0)}/deliveries", {"GET": ADMINS},
        target="a.buyer"),
    "org.replay_delivery": Route(
        lambda w: (f"/org/webhooks/{w.extra.get('webhook_a', 0)}/deliveries/"
                   f"{w.extra.get('webhook_delivery_a', 0)}/replay"), {"POST": ADMINS},
        data=lambda w, a: {}, target="a.buyer"),
    "org.switch": Route(lambda w: "/org/switch", {"POST": USER},
                        data=lambda w, a: {"org_id": w.org_of(a).id if a not in LINK_HOLDERS | {"anon"}
                                                   else 1}),
    "buyer.vendors": Route(lambda w: "/buyer/vendors", {"GET": BUYER_ALL}),
    "buyer.create_vendor": Route(lambda w: "/buyer/vendors/new",
                                 {"GET": BUYER_EDIT, "POST": BUYER_EDIT}, data=_vendor_form),
    "buyer.vendor_detail": Route(lambda w: f"/buyer/vendors/{w['a'].vendor.id}",
                                 {"GET": BUYER_ALL}, target="a.buyer"),
    "buyer.edit_vendor": Route(lambda w: f"/buyer/vendors/{w['a'].vendor.id}/edit",
                               {"GET": BUYER_EDIT, "POST": BUYER_EDIT}, data=_vendor_form,
                               target="a.buyer"),
    "buyer.invite_contact": Route(
        lambda w: f"/buyer/vendors/{w['a'].vendor.id}/invite",
        {"GET": BUYER_EDIT, "POST": BUYER_EDIT},
        data=lambda w, a: {"name": "New Contact", "email": "new@vendor.example"},
        target="a.buyer"),
    # Vendor A has an open assessment: archiving it is refused (409) on the confirmation's POST.
    "buyer.archive_vendor": Route(lambda w: f"/buyer/vendors/{w['a'].vendor.id}/archive",
                                  {"GET": BUYER_EDIT, "POST": BUYER_EDIT}, data=lambda w, a: {},
                                  target="a.buyer", ok={"POST": frozenset({409})}),
    "buyer.restore_vendor": Route(lambda w: f"/buyer/vendors/{w['a'].vendor.id}/restore",
                                  {"POST": BUYER_EDIT}, data=lambda w, a: {}, target="a.buyer"),
    "buyer.edit_contact": Route(
        lambda w: f"/buyer/vendors/{w['a'].vendor.id}/contacts/{w.extra.get('contact_a', 0)}/edit",
        {"GET": BUYER_EDIT, "POST": BUYER_EDIT},
        data=lambda w, a: {"name": "Renamed", "email": "link-a@vendor.example", "role": "DPO"},
        target="a.buyer"),
    "buyer.remove_contact": Route(
        lambda w: f"/buyer/vendors/{w['a'].vendor.id}/contacts/{w.extra.get('contact_a', 0)}/remove",
        {"GET": BUYER_EDIT, "POST": BUYER_EDIT}, data=lambda w, a: {}, target="a.buyer"),
    "buyer.resend_invitation": Route(
        lambda w: f"/buyer/vendors/{w['a'].vendor.id}/invitations/"
                  f"{w['a'].vendor_invitation.id}/resend",
        {"POST": BUYER_EDIT}, data=lambda w, a: {}, target="a.buyer"),
    "buyer.revoke_invitation": Route(
        lambda w: f"/buyer/vendors/{w['a'].vendor.id}/invitations/"
                  f"{w['a'].vendor_invitation.id}/revoke",
        {"GET": BUYER_EDIT, "POST": BUYER_EDIT}, data=lambda w, a: {}, target="a.buyer"),
    "supplier.assessments": Route(lambda w: "/vendor/assessments", {"GET": VENDOR}),
    "supplier.assessment": Route(lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}",
                               {"GET": VENDOR}, target="a.vendor", link=frozenset({"GET"})),
    "supplier.section": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/sections/main",
        {"GET": VENDOR, "POST": VENDOR}, data=lambda w, a: {"has_dpa": "yes"}, target="a.vendor",
        link=frozenset({"GET", "POST"})),
    "supplier.autosave": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/autosave", {"POST": VENDOR},
        data=lambda w, a: {"item_id": "has_dpa", "value": "yes"}, target="a.vendor",
        link=frozenset({"POST"})),
    "supplier.upload_evidence": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/items/docs/evidence",
        {"POST": VENDOR}, data=lambda w, a: {}, target="a.vendor", ok={"POST": frozenset({422})},
        link=frozenset({"POST"})),
    "supplier.download_evidence": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/evidence/"
                  f"{w.extra.get('evidence_a', 0)}",
        {"GET": VENDOR}, target="a.vendor", link=frozenset({"GET"})),
    "supplier.remove_evidence": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/evidence/"
                  f"{w.extra.get('evidence_a', 0)}/remove",
        {"GET": VENDOR, "POST": VENDOR}, data=lambda w, a: {}, target="a.vendor",
        link=frozenset({"GET", "POST"})),
    "supplier.evidence_dates": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/evidence/"
                  f"{w.extra.get('evidence_a', 0)}/dates",
        {"POST": VENDOR}, data=lambda w, a: {"expires_on": "2030-01-31"}, target="a.vendor",
        link=frozenset({"POST"})),
    "supplier.copy": Route(lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/copy",
                         {"GET": VENDOR, "POST": VENDOR}, data=lambda w, a: {}, target="a.vendor",
                         ok={"POST": frozenset({422})}),
    "supplier.spreadsheet": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/spreadsheet",
        {"GET": VENDOR}, target="a.vendor", link=frozenset({"GET"})),
    "supplier.spreadsheet_download": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/spreadsheet.xlsx",
        {"GET": VENDOR}, target="a.vendor", link=frozenset({"GET"})),
    "supplier.spreadsheet_upload": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/spreadsheet",
        {"POST": VENDOR}, data=lambda w, a: {}, target="a.vendor", ok={"POST": frozenset({422})},
        link=frozenset({"POST"})),
    "supplier.spreadsheet_apply": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/spreadsheet/apply",
        {"POST": VENDOR}, data=lambda w, a: {}, target="a.vendor", ok={"POST": frozenset({422})},
        link=frozenset({"POST"})),
    "supplier.submit": Route(lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/submit",
                           {"GET": VENDOR, "POST": VENDOR}, data=lambda w, a: {},
                           target="a.vendor", ok={"POST": frozenset({422})}, link=frozenset({"GET", "POST"})),
    "supplier.answer_clarification": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/clarifications/"
                  f"{w.extra.get('clarification_a', 0)}",
        {"POST": VENDOR}, data=lambda w, a: {"answer": "Here it is"}, target="a.vendor",
        link=frozenset({"POST"})),
    # Buyer review (the world's assessment is still with the vendor: review actions answer 409).
    "buyer.dashboard": Route(lambda w: "/buyer/assessments", {"GET": BUYER_ALL}),
    "buyer.new": Route(lambda w: "/buyer/assessments/new", {"GET": BUYER_EDIT, "POST": BUYER_EDIT},
                        data=lambda w, a: {}, ok={"POST": frozenset({422})}),
    "buyer.assessment": Route(lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}",
                               {"GET": BUYER_ALL}, target="a.buyer"),
    "buyer.section": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/sections/main",
        {"GET": BUYER_ALL}, target="a.buyer"),
    "buyer.refresh_results": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/refresh-results",
        {"POST": BUYER_ALL}, data=lambda w, a: {}, target="a.buyer"),
    "buyer.download_evidence": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/evidence/"
                  f"{w.extra.get('evidence_a', 0)}",
        {"GET": BUYER_ALL}, target="a.buyer"),
    "buyer.clarify": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/clarifications",
        {"POST": BUYER_EDIT}, data=lambda w, a: {"item_id": "has_dpa", "question": "Why?"},
        target="a.buyer", ok={"POST": frozenset({409})}),
    "buyer.review_evidence": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/evidence/"
                  f"{w.extra.get('evidence_a', 0)}",
        {"POST": BUYER_EDIT}, data=lambda w, a: {"state": "accepted"}, target="a.buyer",
        ok={"POST": frozenset({409})}),
    "buyer.override_item": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/overrides/item",
        {"POST": BUYER_EDIT}, data=lambda w, a: {"item_id": "has_dpa", "points": "1",
                                                 "comment": "Seen the DPA"},
        target="a.buyer", ok={"POST": frozenset({409})}),
    "buyer.override_finding": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/overrides/finding",
        {"POST": BUYER_EDIT}, data=lambda w, a: {"finding_id": "no_dpa", "severity": "low",
                                                 "comment": "Mitigated"},
        target="a.buyer", ok={"POST": frozenset({409})}),
    "buyer.add_finding": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/findings",
        {"POST": BUYER_EDIT}, data=lambda w, a: {"severity": "low", "title_en": "Manual"},
        target="a.buyer", ok={"POST": frozenset({409})}),
    "buyer.finding_state": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/findings/state",
        {"POST": BUYER_EDIT}, data=lambda w, a: {"finding_id": "no_dpa", "state": "closed"},
        target="a.buyer", ok={"POST": frozenset({303, 302, 422})}),  # the API world adds that finding
    "buyer.reopen": Route(lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/reopen",
                           {"GET": BUYER_EDIT, "POST": BUYER_EDIT}, data=lambda w, a: {},
                           target="a.buyer", ok={"POST": frozenset({409})}),
    "buyer.remind": Route(lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/remind",
                           {"POST": BUYER_EDIT}, data=lambda w, a: {}, target="a.buyer",
                           ok={"POST": frozenset({409})}),  # the world's assessment has no contact
    "buyer.cancel": Route(lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/cancel",
                           {"GET": BUYER_EDIT, "POST": BUYER_EDIT}, data=lambda w, a: {"reason": "Stopped"},
                           target="a.buyer"),
    "buyer.decide": Route(lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/decide",
                           {"GET": BUYER_EDIT, "POST": BUYER_EDIT}, data=lambda w, a: {},
                           target="a.buyer", ok={"POST": frozenset({422})}),
    "buyer.reassess": Route(lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/reassess",
                             {"POST": BUYER_EDIT}, data=lambda w, a: {}, target="a.buyer",
                             ok={"POST": frozenset({422})}),
    # Remediation (the world's assessment is undecided; its request waits for the vendor).
    "buyer.request_remediation": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/remediation",
        {"POST": BUYER_EDIT}, data=lambda w, a: {"finding_id": "manual-rem"}, target="a.buyer",
        ok={"POST": frozenset({409})}),
    "buyer.review_remediation": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/remediation/"
                  f"{w.extra.get('remediation_a', 0)}",
        {"POST": BUYER_EDIT}, data=lambda w, a: {"outcome": "accept", "reason": "Checked"},
        target="a.buyer", ok={"POST": frozenset({409})}),
    "buyer.remediation_file": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/remediation/"
                  f"{w.extra.get('remediation_a', 0)}/files/{w.extra.get('remediation_file_a', 0)}",
        {"GET": BUYER_ALL}, target="a.buyer"),
    "supplier.respond_remediation": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/remediation/"
                  f"{w.extra.get('remediation_a', 0)}",
        {"POST": VENDOR}, data=lambda w, a: {"kind": "fix", "text": "Fixed"}, target="a.vendor",
        ok={"POST": frozenset({303})}),
    "supplier.remediation_file": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/remediation/"
                  f"{w.extra.get('remediation_a', 0)}/files/{w.extra.get('remediation_file_a', 0)}",
        {"GET": VENDOR}, target="a.vendor"),
    # Reports: the assessment's pinned questionnaire may be a test-only one (409 then).
    "buyer.assessment_report": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/report.pdf?locale=fr",
        {"GET": BUYER_ALL}, target="a.buyer", ok={"GET": frozenset({200, 409})}),
    "buyer.assessment_export": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/export.xlsx",
        {"GET": BUYER_ALL}, target="a.buyer", ok={"GET": frozenset({200, 409})}),
    "buyer.vendor_register_export": Route(lambda w: "/buyer/vendors/export.csv",
                                               {"GET": BUYER_ALL}),
    "public.verify": Route(lambda w: "/verify", {"GET": PUBLIC, "POST": PUBLIC},
                               data=lambda w, a: {}, ok={"POST": frozenset({422})}),
    "org.certificate": Route(lambda w: "/org/certificate",
                                    {"GET": BUYER_ADMIN, "POST": BUYER_ADMIN},
                                    data=lambda w, a: {}, ok={"POST": frozenset({422})}),
    "org.sso": Route(lambda w: "/org/sso", {"GET": ADMINS, "POST": ADMINS},
                     data=lambda w, a: {}, ok={"POST": frozenset({422})}),
    "org.remove_certificate": Route(lambda w: "/org/certificate/remove",
                                           {"GET": BUYER_ADMIN, "POST": BUYER_ADMIN},
                                           data=lambda w, a: {}),
    # --- evidence packs (issue 7) ---
    # Requested packs wait on a fake RQ queue (tests/integration/authz/conftest.py); the world's
    # packs are finished, so a retry answers 409.
    "buyer.pack_assessment": Route(
        lambda w: f"/buyer/packs/assessments/{w.extra.get('assessment_a', 0)}",
        {"POST": BUYER_ALL}, data=lambda w, a: {"locale": "fr"}, target="a.buyer"),
    "buyer.pack_vendor": Route(lambda w: f"/buyer/packs/vendors/{w['a'].vendor.id}",
                                    {"POST": BUYER_ALL}, data=lambda w, a: {"locale": "en"},
                                    target="a.buyer"),
    "buyer.pack_status": Route(lambda w: f"/buyer/packs/{w.extra.get('pack_a', 0)}",
                                    {"GET": BUYER_ALL}, target="a.buyer"),
    "buyer.pack_progress": Route(
        lambda w: f"/buyer/packs/{w.extra.get('pack_a', 0)}/status.json", {"GET": BUYER_ALL},
        target="a.buyer"),
    "buyer.pack_download": Route(
        lambda w: f"/buyer/packs/{w.extra.get('pack_a', 0)}/download", {"GET": BUYER_ALL},
        target="a.buyer"),
    "buyer.pack_retry": Route(lambda w: f"/buyer/packs/{w.extra.get('pack_a', 0)}/retry",
                                   {"POST": BUYER_ALL}, data=lambda w, a: {}, target="a.buyer",
                                   ok={"POST": frozenset({409})}),
    # --- DPA building, publishing and public pages (issue 8) ---
    # Vendor A has published v1 and v2 (add_dpa_relation_world in tests/factories/world.py);
    # vendor routes act on the active organisation only, so they have no cross-tenant target.
    "dpa.latest": Route(lambda w: f"/dpa/{w.extra.get('dpa_slug_a', 'none')}", {"GET": PUBLIC}),
    "dpa.version": Route(lambda w: f"/dpa/{w.extra.get('dpa_slug_a', 'none')}/v1",
                         {"GET": PUBLIC}),
    "dpa.version_pdf": Route(lambda w: f"/dpa/{w.extra.get('dpa_slug_a', 'none')}/v1.pdf?locale=en",
                             {"GET": PUBLIC}),
    "dpa.versions": Route(lambda w: f"/dpa/{w.extra.get('dpa_slug_a', 'none')}/versions",
                          {"GET": PUBLIC}),
    "dpa.diff": Route(lambda w: f"/dpa/{w.extra.get('dpa_slug_a', 'none')}/diff?from=1&to=2",
                      {"GET": PUBLIC}),
    "dpa.subprocessors": Route(lambda w: f"/dpa/{w.extra.get('dpa_slug_a', 'none')}/subprocessors",
                               {"GET": PUBLIC}),
    "dpa.subprocessors_atom": Route(
        lambda w: f"/dpa/{w.extra.get('dpa_slug_a', 'none')}/subprocessors.atom", {"GET": PUBLIC}),
    "dpa.subprocessors_json": Route(
        lambda w: f"/dpa/{w.extra.get('dpa_slug_a', 'none')}/subprocessors.json", {"GET": PUBLIC}),
    # Answering by link (no account): the link itself is public (a closed link answers 404/409/410
    # with its own page); the code and account pages are for the link's holder only.
    "supplier.link_open": Route(lambda w: f"/vendor/link/{w.extra.get('link_token_a', 'x')}",
                                {"GET": PUBLIC}),
    "supplier.link_code": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/link/code",
        {"GET": HOLDER_ONLY, "POST": HOLDER_ONLY}, data=lambda w, a: {}, link=frozenset({"GET", "POST"})),
    "supplier.link_account": Route(
        lambda w: f"/vendor/assessments/{w.extra.get('assessment_a', 0)}/link/account",
        {"POST": HOLDER_ONLY}, data=lambda w, a: {}, link=frozenset({"POST"})),
    "buyer.revoke_link": Route(
        lambda w: f"/buyer/assessments/{w.extra.get('assessment_a', 0)}/links/"
                  f"{w.extra.get('link_a', 0)}/revoke",
        {"GET": BUYER_EDIT, "POST": BUYER_EDIT}, data=lambda w, a: {}, target="a.buyer"),
    "supplier.dpa_manage": Route(lambda w: "/vendor/dpa", {"GET": VENDOR}),
    "supplier.dpa_draft": Route(lambda w: "/vendor/dpa/draft", {"GET": VENDOR, "POST": VENDOR},
                       data=lambda w, a: {}),
    "supplier.dpa_preview": Route(lambda w: "/vendor/dpa/preview", {"GET": VENDOR}),
    "supplier.dpa_public_preview": Route(lambda w: "/vendor/dpa/preview/public", {"GET": VENDOR}),
    "supplier.dpa_preview_pdf": Route(lambda w: "/vendor/dpa/preview.pdf", {"GET": VENDOR}),
    "supplier.dpa_publish": Route(lambda w: "/vendor/dpa/publish", {"POST": VENDOR},
                         data=lambda w, a: {"confirm": "y"}),
    "supplier.dpa_settings": Route(lambda w: "/vendor/dpa/settings", {"POST": VENDOR},
                          data=lambda w, a: {"slug": f"matrix-{a.replace('.', '-')}",
                                             "objection_days": "30"}),
    # --- DPA subscriptions, acceptance and objections (issue 8) ---
    # Public subscription links; the world's tokens come from tests/factories/world.py.
    "dpa.subscribe": Route(
        lambda w: f"/dpa/{w.extra.get('dpa_slug_a', 'none')}/subscribe",
        {"GET": PUBLIC, "POST": PUBLIC},
        data=lambda w, a: {"email": "reader@example.org", "language": "fr"}),
    "dpa.confirm_subscription": Route(
        lambda w: f"/dpa/subscriptions/{w.extra.get('dpa_confirm_token', 'x')}/confirm",
        {"GET": PUBLIC, "POST": PUBLIC}, data=lambda w, a: {}),
    "dpa.unsubscribe": Route(
        lambda w: f"/dpa/subscriptions/{w.extra.get('dpa_unsubscribe_token', 'x')}/unsubscribe",
        {"GET": PUBLIC, "POST": PUBLIC}, data=lambda w, a: {}),
    # Buyer admins and legal members accept and object for the organisation; assessors only read.
    "buyer.dpa_accepted": Route(lambda w: "/buyer/dpa", {"GET": BUYER_ALL}),
    "buyer.dpa_accept": Route(
        lambda w: f"/buyer/dpa/{w.extra.get('dpa_slug_a', 'none')}/v2/accept",
        {"GET": DPA_SIGNERS, "POST": DPA_SIGNERS},
        data=lambda w, a: {"signer_name": "Ann Signer", "signer_role": "General counsel",
                           "authorised": "y", "version_sha256": w.extra.get("dpa_v2_sha_a", ""),
                           "controller_name": "Buyer A SA", "controller_address": "1 rue A, Lyon",
                           "contact_name": "Ann Signer, counsel",
                           "contact_email": "ann@buyer-a.example"}),
    # The accepted copy: the version with Annex I completed by the buyer that accepted it.
    "buyer.dpa_accepted_copy": Route(
        lambda w: f"/buyer/dpa/acceptances/{w.extra.get('dpa_acceptance_a', 0)}/copy",
        {"GET": BUYER_ALL}, target="a.buyer"),
    "buyer.dpa_certificate": Route(
        lambda w: f"/buyer/dpa/acceptances/{w.extra.get('dpa_acceptance_a', 0)}/certificate.pdf",
        {"GET": BUYER_ALL}, target="a.buyer"),
    "buyer.dpa_raise_objection": Route(
        lambda w: f"/buyer/dpa/acceptances/{w.extra.get('dpa_acceptance_a', 0)}/objections/v2",
        {"GET": DPA_SIGNERS, "POST": DPA_SIGNERS},
        data=lambda w, a: {"reasons": "Outside the EEA"}, target="a.buyer"),
    "buyer.dpa_objection": Route(
        lambda w: f"/buyer/dpa/objections/{w.extra.get('dpa_objection_a', 0)}",
        {"GET": BUYER_ALL}, target="a.buyer"),
    "supplier.dpa_objections": Route(lambda w: "/vendor/dpa/objections", {"GET": VENDOR}),
    "supplier.dpa_objection": Route(
        lambda w: f"/vendor/dpa/objections/{w.extra.get('dpa_objection_a', 0)}",
        {"GET": VENDOR, "POST": VENDOR},
        data=lambda w, a: {"response": "We keep it", "outcome": "maintained"}, target="a.vendor"),
    "buyer.dpa_attach": Route(
        lambda w: f"/buyer/dpa/assessments/{w.extra.get('assessment_a', 0)}/attach",
        {"GET": BUYER_ALL, "POST": BUYER_ALL},
        data=lambda w, a: {"version_id": w.extra.get("dpa_v1_id_a", 0)}, target="a.buyer"),
    # --- proposed sub-processor changes (issue 14) ---
    # Vendor A's v3 is announced (general authorisation): proposing again answers 409, buyers
    # may not authorise under a general authorisation (409); withdrawing works.
    "supplier.dpa_proposals": Route(lambda w: "/vendor/dpa/changes", {"GET": VENDOR}),
    "supplier.dpa_propose": Route(
        lambda w: f"/vendor/dpa/versions/{w.extra.get('dpa_v2_id_a', 0)}/propose",
        {"POST": VENDOR}, data=lambda w, a: {"confirm": "y"}, target="a.vendor",
        ok={"POST": frozenset({409})}),
    "supplier.dpa_proposal": Route(
        lambda w: f"/vendor/dpa/changes/{w.extra.get('dpa_proposal_a', 0)}", {"GET": VENDOR},
        target="a.vendor"),
    "supplier.dpa_withdraw": Route(
        lambda w: f"/vendor/dpa/changes/{w.extra.get('dpa_proposal_a', 0)}/withdraw",
        {"POST": VENDOR}, data=lambda w, a: {"reason": "Not needed after all"},
        target="a.vendor"),
    "buyer.dpa_authorise": Route(
        lambda w: f"/buyer/dpa/acceptances/{w.extra.get('dpa_acceptance_a', 0)}/authorisations/v3",
        {"GET": DPA_SIGNERS, "POST": DPA_SIGNERS},
        data=lambda w, a: {"decision": "authorised"}, target="a.buyer",
        ok={"POST": frozenset({409})}),
    "supplier.dpa_prefill": Route(
        lambda w: f"/vendor/dpa/assessments/{w.extra.get('dpa_art28_assessment_a', 0)}/prefill",
        {"GET": VENDOR, "POST": VENDOR}, data=lambda w, a: {}, target="a.vendor"),
    # --- the compliance kit (issue 21): vendor A's register version, hand-kept controller,
    # buyer A as controller and published charter come from tests/factories/world.py.
    "supplier.kit_register": Route(lambda w: "/vendor/kit", {"GET": VENDOR}),
    "supplier.kit_history": Route(lambda w: "/vendor/kit/register/history", {"GET": VENDOR}),
    "supplier.kit_version": Route(
        lambda w: f"/vendor/kit/register/versions/{w.extra.get('kit_version_a', 0)}",
        {"GET": VENDOR}, target="a.vendor"),
    "supplier.kit_export": Route(
        lambda w: f"/vendor/kit/register/versions/{w.extra.get('kit_version_a', 0)}.xlsx",
        {"GET": VENDOR}, target="a.vendor"),
    "supplier.kit_pdf": Route(
        lambda w: f"/vendor/kit/register/versions/{w.extra.get('kit_version_a', 0)}.pdf",
        {"GET": VENDOR}, target="a.vendor"),
    "supplier.kit_controller_new": Route(
        lambda w: "/vendor/kit/controllers/new", {"GET": VENDOR, "POST": VENDOR},
        data=lambda w, a: {"name": "Matrix Controller SA", "address": "1 rue M, Paris"}),
    "supplier.kit_controller_edit": Route(
        lambda w: f"/vendor/kit/controllers/{w.extra.get('kit_controller_a', 0)}/edit",
        {"GET": VENDOR, "POST": VENDOR},
        data=lambda w, a: {"name": "Hand Controller SA", "address": "2 rue M, Paris"},
        target="a.vendor"),
    "supplier.kit_controller_remove": Route(
        lambda w: f"/vendor/kit/controllers/{w.extra.get('kit_controller_a', 0)}/remove",
        {"GET": VENDOR, "POST": VENDOR}, data=lambda w, a: {}, target="a.vendor"),
    "supplier.kit_buyer_edit": Route(
        lambda w: f"/vendor/kit/buyers/{w['a'].buyer.id}/edit", {"GET": VENDOR, "POST": VENDOR},
        data=lambda w, a: {"name": "Buyer A SA", "address": "1 rue A, Lyon"}, target="a.vendor"),
    "supplier.kit_buyer_remove": Route(
        lambda w: f"/vendor/kit/buyers/{w['a'].buyer.id}/remove",
        {"GET": VENDOR, "POST": VENDOR}, data=lambda w, a: {}, target="a.vendor"),
    "supplier.kit_security": Route(lambda w: "/vendor/kit/security", {"GET": VENDOR}),
    "supplier.kit_security_pdf": Route(lambda w: "/vendor/kit/security.pdf", {"GET": VENDOR},
                                       ok={"GET": frozenset({200, 409})}),
    "supplier.kit_charter": Route(lambda w: "/vendor/kit/charter", {"GET": VENDOR}),
    # Vendor A's charter is published and unchanged (409); vendor B has no DPA answers (409).
    "supplier.kit_charter_publish": Route(
        lambda w: "/vendor/kit/charter/publish", {"POST": VENDOR}, data=lambda w, a: {"confirm": "y"},
        ok={"POST": frozenset({409})}),
    "supplier.kit_register_docx": Route(
        lambda w: f"/vendor/kit/register/versions/{w.extra.get('kit_version_a', 0)}.docx",
        {"GET": VENDOR}, target="a.vendor"),
    # Vendor B has no DPA answers: its DOCX exports answer 409 with a message.
    "supplier.kit_docx": Route(lambda w: "/vendor/kit/charter.docx", {"GET": VENDOR},
                               ok={"GET": frozenset({200, 409})}),
    # Buyer A attaches vendor A's published charter to its assessment (issue 21, point 5);
    # detaching with nothing attached sends back to the assessment.
    "buyer.kit_charter_attach": Route(
        lambda w: f"/buyer/kit/assessments/{w.extra.get('assessment_a', 0)}/charter/attach",
        {"GET": BUYER_ALL, "POST": BUYER_ALL},
        data=lambda w, a: {"version_id": w.extra.get("kit_charter_a", 0)}, target="a.buyer"),
    "buyer.kit_charter_detach": Route(
        lambda w: f"/buyer/kit/assessments/{w.extra.get('assessment_a', 0)}/charter/detach",
        {"GET": BUYER_ALL, "POST": BUYER_ALL}, data=lambda w, a: {}, target="a.buyer"),
    "dpa.charter": Route(lambda w: f"/dpa/{w.extra.get('dpa_slug_a', 'none')}/charter",
                         {"GET": PUBLIC}),
    "dpa.charter_pdf": Route(lambda w: f"/dpa/{w.extra.get('dpa_slug_a', 'none')}/charter.pdf",
                             {"GET": PUBLIC}),
}


def _api(path: Callable[[Any], str], allow: dict[str, Any], scope: dict[str, str] | str = "read",
         **kwargs: Any) -> Route:
    """An API route: driven with a bearer token of the actor at each scope (`scope`: the least per method)."""
    return Route(path, allow, api=scope if isinstance(scope, str) else ",".join(
        f"{m}={s}" for m, s in scope.items()), **kwargs)


def api_scope(route: Route, method: str) -> str:
    """Return the least scope a method of an API route needs."""
    assert route.api is not None
    if "=" not in route.api:
        return route.api
    return dict(part.split("=") for part in route.api.split(","))[method]


def _assessment_a(w: Any) -> int:
    return int(w.extra.get("assessment_a", 0))


API_MATRIX: dict[str, Route] = {
    "api-docs.openapi_json": Route(lambda w: "/api/v1/openapi.json", {"GET": PUBLIC}),
    "api_reference.reference": Route(lambda w: "/api/v1/docs", {"GET": PUBLIC}),
    "org.tokens": Route(lambda w: "/org/tokens", {"GET": MEMBERS, "POST": MEMBERS},
                        data=lambda w, a: {"name": "Matrix", "scope": "read", "kind": "personal",
                                           "expires": "30"}),
    # Each actor revokes its own personal token (test_access puts its id in world.extra); another
    # user's token answers 404 (tests/integration/api/test_tokens.py).
    "org.revoke_token": Route(lambda w: f"/org/tokens/{w.extra.get('web_token', 0)}/revoke",
                              {"GET": MEMBERS, "POST": MEMBERS}, data=lambda w, a: {}),
    "api_organisation.OrganisationView": _api(lambda w: "/api/v1/organisation", {"GET": MEMBERS}),
    "api_organisation.MembersView": _api(lambda w: "/api/v1/organisation/members", {"GET": MEMBERS}),
    "api_vendors.VendorsView": _api(
        lambda w: "/api/v1/vendors", {"GET": BUYER_ALL, "POST": BUYER_EDIT},
        {"GET": "read", "POST": "write"}, data=lambda w, a: {"legal_name": "Matrix API Vendor"},
        ok={"POST": frozenset({201})}),
    "api_vendors.VendorView": _api(
        lambda w: f"/api/v1/vendors/{w['a'].vendor.id}",
        {"GET": BUYER_ALL, "PATCH": BUYER_EDIT, "DELETE": BUYER_EDIT},
        {"GET": "read", "PATCH": "write", "DELETE": "write"}, data=lambda w, a: {"services": "Hosting"},
        # vendor A has an open assessment: archiving it is refused with 409
        target="a.buyer", ok={"PATCH": frozenset({412}), "DELETE": frozenset({409})}),
    "api_vendors.RestoreVendorView": _api(
        lambda w: f"/api/v1/vendors/{w['a'].vendor.id}/restore", {"POST": BUYER_EDIT}, "write",
        target="a.buyer"),
    "api_vendors.ContactView": _api(
        lambda w: f"/api/v1/vendors/{w['a'].vendor.id}/contacts/{w.extra.get('contact_a', 0)}",
        {"GET": BUYER_ALL, "PATCH": BUYER_EDIT, "DELETE": BUYER_EDIT},
        {"GET": "read", "PATCH": "write", "DELETE": "write"}, data=lambda w, a: {"role": "DPO"},
        target="a.buyer", ok={"PATCH": frozenset({412}), "DELETE": frozenset({204})}),
    "api_vendors.ContactsView": _api(
        lambda w: f"/api/v1/vendors/{w['a'].vendor.id}/contacts", {"GET": BUYER_ALL, "POST": BUYER_EDIT},
        {"GET": "read", "POST": "write"}, data=lambda w, a: {"name": "New", "email": "new@vendor.example"},
        target="a.buyer", ok={"POST": frozenset({201})}),
    "api_vendors.InvitationsView": _api(lambda w: f"/api/v1/vendors/{w['a'].vendor.id}/invitations",
                                        {"GET": BUYER_ALL}, target="a.buyer"),
    "api_vendors.ResendInvitationView": _api(
        lambda w: f"/api/v1/vendors/{w['a'].vendor.id}/invitations/{w['a'].vendor_invitation.id}/resend",
        {"POST": BUYER_EDIT}, "write", target="a.buyer"),
    "api_vendors.RevokeInvitationView": _api(
        lambda w: f"/api/v1/vendors/{w['a'].vendor.id}/invitations/{w['a'].vendor_invitation.id}/revoke",
        {"POST": BUYER_EDIT}, "write", target="a.buyer"),
    "api_questionnaires.QuestionnairesView": _api(lambda w: "/api/v1/questionnaires", {"GET": BUYER_ALL}),
    "api_questionnaires.QuestionnaireView": _api(
        lambda w: "/api/v1" + _questionnaire_path(w), {"GET": BUYER_ALL}, ok={"GET": frozenset({200, 404})}),
    "api_assessments.AssessmentsView": _api(
        lambda w: "/api/v1/assessments", {"GET": BUYER_ALL, "POST": BUYER_EDIT},
        {"GET": "read", "POST": "write"}, data=lambda w, a: {
            "vendor_id": w["a"].vendor.id, "questionnaire_id": "x", "questionnaire_version": "1",
            "contact_ids": []}, ok={"POST": frozenset({422})}),
    "api_assessments.AssessmentView": _api(lambda w: f"/api/v1/assessments/{_assessment_a(w)}",
                                           {"GET": BUYER_ALL}, target="a.buyer"),
    "api_assessments.FindingsView": _api(lambda w: f"/api/v1/assessments/{_assessment_a(w)}/findings",
                                         {"GET": BUYER_ALL}, target="a.buyer"),
    "api_assessments.FindingView": _api(
        lambda w: f"/api/v1/assessments/{_assessment_a(w)}/findings/{w.extra.get('finding_a', 0)}",
        {"GET": BUYER_ALL, "PATCH": BUYER_EDIT}, {"GET": "read", "PATCH": "write"},
        data=lambda w, a: {"state": "closed"}, target="a.buyer", ok={"PATCH": frozenset({412})}),
    "api_answering.VendorAssessmentsView": _api(lambda w: "/api/v1/vendor/assessments", {"GET": VENDOR}),
    "api_answering.VendorAssessmentView": _api(
        lambda w: f"/api/v1/vendor/assessments/{_assessment_a(w)}", {"GET": VENDOR}, target="a.vendor"),
    "api_answering.AnswerView": _api(
        lambda w: f"/api/v1/vendor/assessments/{_assessment_a(w)}/answers/has_dpa", {"PUT": VENDOR},
        "write", data=lambda w, a: {"value": "yes", "version": 0}, target="a.vendor",
        ok={"PUT": frozenset({200, 409})}),
    "api_answering.SubmitView": _api(
        lambda w: f"/api/v1/vendor/assessments/{_assessment_a(w)}/submit", {"POST": VENDOR}, "write",
        data=lambda w, a: {"name": "Contact A", "role": "DPO", "statement": "True and complete"},
        target="a.vendor", ok={"POST": frozenset({200, 422})}),
    # An assessment's life through the API (the world's assessment is still with the vendor: decisions and
    # new clarifications answer 409; its remediation request waits for the vendor).
    "api_lifecycle.RemindView": _api(
        lambda w: f"/api/v1/assessments/{_assessment_a(w)}/remind", {"POST": BUYER_EDIT}, "write",
        data=lambda w, a: {}, target="a.buyer", ok={"POST": frozenset({409})}),  # sent to no contact
    "api_lifecycle.CancelView": _api(
        lambda w: f"/api/v1/assessments/{_assessment_a(w)}/cancel", {"POST": BUYER_EDIT}, "write",
        data=lambda w, a: {"reason": "Project stopped"}, target="a.buyer", ok={"POST": frozenset({200})}),
    "api_lifecycle.DecisionView": _api(
        lambda w: f"/api/v1/assessments/{_assessment_a(w)}/decision", {"GET": BUYER_ALL, "POST": BUYER_EDIT},
        {"GET": "read", "POST": "write"}, data=lambda w, a: {"decision": "approved"}, target="a.buyer",
        ok={"POST": frozenset({409})}),
    "api_lifecycle.ClarificationsView": _api(
        lambda w: f"/api/v1/assessments/{_assessment_a(w)}/clarifications",
        {"GET": BUYER_ALL, "POST": BUYER_EDIT}, {"GET": "read", "POST": "write"},
        data=lambda w, a: {"item_id": "has_dpa", "question": "Which DPA?"}, target="a.buyer",
        ok={"POST": frozenset({409})}),
    "api_lifecycle.RemediationsView": _api(
        lambda w: f"/api/v1/assessments/{_assessment_a(w)}/remediation",
        {"GET": BUYER_ALL, "POST": BUYER_EDIT}, {"GET": "read", "POST": "write"},
        data=lambda w, a: {"finding_id": "no_dpa"}, target="a.buyer", ok={"POST": frozenset({409})}),
    "api_lifecycle.RemediationView": _api(
        lambda w: f"/api/v1/assessments/{_assessment_a(w)}/remediation/{w.extra.get('remediation_a', 0)}",
        {"GET": BUYER_ALL}, target="a.buyer"),
    "api_lifecycle.RemediationReviewView": _api(
        lambda w: f"/api/v1/assessments/{_assessment_a(w)}/remediation/{w.extra.get('remediation_a', 0)}"
                  "/review", {"POST": BUYER_EDIT}, "write",
        data=lambda w, a: {"outcome": "accept", "reason": "Checked"}, target="a.buyer",
        ok={"POST": frozenset({409})}),
    "api_answering.VendorClarificationsView": _api(
        lambda w: f"/api/v1/vendor/assessments/{_assessment_a(w)}/clarifications", {"GET": VENDOR},
        target="a.vendor"),
    "api_answering.ClarificationAnswerView": _api(
        lambda w: f"/api/v1/vendor/assessments/{_assessment_a(w)}/clarifications/"
                  f"{w.extra.get('clarification_a', 0)}/answer", {"POST": VENDOR}, "write",
        data=lambda w, a: {"answer": "Signed in 2024."}, target="a.vendor"),
    "api_answering.VendorRemediationsView": _api(
        lambda w: f"/api/v1/vendor/assessments/{_assessment_a(w)}/remediation", {"GET": VENDOR},
        target="a.vendor"),
    "api_answering.RemediationResponseView": _api(
        lambda w: f"/api/v1/vendor/assessments/{_assessment_a(w)}/remediation/"
                  f"{w.extra.get('remediation_a', 0)}/respond", {"POST": VENDOR}, "write",
        data=lambda w, a: {"kind": "fix", "text": "MFA is on."}, target="a.vendor"),
    # Reports and packs: the same rules as the web downloads (every buyer member); requesting a pack
    # writes, so it needs a write token. The world's packs are finished: a retry answers 409.
    "api_reports.ReportView": _api(
        lambda w: f"/api/v1/assessments/{_assessment_a(w)}/report?locale=fr", {"GET": BUYER_ALL},
        target="a.buyer", ok={"GET": frozenset({200, 409})}),
    "api_reports.PacksView": _api(
        lambda w: "/api/v1/packs", {"POST": BUYER_ALL}, "write",
        data=lambda w, a: {"assessment_id": _assessment_a(w), "locale": "fr"}, target="a.buyer",
        ok={"POST": frozenset({202})}),
    "api_reports.PackView": _api(lambda w: f"/api/v1/packs/{w.extra.get('pack_a', 0)}",
                                 {"GET": BUYER_ALL}, target="a.buyer"),
    "api_reports.PackDownloadView": _api(lambda w: f"/api/v1/packs/{w.extra.get('pack_a', 0)}/download",
                                         {"GET": BUYER_ALL}, target="a.buyer"),
    "api_reports.PackRetryView": _api(
        lambda w: f"/api/v1/packs/{w.extra.get('pack_a', 0)}/retry", {"POST": BUYER_ALL}, "write",
        target="a.buyer", ok={"POST": frozenset({409})}),
    "api_exports.RegisterExportView": _api(lambda w: "/api/v1/exports/vendors?format=xlsx",
                                           {"GET": BUYER_ALL}),
    "api_exports.AssessmentExportView": _api(
        lambda w: f"/api/v1/exports/assessments/{_assessment_a(w)}?format=csv&sheet=findings",
        {"GET": BUYER_ALL}, target="a.buyer", ok={"GET": frozenset({200, 409})}),
    # A vendor organisation's own DPA: vendor B has published none (404 for one version).
    "api_dpa.VersionsView": _api(lambda w: "/api/v1/dpa/versions", {"GET": VENDOR}),
    "api_dpa.VersionView": _api(lambda w: "/api/v1/dpa/versions/1", {"GET": VENDOR},
                                ok={"GET": frozenset({200, 404})}),
    "api_dpa.SubprocessorsView": _api(lambda w: "/api/v1/dpa/subprocessors", {"GET": VENDOR},
                                      ok={"GET": frozenset({200, 404})}),
    # Webhooks: administrators with an admin token; the world's endpoint and the one a POST names point
    # at a documentation address, refused before any connection (422 for a new endpoint).
    "api_webhooks.EndpointsView": _api(
        lambda w: "/api/v1/webhooks", {"GET": ADMINS, "POST": ADMINS}, "admin",
        data=lambda w, a: {"url": "https://203.0.113.10/hook", "events": ["assessment.sent"]},
        ok={"POST": frozenset({422})}),
    "api_webhooks.EndpointView": _api(
        lambda w: f"/api/v1/webhooks/{w.extra.get('webhook_a', 0)}",
        {"GET": ADMINS, "PATCH": ADMINS, "DELETE": ADMINS}, "admin",
        data=lambda w, a: {"enabled": False}, target="a.buyer",
        ok={"PATCH": frozenset({412}), "DELETE": frozenset({204})}),
    "api_webhooks.DeliveriesView": _api(
        lambda w: f"/api/v1/webhooks/{w.extra.get('webhook_a', 0)}/deliveries", {"GET": ADMINS}, "admin",
        target="a.buyer"),
    "api_webhooks.ReplayView": _api(
        lambda w: (f"/api/v1/webhooks/{w.extra.get('webhook_a', 0)}/deliveries/"
                   f"{w.extra.get('webhook_delivery_a', 0)}/replay"), {"POST": ADMINS}, "admin",
        target="a.buyer", ok={"POST": frozenset({201})}),
}
MATRIX.update(API_MATRIX)

SCOPES = ("read", "write", "admin")
SCOPE_RANK = {scope: rank for rank, scope in enumerate(SCOPES)}


def expected(route: Route, method: str, actor: str, scope: str | None = None) -> str | int:
    """Return "ok", "login" or a status code for one case (API routes: 401 for no token, 403 for a
    scope below the route's)."""
    allow = route.allow[method]
    if actor in LINK_HOLDERS:
        if actor == "a.link" and method in route.link:
            return "ok"
        actor = "anon"  # outside its one assessment a link is nothing
    if allow == HOLDER_ONLY:
        return "login" if actor == "anon" else 403
    if route.api is not None:
        if actor == "anon":
            return 401
        if role_of(actor) not in allow or SCOPE_RANK[scope or "read"] < SCOPE_RANK[api_scope(route, method)]:
            return 403
    if actor == "anon":
        return "ok" if allow == PUBLIC else "login"
    if allow in (PUBLIC, USER):
        return route.override.get("user", "ok")
    if role_of(actor) not in allow:
        return 403
    org = "buyer" if role_of(actor).startswith("buyer") else "vendor"
    if route.target and route.target != f"{actor.split('.')[0]}.{org}":
        return 404
    return "ok"


def cases() -> list[tuple[str, str, str, str | None]]:
    """Expand the matrix into (endpoint, method, actor, token scope) cases; API routes take every scope."""
    return [(endpoint, method, actor, scope) for endpoint, route in MATRIX.items()
            for method in route.allow for actor in ACTORS
            for scope in (_scopes(route, method)
                          if route.api is not None and actor not in LINK_HOLDERS | {"anon"} else (None,))]


def _scopes(route: Route, method: str) -> tuple[str, ...]:
    """Return the scopes to drive an API method with: the least it needs, and the one below (403)."""
    rank = SCOPE_RANK[api_scope(route, method)]
    return SCOPES[max(0, rank - 1):rank + 1]
