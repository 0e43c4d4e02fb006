"""Browser test of the compliance kit: a vendor publishes its GDPR charter, the public opens it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import journey as j
from tests.e2e.live import Live
from tests.factories.accounts import make_org, make_user
from tests.factories.dpa import OVH, publish_dpa
from tests.unit.dpa.test_register import US_DPF
from vendorcheck.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
VENDOR = "dpo@charter-vendor.example"


def _seed(live: Live) -> str:
    """Create a vendor organisation that published a DPA; return its public slug."""
    with live.app.app_context():
        org = make_org("Charter Vendor SAS", buyer=False, vendor=True, slug="charter-vendor")
        user = make_user(VENDOR, org=org, role=Role.ADMIN, name="Chloé Martin")
        version = publish_dpa(None, org, subprocessors=[OVH, US_DPF], by=user)
        return str(version.profile.slug)


def test_a_vendor_publishes_its_charter_and_the_public_reads_it(live: Live, new_context: Any
                                                                 ) -> None:
    slug = _seed(live)
    vendor = j.new_page(new_context())
    j.login(vendor, live.url, VENDOR)
    vendor.goto(f"{live.url}/vendor/kit/charter")
    expect(vendor.locator("main")).to_contain_text("Preview")
    vendor.locator("input#confirm").check()
    vendor.locator("form[action$='/vendor/kit/charter/publish'] button[type=submit]").click()
    expect(vendor.locator(".flash--success")).to_be_visible()
    expect(vendor.locator(f"a[href='/dpa/{slug}/charter']")).to_be_visible()

    public = j.new_page(new_context())
    public.goto(f"{live.url}/dpa/{slug}/charter")
    main = public.locator("main")
    expect(main).to_contain_text("GDPR charter")
    expect(main).to_contain_text("Version 1, published on")
    expect(main).to_contain_text("United States: Mailer Inc. (Transactional e-mail), "
                                 "EU-US Data Privacy Framework")
    public.locator(f"a[href='/dpa/{slug}/charter?lang=fr']").click()
    expect(public.locator("main")).to_contain_text("Qui nous sommes")
    public.locator(f"main a[href='/dpa/{slug}/v1']").click()
    expect(public).to_have_url(f"{live.url}/dpa/{slug}/v1")
    assert not live.server_errors, live.server_errors
