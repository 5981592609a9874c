"""Browser tests skip only when Chromium is missing and this is not CI (``conftest.py``)."""

import types

import pytest

from orders.tests import conftest


def _browser_item() -> types.SimpleNamespace:
    return types.SimpleNamespace(keywords={"browser": True})


@pytest.mark.parametrize("value", ["true", "1", "True"])
def test_ci_is_recognised(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    assert conftest.in_ci()


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_a_developer_machine_is_not_ci(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    assert not conftest.in_ci()


def test_browser_tests_skip_with_a_reason_without_chromium_outside_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="needs Chromium"):
        conftest.pytest_runtest_setup(_browser_item())


def test_browser_tests_are_not_skipped_in_ci_without_chromium(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("CI", "true")
    conftest.pytest_runtest_setup(_browser_item())  # no skip: the fixture fails instead


def test_browser_tests_run_when_chromium_is_there(monkeypatch, tmp_path):
    chromium = tmp_path / "chromium"
    chromium.touch()
    monkeypatch.setattr(conftest, "CHROMIUM", str(chromium))
    monkeypatch.delenv("CI", raising=False)
    conftest.pytest_runtest_setup(_browser_item())


def test_a_missing_chromium_fails_the_browser_fixture(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "CHROMIUM", str(tmp_path / "no-chromium"))
    fixture = conftest.chromium_browser.__wrapped__(monkeypatch)
    with pytest.raises(pytest.fail.Exception, match="Chromium is missing"):
        next(fixture)


def test_a_browser_that_cannot_start_fails_loudly(monkeypatch, tmp_path):
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(conftest, "CHROMIUM", str(broken))
    fixture = conftest.chromium_browser.__wrapped__(monkeypatch)
    with pytest.raises(pytest.fail.Exception, match="could not start"):
        next(fixture)
