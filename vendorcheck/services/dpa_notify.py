"""E-mails about published DPAs: subscriptions (double opt-in), change notices, objection mails.

Everything here queues outbox rows in the caller's transaction; the caller commits, then
dispatches. Art. 28(2) GDPR: under a general written authorisation the processor informs the
controller of intended changes of sub-processors, giving it the opportunity to object.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any

from babel import dates as babel_dates
from flask import current_app, has_request_context, render_template
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import (
    BadData,
    BadSignature,
    SignatureExpired,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)
from sqlalchemy import select

from vendorcheck import audit, mail
from vendorcheck.agreement.diff import SUBPROCESSOR_FIELDS, SubprocessorChanges, subprocessor_changes
from vendorcheck.config import secret_keys
from vendorcheck.extensions import db
from vendorcheck.models import Membership, OutboxMessage, Role, User, utcnow
from vendorcheck.models.dpa import DpaProfile, DpaVersion
from vendorcheck.models.dpa_relations import DpaAcceptance, DpaObjection, DpaSubscription
from vendorcheck.services.errors import DomainError

if TYPE_CHECKING:
    from vendorcheck.models.dpa_changes import DpaChangeOutcome, DpaChangeProposal

CONFIRM_SALT = "vendorcheck dpa subscription confirm"
UNSUBSCRIBE_SALT = "vendorcheck dpa unsubscribe"
CONFIRM_MAX_AGE = timedelta(days=7)
# Buyer roles that speak for the organisation on contracts: they get notices and may act on them.
CONTRACT_ROLES = (Role.ADMIN, Role.LEGAL)
NOTICE_TEMPLATES = ("dpa_subprocessor_change", "dpa_new_version", "dpa_change_withdrawn")


class SubscriptionLinkInvalid(DomainError):
    status = 400
    default = _l("This link is not valid. Check that you copied the whole address, "
                 "or subscribe again from the vendor's sub-processor page.")


class SubscriptionLinkExpired(DomainError):
    status = 400
    default = _l("This confirmation link has expired. Subscribe again from the vendor's "
                 "sub-processor page to receive a new one.")


def outcome_labels() -> dict[str, Any]:
    """Return the words for each objection outcome (lazy, in the active language)."""
    return {
        "change_withdrawn": _l("Change withdrawn"),
        "alternative_offered": _l("Alternative offered"),
        "contract_terminated": _l("Contract terminated"),
        "objection_withdrawn": _l("Objection withdrawn"),
        "maintained": _l("Change maintained"),
    }



# ------------------------------------------------------------------------------ mail plumbing

def _subjects() -> dict[str, Any]:
    """Return the subject of each DPA e-mail, in the active locale."""
    return {
        "dpa_subscription_confirm": lambda c: _("Confirm your subscription to %(vendor)s's "
                                                "sub-processor changes", vendor=c["vendor"]),
        "dpa_subprocessor_change": lambda c: _("%(vendor)s proposes to change its "
                                               "sub-processors (DPA version %(number)s, in "
                                               "force from %(effective)s)",
                                               vendor=c["vendor"], number=c["number"],
                                               effective=c["effective"]),
        "dpa_change_withdrawn": lambda c: _("%(vendor)s withdrew its proposed sub-processor "
                                            "change (DPA version %(number)s)",
                                            vendor=c["vendor"], number=c["number"]),
        "dpa_change_applied": lambda c: _("%(vendor)s's sub-processor change took effect: "
                                          "version %(in_force)s applies to %(buyer)s",
                                          vendor=c["vendor"], in_force=c["in_force"],
                                          buyer=c["buyer"]),
        "dpa_new_version": lambda c: _("%(vendor)s published version %(number)s of its DPA",
                                       vendor=c["vendor"], number=c["number"]),
        "dpa_objection_raised": lambda c: _("%(buyer)s objects to your sub-processor change",
                                            buyer=c["buyer"]),
        "dpa_objection_response": lambda c: _("%(vendor)s answered your objection",
                                              vendor=c["vendor"]),
    }


def queue_dpa_mail(template: str, *, to: str, locale: str | None, context: dict[str, Any],
                   org_id: int | None, ref: tuple[str, int]) -> OutboxMessage:
    """Render one DPA e-mail in the recipient's language and add it to the session (no commit)."""
    lang = locale if locale in current_app.config["LANGUAGES"] else "en"
    with force_locale(lang):
        rendered = {key: value(lang) if callable(value) else value
                    for key, value in context.items()}
        subject = str(_subjects()[template](rendered))
        text = render_template(f"mail/{template}.txt", **rendered)
        html = render_template(f"mail/{template}.html", subject=subject, **rendered)
    domain = current_app.config.get("MAIL_MESSAGE_ID_DOMAIN") or "vendorcheck.local"
    message = OutboxMessage(
        message_id=make_msgid(domain=domain), template=template, organisation_id=org_id,
        ref_type=ref[0], ref_id=ref[1], to_email=to, locale=lang, subject=subject[:300],
        body_text=text, body_html=html)
    db.session.add(message)
    return message


