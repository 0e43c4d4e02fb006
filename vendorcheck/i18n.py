"""Locale selection and formatting helpers shared by pages, e-mails and reports."""

from __future__ import annotations

from babel import Locale
from flask import Flask, current_app, has_request_context, request, session, url_for
from flask_babel import force_locale, get_locale
from flask_login import current_user


def select_locale() -> str:
    """Pick the locale: ?lang=, then the session, then the user's preference, then Accept-Language."""
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
        return asked
    if session.get("lang") in languages:
        return str(session["lang"])
    preferred = getattr(current_user, "locale", None)
    if preferred in languages:
        return str(preferred)
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_locale() -> str:
    """Return the active locale as a two-letter code."""
    return str(get_locale() or "en")


def plain_text(message: object) -> str:
    """Return a (lazy) message as text: in the request's language, else in English (CLI, jobs)."""
    if has_request_context():
        return str(message)
    with force_locale("en"):
        return str(message)


def country_name(code: str, locale: str | None = None) -> str:
    """Return a country's name in the user's language (the code if Babel does not know it)."""
    territories = Locale.parse(locale or current_locale()).territories
    return str(territories.get(code, code))


def localised(text: object, locale: str | None = None) -> str:
    """Return a questionnaire locale map in the active locale, falling back to English."""
    loc = locale or current_locale()
    getter = getattr(text, "get", None)
    if getter is None:
        return "" if text is None else str(text)
    return str(getter(loc) or getter("en") or "")


def switch_language_url(code: str) -> str:
    """Return the current page's URL in another language (query string kept)."""
    args = {key: value for key, value in request.args.items() if key != "lang"}
    if request.endpoint and request.url_rule is not None and request.method == "GET":
        return url_for(request.endpoint, **(request.view_args or {}), **args, lang=code)
    return url_for("public.index", lang=code)


def init_app(app: Flask) -> None:
    """Expose the helpers to templates; engine messages read in the request's language."""
    from flask_babel import gettext

    from vendorcheck.agreement import text

    text.install_translator(gettext)
    app.jinja_env.globals.update(current_locale=current_locale, switch_language_url=switch_language_url,
                                 score_text=score_text)
    app.jinja_env.filters["loc"] = localised
    app.jinja_env.filters["ref_words"] = ref_words
    app.jinja_env.globals.update(legal_ref=legal_ref, questionnaire_title=questionnaire_title)


def score_text(value: float | None) -> str:
    """Write a score with one decimal in the active language ("55.2", "55,2"); "—" for none."""
    from flask_babel import format_decimal

    return "—" if value is None else str(format_decimal(value, format="#,##0.0"))


def ref_words(code: str, questionnaire: object) -> str:
    """Write a legal reference code in words in the active language."""
    from vendorcheck.questionnaire.legal_refs import format_ref

    return format_ref(code, getattr(questionnaire, "references", {}), current_locale()).text


def legal_ref(code: str, questionnaire: object) -> object:
    """Return a legal reference in words with its source URL (a `RefText`), in the active language."""
    from vendorcheck.questionnaire.legal_refs import format_ref

    return format_ref(code, getattr(questionnaire, "references", {}), current_locale())


def questionnaire_title(questionnaire_id: str, version: str | None = None) -> str:
    """Return a questionnaire's title in the active language; its id if the catalogue lacks it."""
    catalogue = current_app.extensions.get("questionnaires")
    try:
        q = catalogue.get(questionnaire_id, version)
    except (AttributeError, KeyError, LookupError):
        return questionnaire_id
    return localised(q.title) or questionnaire_id
