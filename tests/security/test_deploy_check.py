"""Production settings (issue 8, item 2): `check --deploy` reports nothing with only what a
deployment must set, and each security setting follows DEBUG and the environment. Each case is
a fresh interpreter with exactly the given variables, as a deployment starts."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# From the test run, only what finds Python and its packages: nothing of pytest-env's.
SYSTEM = ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")


def system() -> dict[str, str]:
    return {key: os.environ[key] for key in SYSTEM if key in os.environ}


def production(**extra: str) -> dict[str, str]:
    return {
        **system(),
        "DJANGO_SETTINGS_MODULE": "mash.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "mash.example.org",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        **extra,
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)


PROBE = """
import json
from django.conf import settings as s
print(json.dumps({
    "ssl_redirect": s.SECURE_SSL_REDIRECT,
    "redirect_exempt": s.SECURE_REDIRECT_EXEMPT,
    "proxy_header": s.SECURE_PROXY_SSL_HEADER,
    "hsts": [s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD],
    "session_cookie": [s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,
                       s.SESSION_COOKIE_SAMESITE],
    "csrf_cookie": [s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY, s.CSRF_COOKIE_SAMESITE],
    "cookie_names": [s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME],
    "cookie_scopes": [s.SESSION_COOKIE_PATH, s.SESSION_COOKIE_DOMAIN,
                      s.CSRF_COOKIE_PATH, s.CSRF_COOKIE_DOMAIN],
    "csrf_trusted_origins": s.CSRF_TRUSTED_ORIGINS,
    "rates": s.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
    "throttles": s.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"],
    "permissions": s.REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"],
}))
"""


def probe(env: dict[str, str]) -> dict:
    result = run(["-c", PROBE], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_reports_nothing_in_production():
    result = deploy_check(production())

    assert result.returncode == 0, result.stdout + result.stderr
    # django-axes' two checks for its middleware and backend, which the lockout no longer
    # uses (agencies.lockout); it stays installed for a migration's sake.
    assert result.stdout.strip() == "System check identified no issues (2 silenced)."


def test_turning_hsts_preload_off_is_a_choice_the_check_respects():
    result = deploy_check(production(SECURE_HSTS_PRELOAD="false"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (3 silenced)."


def test_check_deploy_would_report_plain_http_cookies_and_no_redirect():
    result = deploy_check(production(SECURE_SSL_REDIRECT="false", SECURE_COOKIES="false"))

    assert result.returncode == 1
    for check in ("security.W008", "security.W012", "security.W016"):
        assert check in result.stderr + result.stdout


def test_production_has_every_protection_on():
    settings = probe(production(CSRF_TRUSTED_ORIGINS="https://mash.example.org"))

    assert settings == {
        "ssl_redirect": True,
        "redirect_exempt": ["^healthz(/live|/ready|/background)?$"],
        "proxy_header": None,
        "hsts": [31536000, True, True],
        "session_cookie": [True, True, "Lax"],
        "csrf_cookie": [True, True, "Lax"],
        # Secure cookies carry the `__Host-` prefix, which browsers honour only with Path=/
        # and no Domain (issue 21, item 5).
        "cookie_names": ["__Host-sessionid", "__Host-csrftoken"],
        "cookie_scopes": ["/", None, "/", None],
        "csrf_trusted_origins": ["https://mash.example.org"],
        "rates": {"user": "600/minute", "anon": "60/minute"},
        "throttles": [
            "core.throttling.PersonRateThrottle",
            "core.throttling.AddressRateThrottle",
        ],
        "permissions": [
            "rest_framework.permissions.IsAuthenticated",
            "agencies.permissions.HoldsAHubRole",
        ],
    }


def test_behind_a_proxy_its_header_names_https_and_rates_come_from_the_environment():
    settings = probe(
        production(
            SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
            SECURE_HSTS_SECONDS="3600",
            API_USER_RATE="20/second",
            API_ANON_RATE="5/minute",
        )
    )

    assert settings["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert settings["hsts"] == [3600, True, True]
    assert settings["rates"] == {"user": "20/second", "anon": "5/minute"}


def test_the_demo_works_over_plain_http():
    settings = probe({**system(), "DJANGO_SETTINGS_MODULE": "mash.settings", "DEBUG": "true"})

    assert settings["ssl_redirect"] is False
    assert settings["hsts"][0] == 0
    assert settings["session_cookie"][0] is False
    assert settings["csrf_cookie"][0] is False
    # A browser refuses a `__Host-` cookie over plain http: the demo keeps the plain names.
    assert settings["cookie_names"] == ["sessionid", "csrftoken"]