def link(endpoint: str, **values: Any) -> str:
    """Return an absolute link from BASE_URL, also outside a request (CLI, RQ worker)."""
    if has_request_context():
        return mail.external_url(endpoint, **values)
    with current_app.test_request_context("/"):  # URL building needs a request; BASE_URL prefixes
        return mail.external_url(endpoint, **values)


def _date_in(lang: str, moment: datetime) -> str:
    """Return a date written for the recipient's language."""
    with force_locale(lang):
        return str(format_date(moment, "long"))


def utc_text(moment: datetime, lang: str | None = None) -> str:
    """Return a moment in UTC written for a language, with the zone named ("…, 00:00 UTC")."""
    from vendorcheck.i18n import current_locale

    lang = lang if lang in ("en", "fr") else current_locale() if has_request_context() else "en"
    moment = moment.astimezone(UTC)
    day = babel_dates.format_date(moment.date(), "long", locale=lang)
    clock = babel_dates.format_time(moment, "HH:mm", tzinfo=UTC, locale=lang)
    with force_locale(lang):
        return str(_("%(date)s, %(time)s UTC", date=day, time=clock))


def contract_contacts(org_id: int) -> list[User]:
    """Return the active admins and legal members of an organisation (who acts on contracts)."""
    query = (select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.organisation_id == org_id, Membership.role.in_(CONTRACT_ROLES),
        User.is_active.is_(True)).order_by(User.id))
    return list(db.session.scalars(query))


def vendor_admins(org_id: int) -> list[User]:
    """Return the active administrators of a vendor organisation."""
    query = (select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.organisation_id == org_id, Membership.role == Role.ADMIN,
        User.is_active.is_(True)).order_by(User.id))
    return list(db.session.scalars(query))


# ------------------------------------------------------------------------------ tokens

def _secrets() -> list[bytes]:
    """Return the signing keys oldest first, so links mailed before a key rotation still work."""
    return list(reversed(secret_keys(current_app.config)))  # itsdangerous signs with the last


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secrets(), salt=salt)


def _stable_serializer(salt: str) -> URLSafeSerializer:
    """Signed without a timestamp: the same subscription always gets the same link."""
    return URLSafeSerializer(_secrets(), salt=salt)


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("utf-8")).hexdigest()


def confirm_token(subscription: DpaSubscription, locale: str) -> str:
    """Issue a new confirmation token (the previous one stops working) and keep only its hash."""
    nonce = secrets.token_urlsafe(24)
    subscription.token_hash = _digest(nonce)
    return str(_serializer(CONFIRM_SALT).dumps({"s": subscription.id, "n": nonce, "l": locale}))


def unsubscribe_token(subscription: DpaSubscription) -> str:
    """Return the stable one-click unsubscribe token of a subscription (signed, never expires).

    Untimed, so the List-Unsubscribe header (made when the mail is sent) and the link in the
    body (made when it is queued) are the same link even when a second passes in between.
    """
    return str(_stable_serializer(UNSUBSCRIBE_SALT).dumps({"s": subscription.id}))


def _load(token: str, salt: str, max_age: timedelta | None, *,
          stable: bool = False) -> dict[str, Any]:
    """Return a token's payload, or raise the clear 400 errors.

    `stable`: try the untimed format first; timed tokens of that salt (links mailed before
    links were made stable) are still read.
    """
    if not token or len(token) > 500:
        raise SubscriptionLinkInvalid()
    payload = _load_stable(token, salt) if stable else None
    if payload is None:
        seconds = int(max_age.total_seconds()) if max_age else None
        try:
            payload = _serializer(salt).loads(token, max_age=seconds)
        except SignatureExpired as exc:
            raise SubscriptionLinkExpired() from exc
        except BadSignature as exc:
            raise SubscriptionLinkInvalid() from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        raise SubscriptionLinkInvalid()
    return payload


def _load_stable(token: str, salt: str) -> Any:
    """Return an untimed token's payload, or None when it is not one (timed, or forged)."""
    try:
        return _stable_serializer(salt).loads(token)
    except BadData:  # a timed token's signature checks out here too, but not its payload
        return None


