"""Legal references are written in words in both languages."""

import pytest

from vendorcheck.questionnaire.legal_refs import format_ref


@pytest.mark.parametrize(
    ("code", "locale", "text"),
    [
        ("gdpr:28.3.h", "en", "Art. 28(3)(h) GDPR"),
        ("gdpr:28.3.h", "fr", "art. 28, § 3, h) RGPD"),
        ("gdpr:44", "en", "Art. 44 GDPR"),
        ("gdpr:33.2", "fr", "art. 33, § 2 RGPD"),
        ("unknown:thing_one", "en", "unknown thing one"),
    ],
)
def test_reference_in_words(code, locale, text):
    assert format_ref(code, {}, locale).text == text
