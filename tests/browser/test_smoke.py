"""A person signs in as the park manager, finds the navigation, and signs out."""
import pytest

pytestmark = pytest.mark.browser


def test_park_manager_signs_in_navigates_and_signs_out(live_server, page):
    page.goto(f"{live_server}/login")
    page.fill("#username", "park1")
    page.fill("#password", "parkingos-demo")
    page.click("#submit")
    page.wait_for_url(f"{live_server}/")
    sidebar = page.locator("#sidebar")
    assert sidebar.get_by_role("link", name="Parks").is_visible()
    assert sidebar.get_by_role("link", name="Staff").is_visible()
    assert sidebar.get_by_role("link", name="Cities").count() == 0  # platform-only page is not offered
    assert "Central Street" in page.locator("#current-node").inner_text()
    sidebar.get_by_role("link", name="Parks").click()
    assert "Central Street" in page.locator("#node-table").inner_text()
    assert "Harbor" not in page.content()
    page.click("#logout")
    page.wait_for_url(f"{live_server}/login")
    assert "You have signed out" in page.content()
    page.goto(f"{live_server}/org/parks")
    assert "/login" in page.url


def test_wrong_password_message_is_shown(live_server, page):
    page.goto(f"{live_server}/login")
    page.fill("#username", "park1")
    page.fill("#password", "not-the-password")
    page.click("#submit")
    assert "Wrong username or password" in page.content()