def subscription_for_confirm(token: str) -> tuple[DpaSubscription, str]:
    """Return the subscription a confirmation token names and the language chosen, or raise."""
    payload = _load(token, CONFIRM_SALT, CONFIRM_MAX_AGE)
    subscription = db.session.get(DpaSubscription, payload["s"])
    nonce = payload.get("n")
    if subscription is None or not isinstance(nonce, str) or not hmac.compare_digest(
            subscription.token_hash, _digest(nonce)):
        raise SubscriptionLinkInvalid()
    locale = payload.get("l")
    return subscription, str(locale) if locale in current_app.config["LANGUAGES"] else "en"


def subscription_for_unsubscribe(token: str) -> DpaSubscription:
    """Return the subscription an unsubscribe token names, or raise."""
    payload = _load(token, UNSUBSCRIBE_SALT, None, stable=True)
    subscription = db.session.get(DpaSubscription, payload["s"])
    if subscription is None:
        raise SubscriptionLinkInvalid()
    return subscription


def unsubscribe_headers(message: OutboxMessage) -> dict[str, str]:
    """RFC 8058 headers for a notice to a subscriber: mail clients POST the link to unsubscribe."""
    if message.ref_type != "dpa_subscription" or message.ref_id is None:
        return {}
    subscription = db.session.get(DpaSubscription, message.ref_id)
    if subscription is None:
        return {}
    url = link("dpa.unsubscribe", token=unsubscribe_token(subscription))
    return {"List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


for _template in NOTICE_TEMPLATES:
    mail.HEADER_HOOKS[_template] = unsubscribe_headers


# ------------------------------------------------------------------------------ subscriptions

def normalise_email(address: str) -> str:
    """Return the address as stored: trimmed and lower-cased."""
    return address.strip().lower()


def subscribe(profile: DpaProfile, address: str, locale: str) -> OutboxMessage:
    """Ask for notices: e-mail a confirmation link. Same outcome whether or not already subscribed."""
    email = normalise_email(address)
    subscription = db.session.scalar(select(DpaSubscription).where(
        DpaSubscription.vendor_org_id == profile.vendor_org_id, DpaSubscription.email == email))
    if subscription is None:
        subscription = DpaSubscription(vendor_org_id=profile.vendor_org_id, email=email,
                                       locale=locale, token_hash="")
        db.session.add(subscription)
        db.session.flush()
    token = confirm_token(subscription, locale)
    message = queue_dpa_mail(
        "dpa_subscription_confirm", to=email, locale=locale, org_id=profile.vendor_org_id,
        ref=("dpa_subscription", subscription.id), context={
            "vendor": profile.vendor_org.name,
            "link": link("dpa.confirm_subscription", token=token),
            "days": CONFIRM_MAX_AGE.days})
    db.session.commit()
    return message


def confirm(token: str) -> DpaSubscription:
    """Confirm a subscription from its e-mailed token (idempotent); the token is then spent."""
    subscription, locale = subscription_for_confirm(token)
    subscription.confirmed_at = utcnow()
    subscription.unsubscribed_at = None
    subscription.locale = locale
    subscription.token_hash = _digest(secrets.token_urlsafe(24))
    audit.record("dpa.subscription_confirmed", org=subscription.vendor_org_id, obj=subscription,
                 email=subscription.email)
    db.session.commit()
    return subscription


def unsubscribe(subscription: DpaSubscription) -> None:
    """Stop notices to this address (idempotent)."""
    if subscription.unsubscribed_at is None:
        subscription.unsubscribed_at = utcnow()
        audit.record("dpa.unsubscribed", org=subscription.vendor_org_id, obj=subscription,
                     email=subscription.email)
    db.session.commit()


# ------------------------------------------------------------------------------ change notices

@dataclass(frozen=True)
class Notice:
    """What every recipient of one publication is told (language-neutral parts)."""

    version: DpaVersion
    changes: SubprocessorChanges
    deadline: datetime


def objection_deadline(version: DpaVersion) -> datetime:
    """Return the end of the objection period: publication plus the version's objection days."""
    return version.published_at + timedelta(days=version.objection_days)


def _rows(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{name: str(row.get(name) or "") for name in SUBPROCESSOR_FIELDS} for row in rows]


def _changed(changes: SubprocessorChanges) -> list[dict[str, Any]]:
    return [{"old": _rows([old])[0], "new": _rows([new])[0],
             "fields": changes.changed_fields(old, new)} for old, new in changes.changed]


def _public_links(version: DpaVersion, previous: DpaVersion | None) -> dict[str, str]:
    """Return the public links of a version (dpa-core's pages): its page and the diff."""
    slug = version.profile.slug
    links = {"version_link": link("dpa.version", slug=slug, number=version.number)}
    links["diff_link"] = link("dpa.diff", slug=slug, **{"from": previous.number, "to": version.number}) \
        if previous is not None else links["version_link"]
    return links


def _notice_context(notice: Notice, previous: DpaVersion | None) -> dict[str, Any]:
    version = notice.version
    return {
        "vendor": version.vendor_org.name, "number": version.number,
        "previous_number": previous.number if previous else None,
        "added": _rows(notice.changes.added), "removed": _rows(notice.changes.removed),
        "changed": _changed(notice.changes),
        "deadline": lambda lang: utc_text(notice.deadline, lang),
        "published": lambda lang: _date_in(lang, version.published_at),
        "sha256": version.sha256, **_public_links(version, previous),
    }


def accepting_buyers(version: DpaVersion) -> list[int]:
    """Return the buyer organisations that accepted an earlier version of this vendor's DPA."""
    query = (select(DpaAcceptance.buyer_org_id).join(DpaAcceptance.version).where(
        DpaVersion.profile_id == version.profile_id, DpaVersion.number < version.number)
        .group_by(DpaAcceptance.buyer_org_id).order_by(DpaAcceptance.buyer_org_id))
    return list(db.session.scalars(query))


def latest_acceptance(buyer_org_id: int, version: DpaVersion) -> DpaAcceptance | None:
    """Return a buyer's newest acceptance of a version earlier than this one."""
    query = (select(DpaAcceptance).join(DpaAcceptance.version).where(
        DpaAcceptance.buyer_org_id == buyer_org_id, DpaVersion.profile_id == version.profile_id,
        DpaVersion.number < version.number).order_by(DpaVersion.number.desc()).limit(1))
    return db.session.scalar(query)


def active_subscriptions(vendor_org_id: int) -> list[DpaSubscription]:
    """Return the confirmed, not unsubscribed subscriptions to a vendor's notices."""
    query = select(DpaSubscription).where(
        DpaSubscription.vendor_org_id == vendor_org_id,
        DpaSubscription.confirmed_at.is_not(None), DpaSubscription.unsubscribed_at.is_(None)
    ).order_by(DpaSubscription.id)
    return list(db.session.scalars(query))


def version_published(version: DpaVersion, previous: DpaVersion | None) -> list[OutboxMessage]:
    """Queue the notices for a version published directly; return them (no commit).

    A version published directly never changes the sub-processors (those changes are proposed
    first, see `change_proposed`), so only the buyers that accepted an earlier version get a
    short "new version" notice.
    """
    if previous is None:
        return []
    old_rows = (previous.content or {}).get("subprocessors") or []
    new_rows = (version.content or {}).get("subprocessors") or []
    notice = Notice(version, subprocessor_changes(old_rows, new_rows), objection_deadline(version))
    context = _notice_context(notice, previous)
    return _to_buyers(version, "dpa_new_version", context, lambda acceptance: {})


def change_proposed(proposal: DpaChangeProposal,
                    changes: SubprocessorChanges) -> list[OutboxMessage]:
    """Queue the announcement of a proposed change to subscribers and accepting buyers.

    It states the change, the objection deadline and the effective date; buyers get the link
    to object (general authorisation) or to authorise or refuse (specific authorisation).
    """
    version = proposal.version
    notice = Notice(version, changes, proposal.objection_deadline)
    context = {**_notice_context(notice, proposal.base_version),
               "effective": lambda lang: utc_text(proposal.effective_at, lang),
               "specific": proposal.is_specific, "in_force_number": proposal.base_version.number}

    def buyer_links(acceptance: DpaAcceptance) -> dict[str, Any]:
        endpoint = "buyer.dpa_authorise" if proposal.is_specific \
            else "buyer.dpa_raise_objection"
        action = link(endpoint, acceptance_id=acceptance.id, number=version.number)
        return {"objection_link": None if proposal.is_specific else action,
                "authorisation_link": action if proposal.is_specific else None}

    return _to_subscribers(version, "dpa_subprocessor_change", context) + \
        _to_buyers(version, "dpa_subprocessor_change", context, buyer_links)


def change_withdrawn(proposal: DpaChangeProposal,
                     changes: SubprocessorChanges) -> list[OutboxMessage]:
    """Queue the news that a proposed change was withdrawn to those told of it."""
    version = proposal.version
    notice = Notice(version, changes, proposal.objection_deadline)
    context = {**_notice_context(notice, proposal.base_version),
               "in_force_number": proposal.base_version.number,
               "reason": proposal.withdrawal_reason or "",
               "effective": lambda lang: utc_text(proposal.effective_at, lang)}
    return _to_subscribers(version, "dpa_change_withdrawn", context) + \
        _to_buyers(version, "dpa_change_withdrawn", context, lambda acceptance: {})


def change_applied(proposal: DpaChangeProposal,
                   outcomes: list[DpaChangeOutcome]) -> list[OutboxMessage]:
    """Queue, to each affected buyer, which version binds it now that the change took effect."""
    version = proposal.version
    messages = []
    for outcome in outcomes:
        context = {"vendor": version.vendor_org.name, "buyer": outcome.buyer_org.name,
                   "number": version.number, "result": outcome.result,
                   "in_force": outcome.version.number, "previous_number": outcome.from_version.number,
                   "effective": lambda lang: utc_text(proposal.effective_at, lang),
                   "version_link": link("dpa.version", slug=version.profile.slug,
                                        number=outcome.version.number),
                   "buyer_link": link("buyer.dpa_accepted")}
        for user in contract_contacts(outcome.buyer_org_id):
            messages.append(queue_dpa_mail(
                "dpa_change_applied", to=user.email, locale=user.locale,
                org_id=outcome.buyer_org_id, ref=("dpa_change_proposal", proposal.id),
                context={**context, "name": user.name}))
    return messages


def _to_subscribers(version: DpaVersion, template: str,
                    context: dict[str, Any]) -> list[OutboxMessage]:
    messages = []
    for subscription in active_subscriptions(version.vendor_org_id):
        stop = link("dpa.unsubscribe", token=unsubscribe_token(subscription))
        messages.append(queue_dpa_mail(
            template, to=subscription.email, locale=subscription.locale,
            org_id=version.vendor_org_id, ref=("dpa_subscription", subscription.id),
            context={**context, "name": "", "unsubscribe_link": stop, "objection_link": None,
                     "authorisation_link": None, "accepted_number": None}))
    return messages


def _to_buyers(version: DpaVersion, template: str, context: dict[str, Any],
               links: Callable[[DpaAcceptance], dict[str, Any]]) -> list[OutboxMessage]:
    """Queue a notice to the admins and legal members of each buyer of an earlier version."""
    messages = []
    for buyer_org_id in accepting_buyers(version):
        acceptance = latest_acceptance(buyer_org_id, version)
        if acceptance is None:
            continue
        extra = {"objection_link": None, "authorisation_link": None, **links(acceptance)}
        for user in contract_contacts(buyer_org_id):
            messages.append(queue_dpa_mail(
                template, to=user.email, locale=user.locale, org_id=buyer_org_id,
                ref=("dpa_version", version.id), context={
                    **context, **extra, "name": user.name, "unsubscribe_link": None,
                    "accepted_number": acceptance.version.number,
                    "buyer_link": link("buyer.dpa_accepted")}))
    return messages


# ------------------------------------------------------------------------------ objection mails

def objection_raised(objection: DpaObjection) -> list[OutboxMessage]:
    """Queue the objection to each administrator of the vendor (no commit)."""
    version = objection.version
    page = link("supplier.dpa_objection", objection_id=objection.id)
    return [queue_dpa_mail(
        "dpa_objection_raised", to=user.email, locale=user.locale, org_id=objection.vendor_org_id,
        ref=("dpa_objection", objection.id), context={
            "name": user.name, "buyer": objection.buyer_org.name,
            "vendor": version.vendor_org.name, "number": version.number,
            "reasons": objection.reasons, "link": page,
            "deadline": lambda lang: _date_in(lang, objection_deadline(version))})
        for user in vendor_admins(objection.vendor_org_id)]


def objection_answered(objection: DpaObjection) -> list[OutboxMessage]:
    """Queue the vendor's response to the buyer's admins and legal members and the raiser."""
    version = objection.version
    page = link("buyer.dpa_objection", objection_id=objection.id)
    users = {u.id: u for u in contract_contacts(objection.buyer_org_id)}
    if objection.raised_by is not None and objection.raised_by.is_active:
        users.setdefault(objection.raised_by.id, objection.raised_by)
    return [queue_dpa_mail(
        "dpa_objection_response", to=user.email, locale=user.locale,
        org_id=objection.buyer_org_id, ref=("dpa_objection", objection.id), context={
            "name": user.name, "buyer": objection.buyer_org.name,
            "vendor": version.vendor_org.name, "number": version.number,
            "response": objection.vendor_response or "",
            "outcome": lambda lang: str(outcome_labels().get(objection.outcome or "", "")),
            "link": page})
        for user in users.values()]
