"""Domain exceptions; each carries the HTTP status a view should answer with."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A business rule refused the action; `message` is safe to show to the user."""

    status = 422
    default = _l("This action could not be completed.")

    def __init__(self, message: object | None = None,
                 links: tuple[tuple[str, str], ...] = ()) -> None:
        self.message = str(message if message is not None else self.default)
        self.links = links  # (label, local URL): the next steps the error page offers as buttons
        super().__init__(self.message)


class ValidationFailed(DomainError):
    """Input broke a business rule (shown next to the form)."""


class DuplicateEmail(ValidationFailed):
    default = _l("An account with this e-mail address already exists.")


class WeakPassword(ValidationFailed):
    default = _l("The password must be at least 10 characters long.")


class InvalidCredentials(DomainError):
    status = 401
    default = _l("Wrong e-mail address or password.")


class AccountLocked(InvalidCredentials):
    """Too many failures for an address (known account or not, so it tells nothing about accounts)."""

    default = _l("Too many failed attempts with this e-mail address: logging in is paused for a while. "
                 "Try again later, or choose a new password with \"Forgot your password?\".")


class SessionNotFound(DomainError):
    status = 404
    default = _l("This session does not exist.")


class WrongPassword(ValidationFailed):
    default = _l("Your current password is not correct.")


class LastAdmin(DomainError):
    status = 409
    default = _l("An organisation needs at least one administrator; "
                 "appoint another one before removing or demoting this one.")


class AlreadyMember(DomainError):
    status = 409
    default = _l("This person is already a member of the organisation.")


class InvalidRole(ValidationFailed):
    default = _l("This role does not exist for this kind of organisation.")


class TokenInvalid(DomainError):
    status = 404
    default = _l("This link is not valid. Check that you copied the whole address, "
                 "or ask for a new one.")


class TokenExpired(DomainError):
    status = 410
    default = _l("This link has expired. Ask the sender for a new one.")


class TokenUsed(DomainError):
    status = 410
    default = _l("This link has already been used. Log in instead, or ask for a new one.")


class TokenRevoked(DomainError):
    status = 410
    default = _l("This invitation was withdrawn by the sender.")


class WrongInvitee(DomainError):
    status = 403
    default = _l("This invitation was sent to another e-mail address. "
                 "Log out and open the link again, or ask for an invitation to your address.")


class InvitationClosed(DomainError):
    status = 409
    default = _l("This invitation has already been accepted or withdrawn.")


class VendorArchived(DomainError):
    """The vendor is archived: restore it before sending it anything new."""

    status = 409
    default = _l("This vendor is archived: restore it before sending it a new assessment.")


class StillInUse(DomainError):
    """The record is still needed by open work (the message names it)."""

    status = 409
