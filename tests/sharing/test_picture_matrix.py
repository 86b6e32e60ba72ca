"""The firewall matrix (test_firewall_matrix.py) extended to the picture: its page and its PDF,
for each role x record state, each cell checking the record's marker string in what the reader
gets (the PDF's text, extracted), not only the status: content exactly where the firewall lets
the reader read it, with its conditions; a signpost or the withdrawal everywhere else."""

import pytest
from django.urls import reverse

from audit.models import AccessLogEntry

from .conftest import REVISED_STATES, STATES
from .test_firewall_matrix import READS, ROLES, WORKING
from .test_picture import pdf_text

pytestmark = pytest.mark.django_db

SURFACES = ["picture page", "picture PDF"]


def read(client, hub, surface: str) -> tuple[int, str]:
    query = {"format": "pdf"} if surface == "picture PDF" else {}
    response = client.get(reverse("enquiry-picture", args=[hub.enquiry.reference]), query)
    if response.status_code == 200 and surface == "picture PDF":
        assert response["Content-Type"] == "application/pdf"
        return 200, pdf_text(response.content)
    return response.status_code, response.content.decode()


def expected(role: str, state: str) -> tuple[int, bool]:
    """(status, content shown): the picture is for whoever may see the enquiry page."""
    if role not in WORKING:
        return 403, False
    return 200, state in READS[role]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("state", [*STATES, *REVISED_STATES])
def test_the_picture_shows_a_record_exactly_as_the_firewall_does(client, hub, state, surface):
    marker = f"QP{[*STATES, *REVISED_STATES].index(state)}Z7731"
    record = hub.record(state, marker=marker)
    failures = []
    for role, attribute in ROLES.items():
        user = getattr(hub, attribute)
        client.force_login(user)
        looked = AccessLogEntry.objects.filter(user=user, action="view", record=record)
        views_before = looked.count()
        status, text = read(client, hub, surface)
        want_status, shows = expected(role, state)
        problems = []
        if status != want_status:
            problems.append(f"status {status}, not {want_status}")
        if (marker in text) is not shows:
            problems.append("content shown" if not shows else "content missing")
        if shows and state == "released" and "not to be shared with the family" not in text:
            problems.append("conditions missing")
        if status == 200 and not shows:
            stands_in = (
                "Withdrawn by Thames Valley Police"
                if state == "withdrawn"
                else "Thames Valley Police holds sensitive information about Amy Firewall"
            )
            if stands_in not in text:
                problems.append("neither signpost nor withdrawal")
        if shows and record.sensitivity == "sensitive" and not looked.count() > views_before:
            problems.append("sensitive content shown but not logged")
        if not shows and looked.count() > views_before:
            problems.append("logged as shown")
        if problems:
            failures.append(f"{role} / {state} / {surface}: {', '.join(problems)}")
    assert not failures, "\n".join(failures)


def test_the_picture_matrix_covers_every_cell():
    cells = [
        (role, state, surface)
        for role in ROLES
        for state in [*STATES, *REVISED_STATES]
        for surface in SURFACES
    ]
    assert len(cells) == 7 * 7 * 2 == 98
