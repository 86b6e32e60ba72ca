"""The Content-Security-Policy holds because nothing needs an exception to it: no template has
an inline script, inline style or event-handler attribute, and the API docs page loads
everything from files. (A real browser checks the pages for violations:
tests/browser/test_csp.py.)"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from agencies.models import Role

ROOT = Path(settings.BASE_DIR)
# Ours only: templates/ and any app's templates/ (Django's and drf-spectacular's are theirs).
TEMPLATES = sorted(
    path
    for folder in [ROOT / "templates", *ROOT.glob("*/templates")]
    if "node_modules" not in folder.parts
    for path in folder.rglob("*.html")
)
INLINE = {
    "inline script": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_the_templates_are_found():
    assert ROOT / "templates" / "base.html" in TEMPLATES
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_template_has_inline_script_or_style(template):
    text = template.read_text()

    found = [name for name, pattern in INLINE.items() if pattern.search(text)]

    assert found == []


def test_the_scan_would_see_each_kind_of_inline_code():
    samples = [
        "<script>alert(1)</script>",
        "<style>p { color: red }</style>",
        '<p style="color: red">',
        '<button onclick="go()">',
        '<a href="javascript:go()">',
    ]

    for sample in samples:
        assert any(pattern.search(sample) for pattern in INLINE.values()), sample
    assert not INLINE["inline script"].search('<script src="/static/js/app.js"></script>')


class Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict] = []
        self.styles = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "style" or "style" in attributes:
            self.styles += 1


@pytest.mark.django_db
def test_the_api_docs_load_swagger_ui_and_its_start_up_script_from_files(make_user):
    client = Client()
    client.force_login(make_user(Role.RESEARCHER))

    page = client.get(reverse("api:docs"))
    parsed = Scripts()
    parsed.feed(page.content.decode())
    script = client.get(reverse("api:docs") + "?script=")

    assert page.status_code == 200
    assert [bool(attributes.get("src")) for attributes in parsed.scripts] == [
        True,
        True,
        True,
        True,
    ]
    assert parsed.styles == 0
    assert all(
        attributes["src"].startswith((settings.STATIC_URL, "/" + settings.STATIC_URL, "/api/"))
        for attributes in parsed.scripts
    )
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.django_db
def test_the_api_docs_relax_the_policy_for_data_images_only(make_user):
    client = Client()
    client.force_login(make_user(Role.RESEARCHER))

    docs = client.get(reverse("api:docs"))["Content-Security-Policy"]
    elsewhere = client.get(reverse("home"))["Content-Security-Policy"]

    assert set(docs.split("; ")) - set(elsewhere.split("; ")) == {"img-src 'self' data:"}
    assert "script-src" not in docs
    assert "style-src" not in docs


def test_the_policy_is_the_one_the_issue_names(settings):
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]

    assert directives == {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
    assert "'unsafe-inline'" not in str(settings.CONTENT_SECURITY_POLICY)
