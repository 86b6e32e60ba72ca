"""The queue's filters written out by `enquiries.templatetags.queue_filters` are, character for
character, what includes/select.html and includes/checkbox.html make of the same fields."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from agencies.models import Role
from enquiries.filters import QueueFilter
from enquiries.selectors import open_enquiries

pytestmark = pytest.mark.django_db

SELECTS = ("rating", "state", "assignee", "acknowledged")
CHECKBOXES = ("mine", "at_risk", "breached", "escalated", "unassigned")

INCLUDES = Template(
    "".join(f'{{% include "includes/select.html" with field=form.{name} %}}|' for name in SELECTS)
    + "".join(
        f'{{% include "includes/checkbox.html" with field=form.{name} %}}|' for name in CHECKBOXES
    )
)
TAGS = Template(
    "{% load queue_filters %}"
    + "".join(f"{{% queue_select form.{name} %}}|" for name in SELECTS)
    + "".join(f"{{% queue_checkbox form.{name} %}}|" for name in CHECKBOXES)
)


def filters(user, query):
    request = RequestFactory().get("/queue/", query)
    request.user = user
    return QueueFilter(request.GET or None, open_enquiries(), request=request, now=timezone.now())


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"rating": "red", "state": "screening", "acknowledged": "no", "mine": "on"},
        {"at_risk": "on", "breached": "on", "escalated": "on", "unassigned": "on", "q": "x"},
        # Not choices: each select with its error.
        {"rating": "purple", "state": "decided", "assignee": "999999", "acknowledged": "maybe"},
        {"assignee": "not a number", "rating": '"><script>'},
    ],
)
def test_the_tags_write_what_the_includes_wrote(make_user, query):
    researcher = make_user(Role.RESEARCHER, first_name="Rosa", last_name="O'Reid <b>")
    make_user(Role.MANAGER, first_name="Mo & Co", last_name='"Khan"')
    if query.get("assignee") == "999999":
        query = {**query, "assignee": str(researcher.pk)}  # a real one beside invalid others
    asked = filters(researcher, query)
    asked.is_valid()

    # Each its own form, so neither reads what the other cached on its bound fields.
    included = INCLUDES.render(Context({"form": filters(researcher, query).form}))
    written = TAGS.render(Context({"form": asked.form}))

    assert written == included
    assert "O&#x27;Reid &lt;b&gt;" in written
    assert ("govuk-error-message" in written) == (asked.form.errors != {})
