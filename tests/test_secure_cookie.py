"""The session cookie is Secure whenever the request came over HTTPS, as the configured proxies tell it,
and only then: the demo on plain http keeps working, and a client cannot fake HTTPS without a proxy."""
import pytest

from app import create_app


def _app(**settings):
    """The sign-in page puts its CSRF token into the session: a cookie to look at, no database needed."""
    return create_app({"TESTING": True, "SECRET_KEY": "cookie-test", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "SESSION_COOKIE_SECURE": False, "WTF_CSRF_ENABLED": True, **settings})


def _session_cookie(app, **kw) -> str:
    response = app.test_client().get("/login", **kw)
    assert response.status_code == 200
    cookies = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    assert len(cookies) == 1, response.headers
    return cookies[0]


@pytest.fixture(scope="module")
def behind_proxy():
    return _app(PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1)


def test_https_through_the_configured_proxy_gets_a_secure_cookie(behind_proxy):
    cookie = _session_cookie(behind_proxy, headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
                             environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_plain_http_keeps_a_cookie_the_demo_can_use(behind_proxy):
    assert "Secure" not in _session_cookie(behind_proxy, base_url="http://127.0.0.1:5000")
    assert "Secure" not in _session_cookie(_app(), base_url="http://127.0.0.1:5000")


def test_without_proxy_settings_a_forwarded_https_header_is_not_believed():
    assert "Secure" not in _session_cookie(_app(), headers={"X-Forwarded-Proto": "https"})


def test_secure_always_when_the_flag_says_so():
    assert "Secure" in _session_cookie(_app(SESSION_COOKIE_SECURE=True), base_url="http://127.0.0.1:5000")
