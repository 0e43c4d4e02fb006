"""Locale selection and formatting helpers shared by pages, e-mails and reports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import unquote
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time
from babel.dates import format_timedelta, get_timezone_location
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

TZ_COOKIE = "tz"  # the browser's IANA time zone, set once by static/js/timezone.js
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Zulu"})
# The zones the profile offers: the IANA regions' cities (not the legacy aliases such as US/Eastern).
REGIONS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian",
           "Pacific")
# A zone set for a while (an e-mail rendered for its recipient), over the viewer's.
_FORCED_ZONE: ContextVar[str | None] = ContextVar("forced_zone", default=None)


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


def country_name(code: str | None, locale: str | None = None) -> str:
    """Return a country's name in the user's language (the code if Babel does not know it).

    The `country` filter of templates: pages and mail name countries, JSON, API and feeds keep codes.
    """
    if not code:
        return ""
    key = str(code).strip().upper()
    territories = Locale.parse(locale or current_locale()).territories
    return str(territories.get(key, code))


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
    app.jinja_env.filters["country"] = country_name
    app.jinja_env.globals.update(legal_ref=legal_ref, questionnaire_title=questionnaire_title)
    app.jinja_env.filters["moment"] = moment_text
    app.jinja_env.filters["moment_utc"] = lambda value: moment_text(value, utc=True)
    app.jinja_env.filters["age"] = age_text


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
    if catalogue is None:
        return questionnaire_id
    try:
        q = catalogue.get(questionnaire_id, version)
    except (AttributeError, KeyError, LookupError):
        return questionnaire_id
    return localised(q.title) or questionnaire_id


# --- times: one formatter, always with the zone named ---------------------------------------------


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def valid_timezone(name: str) -> bool:
    """Tell whether a name is an IANA time zone this machine knows ("Europe/Paris")."""
    return bool(name) and len(name) <= 64 and name in _zones()


@lru_cache(maxsize=1)
def listed_timezones() -> tuple[str, ...]:
    """Return the zones a user may choose, sorted: "UTC", then every region's cities."""
    cities = sorted(z for z in _zones() if z.split("/", 1)[0] in REGIONS and "/" in z)
    return ("UTC", *cities)


def _chosen_timezone() -> str | None:
    """Return the signed-in user's chosen zone, if any (never loads a user not loaded yet)."""
    user = g.get("_login_user") if "_login_user" in g else current_user  # the 503 page sets one
    zone = getattr(user, "timezone", None)
    return zone if isinstance(zone, str) and valid_timezone(zone) else None


def viewer_timezone() -> str:
    """Return the viewer's time zone: a recipient's set for an e-mail, the user's setting,
    the browser's (cookie `tz`), else the instance's default."""
    forced = _FORCED_ZONE.get()
    if forced:
        return forced
    if has_request_context():
        chosen = _chosen_timezone()
        if chosen:
            return chosen
        asked = unquote(request.cookies.get(TZ_COOKIE, ""))[:64]
        if valid_timezone(asked):
            return asked
    return default_timezone()


def default_timezone() -> str:
    """Return the instance's time zone (BABEL_DEFAULT_TIMEZONE), used when nobody chose one."""
    return str(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")


@contextmanager
def force_timezone(zone: str | None) -> Iterator[None]:
    """Write times in one zone for a while (an e-mail in its recipient's zone, else the instance's)."""
    chosen = zone if zone and valid_timezone(zone) else default_timezone()
    token = _FORCED_ZONE.set(chosen)
    ctx = getattr(g, "_flask_babel", None) if has_app_context() else None  # Flask-Babel's cache
    cached = getattr(ctx, "babel_tzinfo", None) if ctx is not None else None
    if ctx is not None:
        ctx.babel_tzinfo = None  # Flask-Babel asks the selector again
    try:
        yield
    finally:
        _FORCED_ZONE.reset(token)
        if ctx is not None:
            ctx.babel_tzinfo = cached


def zone_label(zone: str, locale: str | None = None) -> str:
    """Name a time zone for readers: "UTC", or its main city ("Paris time", "heure de Paris")."""
    if zone in UTC_NAMES:
        return "UTC"
    city = get_timezone_location(ZoneInfo(zone), locale=locale or current_locale(), return_city=True)
    return str(_("%(city)s time", city=city))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # stored in UTC


def moment_text(value: datetime | None, *, utc: bool = False) -> str:
    """Write a moment in the viewer's zone (or UTC), with the zone named: "5 Dec 2026, 21:00
    (Paris time)", "5 déc. 2026, 20:00 UTC". The one formatter for times on pages."""
    if value is None:
        return ""
    zone = "UTC" if utc else viewer_timezone()
    local = _aware(value).astimezone(ZoneInfo(zone))
    locale = current_locale()
    day = babel_date(local.date(), "medium", locale=locale)
    clock = babel_time(local.time(), "HH:mm", locale=locale)
    if zone in UTC_NAMES:
        return str(_("%(date)s, %(time)s UTC", date=day, time=clock))
    return str(_("%(date)s, %(time)s (%(zone)s)", date=day, time=clock,
                 zone=zone_label(zone, locale)))


def age_text(value: datetime | None, now: datetime | None = None) -> str:
    """Write how long ago a moment was, in the viewer's language: "5 minutes ago", "il y a 2 heures"."""
    if value is None:
        return ""
    past = max((now or datetime.now(UTC)) - _aware(value), timedelta(seconds=1))  # 0 would read "in 0 s"
    return format_timedelta(-past, add_direction=True, locale=current_locale())  # negative: "… ago"


def clock_text(value: datetime | None, zone: str | None = None) -> str:
    """Write a time of day in the viewer's zone (or `zone`, read earlier by the caller), with the
    zone named: "21:05 (Paris time)"."""
    if value is None:
        return ""
    zone = zone or viewer_timezone()
    local = _aware(value).astimezone(ZoneInfo(zone))
    clock = babel_time(local.time(), "HH:mm", locale=current_locale())
    return f"{clock} UTC" if zone in UTC_NAMES else f"{clock} ({zone_label(zone)})"
