"""The dashboard end to end in headless Chromium: log in, submit an erasure, watch it reach
done, open its certificate. Screenshots go to ``tmp/artifacts/dashboard`` (or
``$UNLEARNKIT_TEST_ARTIFACTS``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from service_helpers import LiveServer, populate

from unlearnkit.ledger import Ledger

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = (
    Path(
        os.environ.get(
            "UNLEARNKIT_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "tmp" / "artifacts"
        )
    )
    / "dashboard"
)

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium_browser():
    if not CHROMIUM.exists():
        print(f"skipping browser test: {CHROMIUM} not found (install Debian's chromium)")
        pytest.skip(f"{CHROMIUM} not found")
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        yield b
        b.close()


def test_submit_an_erasure_and_open_its_certificate(chromium_browser, tmp_path):
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    books = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    populate(books)
    token = books.create_token("operator", name="dpo")[0]
    with LiveServer(books) as live:
        page = chromium_browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{live.url}/")
        page.fill("#token", "ukt_wrong")
        page.click("#login")
        page.wait_for_selector("#login-error:has-text('Unknown API token')")
        page.fill("#token", token)
        page.click("#login")
        page.wait_for_selector("#requests")
        page.screenshot(path=str(ARTIFACTS / "1-requests.png"), full_page=True)
        page.click("#nav-submit")
        page.fill("#subject", "c42")
        page.screenshot(path=str(ARTIFACTS / "2-submit.png"), full_page=True)
        page.click("#submit")
        page.wait_for_selector("#request-status:text-is('done')", timeout=60_000)
        timeline = page.inner_text("#timeline")
        for state in ("received", "planned", "running", "verified", "done"):
            assert state in timeline
        page.screenshot(path=str(ARTIFACTS / "3-done.png"), full_page=True)
        page.click("#open-certificate")
        page.wait_for_selector("#certificate")
        text = page.inner_text("#certificate")
        assert "c42" in text
        assert "exact" in text
        assert "v1 purged" in page.inner_text("#certificate-models")
        page.screenshot(path=str(ARTIFACTS / "4-certificate.png"), full_page=True)
        books.attach_audit_report(
            "scorer",
            2,
            {"verdict": "inconclusive", "confidence": 0.5, "reason": "one sample is too few"},
            html="<html><body><h1>Unlearning audit</h1><p>ROC curves here</p></body></html>",
        )
        page.click("#nav-models")
        page.wait_for_selector("#versions")
        assert "superseded" in page.inner_text("#versions")
        assert "purged" in page.inner_text("#versions")
        assert "inconclusive" in page.inner_text("#audits")
        page.click("button[data-audit]")
        frame = page.frame_locator("#audit-frame")
        assert "Unlearning audit" in frame.locator("h1").inner_text()
        page.screenshot(path=str(ARTIFACTS / "5-models.png"), full_page=True)
        page.click("#nav-audit")
        page.wait_for_selector("#chain")
        assert "intact" in page.inner_text("#chain")
        page.screenshot(path=str(ARTIFACTS / "6-audit.png"), full_page=True)
    assert books.list_certificates().total == 1
    assert sorted(p.name for p in ARTIFACTS.iterdir()) == [
        "1-requests.png",
        "2-submit.png",
        "3-done.png",
        "4-certificate.png",
        "5-models.png",
        "6-audit.png",
    ]
    books.close()
