"""What made the enquiry page and the agency inbox cheaper keeps them as they were: the firewall
weighs its content rule once a record and still blanks what the reader may not read, and the
inbox's lists, written out in Python (sharing.templatetags.inbox_lists), show what the template
showed, escaped."""

from datetime import timedelta

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enquiries.models import Enquiry
from sharing import firewall, selectors, withdrawals
from sharing.firewall import CONTENT_FIELDS
from sharing.models import InformationRecord, InformationRequest

pytestmark = pytest.mark.django_db


def test_the_records_query_weighs_the_content_rule_once(hub):
    hub.record("sensitive", marker="hidden")
    hub.record("released", marker="released", agency="health")

    with CaptureQueriesContext(connection) as captured:
        firewall.shown_records(firewall.visible_records(hub.researcher, enquiry=hub.enquiry))

    (sql,) = [query["sql"] for query in captured.captured_queries]
    # Once for the content, not once for `content_visible` and once for each content field.
    assert sql.count("sharing_recordgroupobjectpermission") == 1
    assert sql.count("sharing_recorduserobjectpermission") == 1


def test_a_signpost_comes_back_blank_and_readable_content_whole(hub):
    hidden = hub.record("sensitive", marker="hidden")
    released = hub.record("released", marker="released", agency="health")
    plain = hub.record("non_sensitive", marker="plain", agency="health")

    shown = {
        record.pk: record
        for record in firewall.shown_records(
            firewall.visible_records(hub.researcher, enquiry=hub.enquiry)
        )
    }

    assert not shown[hidden.pk].content_visible
    assert all(getattr(shown[hidden.pk], name) == "" for name in CONTENT_FIELDS)
    for record in (released, plain):
        assert shown[record.pk].content_visible
        assert all(
            getattr(shown[record.pk], name) == getattr(record, name) for name in CONTENT_FIELDS
        )


def test_the_owning_agency_reads_its_own_withdrawn_record_and_others_do_not(hub):
    withdrawn = hub.record("withdrawn", marker="gone")

    own = firewall.record_for(hub.police_officer, withdrawn.pk)
    other = firewall.record_for(hub.researcher, withdrawn.pk)

    assert own.content_visible and "gone" in own.summary
    assert not other.content_visible and other.summary == other.detail == ""


def open_rows(user):
    return selectors.open_inbox_rows(user, selectors.open_inbox_ids(user)[:50], now=timezone.now())


def test_the_open_requests_are_read_as_the_lines_the_inbox_shows(hub):
    hub.record("non_sensitive", marker="given")
    request = InformationRequest.objects.get(pk=hub.police_request.pk)

    (line,) = open_rows(hub.police_officer)

    assert line.pk == request.pk
    assert line.reference == hub.enquiry.reference
    assert line.subject_name == hub.enquiry.subject_name
    assert line.status_label == request.get_status_display()
    assert line.record_count == 1
    assert not line.overdue


def test_an_open_request_past_its_time_is_overdue_and_one_with_no_subject_says_so(hub):
    InformationRequest.objects.filter(pk=hub.police_request.pk).update(
        due_at=timezone.now() - timedelta(minutes=1), chase_count=2
    )
    Enquiry.objects.filter(pk=hub.enquiry.pk).update(subject=None)

    (line,) = open_rows(hub.police_officer)

    assert line.overdue
    assert line.chase_count == 2
    assert line.subject_name == Enquiry.NO_SUBJECT


def test_the_inbox_shows_its_lists_escaped(client, hub):
    record = hub.record("release_requested", marker="<b>bold</b> & 'quoted'")
    withdrawals.withdraw_request(
        request=hub.police_request, actor=hub.researcher, reason='Not needed: "<i>done</i>"'
    )
    client.force_login(hub.police_officer)

    page = client.get(reverse("agency-inbox")).content.decode()

    assert "Summary &lt;b&gt;bold&lt;/b&gt; &amp; &#x27;quoted&#x27;" in page
    assert "Not needed: &quot;&lt;i&gt;done&lt;/i&gt;&quot;" in page
    assert "<b>bold</b>" not in page and "<i>done</i>" not in page
    assert f'href="{reverse("sharing-record", args=[record.pk])}"' in page
    assert f'href="{reverse("sharing-request", args=[hub.police_request.pk])}"' in page


def test_the_inbox_tags_escape_what_they_are_given(hub):
    record = hub.record("release_requested", marker="x")
    InformationRecord.objects.filter(pk=record.pk).update(summary='<script>alert("x")</script>')
    shown = firewall.record_for(hub.police_officer, record.pk)

    html = Template("{% load inbox_lists %}{% awaiting_release_items records link %}").render(
        Context({"records": [shown], "link": ("/records/", "/")})
    )

    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert f'href="/records/{record.pk}/"' in html
