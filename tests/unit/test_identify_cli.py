"""``python -m behavior_sync identify``: verdict, normalized form and value sent, one per line."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from behavior_sync.cli import main


def test_valid_email_for_google_prints_the_gmail_normal_form_and_its_hash(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identify", "--destination", "google", "--field", "email", " Cloudy.SF+shop@gmail.com "]) == 0
    expected = hashlib.sha256(b"cloudysf@gmail.com").hexdigest()
    assert capsys.readouterr().out.splitlines() == [
        "verdict: valid",
        "normalized: cloudysf@gmail.com",
        f"sent: {expected}",
    ]


def test_phone_uses_the_country_and_meta_drops_the_plus(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identify", "--destination", "meta", "--field", "phone", "--country", "GB", "07723 859863"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "normalized: 447723859863" and lines[2] == f"sent: {hashlib.sha256(b'447723859863').hexdigest()}"


def test_plain_destinations_send_the_normalized_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identify", "--destination", "clevertap", "--field", "phone", "(415) 555-1234"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["normalized: +14155551234", "sent: +14155551234"]


def test_an_invalid_value_prints_its_reason_code_and_exits_non_zero() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "behavior_sync",
            "identify",
            "--destination",
            "meta",
            "--field",
            "phone",
            "555-CALL-NOW",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and done.stdout.splitlines() == ["verdict: phone_invalid"]


def test_a_field_the_destination_does_not_use_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identify", "--destination", "hubspot", "--field", "phone", "+14155551234"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "sent: nothing (hubspot does not use phone)"
