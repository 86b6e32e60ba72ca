"""The picture (sharing.picture): what it holds for each reader, who may have it, what the access
log says of it, and the PDF: tagged, real text, fetching nothing."""

import io
from datetime import timedelta

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError

from agencies.models import Role
from audit.models import AccessLogEntry
from enquiries import hooks
from enquiries import services as enquiry_services
from enquiries.models import Enquiry, Outcome, Rag, ReferrerType
from enquiries.services import PersonDetails
from sharing import picture, services
from sharing.firewall import NotVisible
from sharing.models import InformationRecord
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

Log = AccessLogEntry.Action
Channel = AccessLogEntry.Channel


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    # Lines wrap where the page ends them: compare words, not lines.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def get_picture(client, reference: str, **query):
    return client.get(reverse("enquiry-picture", args=[reference]), query)


def decided(hub) -> Enquiry:
    enquiry = enquiry_services.enquiry_rate(
        enquiry=hub.enquiry,
        actor=hub.manager,
        rating=Rag.AMBER,
        rationale="Bruising on a child of four: amber.",
        expected_version=hub.enquiry.version,
    )
    return enquiry_services.enquiry_decide(
        enquiry=enquiry,
        actor=hub.manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="Explained by a fall; the school will keep watching.",
        expected_version=enquiry.version,
        decided_at=timezone.now() - timedelta(minutes=1),
    )


# The service.


def test_it_holds_each_agencys_information_as_the_firewall_shows_it_to_the_reader(hub):
    released = hub.record("released", marker="RELEASED")
    hidden = hub.record("sensitive", marker="HIDDEN")
    health = hub.record("non_sensitive", marker="HEALTHY", agency="health")

    compiled = picture.compile_picture(reader=hub.researcher, reference=hub.enquiry.reference)

    assert compiled.reference == hub.enquiry.reference
    assert not compiled.is_family
    assert [part.enquiry for part in compiled.enquiries] == [hub.enquiry]
    agencies = compiled.enquiries[0].agencies
    assert [agency.request.agency.name for agency in agencies] == [
        "Oxford Health",
        "Thames Valley Police",
    ]
    assert [[record.pk for record in agency.records] for agency in agencies] == [
        [health.pk],
        [released.pk, hidden.pk],
    ]
    shown = {record.pk: record for record in compiled.records}
    assert shown[released.pk].conditions == (
        "Condition RELEASED: not to be shared with the family."
    )
    assert shown[hidden.pk].is_signpost
    assert shown[hidden.pk].summary == shown[hidden.pk].detail == ""
    assert compiled.content_shown == sorted([released.pk, health.pk])
    assert [(named.person, named.parts) for named in compiled.people] == [
        (hub.enquiry.subject, ("Subject",))
    ]
    assert compiled.compiled_by == hub.researcher
    assert timezone.now() - compiled.compiled_at < timedelta(seconds=5)
    assert compiled.leaves_out == [
        "The content of 1 sensitive record of Thames Valley Police not released to you: only a "
        "signpost says it exists. Ask the agency to release it to the hub, or ask for it "
        "through the agency's normal routes.",
        "Whatever Oxford Health holds: asked on 2 December 2026, it has not answered yet.",
        "Whatever Thames Valley Police holds: asked on 2 December 2026, it has not answered yet.",
        "The referrer's contact details, the enquiry's history of changes, the earlier wording "
        "of corrected records and agencies not asked: see the enquiry's page.",
    ]


def test_the_owning_agency_reads_its_own_records_and_is_told_what_it_may_not_see(hub):
    hub.record("sensitive", marker="OWN")
    hub.record("sensitive", marker="THEIRS", agency="health")

    compiled = picture.compile_picture(reader=hub.police_officer, reference=hub.enquiry.reference)

    by_agency = {
        agency.request.agency.name: agency.records for agency in compiled.enquiries[0].agencies
    }
    assert [r.summary for r in by_agency["Thames Valley Police"]] == ["Summary OWN"]
    assert [r.is_signpost for r in by_agency["Oxford Health"]] == [True]
    assert compiled.leaves_out[0].startswith("The content of 1 sensitive record of Oxford Health")
    assert (
        "Enquiries your agency was not asked about, whether or not they concern these people: "
        "they are neither shown nor counted." in compiled.leaves_out
    )


def test_it_holds_the_rating_and_the_decision_with_their_rationales(hub):
    enquiry = decided(hub)

    part = picture.compile_picture(reader=hub.manager, reference=enquiry.reference).enquiries[0]

    assert part.enquiry.rating == Rag.AMBER
    assert part.enquiry.rating_rationale == "Bruising on a child of four: amber."
    assert part.enquiry.outcome.code == "nfa"
    assert part.enquiry.decision_rationale == (
        "Explained by a fall; the school will keep watching."
    )
    assert part.category_labels == ["Physical abuse"]


def test_the_chronology_is_an_excerpt_of_the_latest_entries_newest_first(hub):
    for number in range(picture.CHRONOLOGY_EXCERPT + 3):
        hub.record("non_sensitive", marker=f"LINE{number:02d}")

    compiled = picture.compile_picture(reader=hub.researcher, reference=hub.enquiry.reference)

    # received, asked, and 23 records: 25 entries, of which the latest 20
    assert len(compiled.chronology) == picture.CHRONOLOGY_EXCERPT
    assert compiled.chronology[0].entry.title == "Thames Valley Police: Summary LINE22"
    assert compiled.chronology[-1].entry.title == "Thames Valley Police: Summary LINE03"
    assert {line.reference for line in compiled.chronology} == {hub.enquiry.reference}
    assert (
        "5 older chronology entries: the picture holds the latest 20; each person's page has "
        "them all." in compiled.leaves_out
    )


def make_family(hub) -> list[Enquiry]:
    children = enquiry_services.enquiry_intake(
        actor=hub.researcher,
        received_at=timezone.now() - timedelta(minutes=20),
        referrer_name="Ms Head",
        referrer_type=ReferrerType.objects.get(code="school"),
        subjects=[
            PersonDetails(first_name="Ben", last_name="Family"),
            PersonDetails(first_name="Cat", last_name="Family"),
        ],
        others=[(PersonDetails(first_name="Dee", last_name="Family"), "parent_carer")],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Both children came to school hungry.",
        categories=["neglect"],
        consent=Enquiry.Consent.YES,
    )
    services.send_information_requests(
        enquiry=children[0], actor=hub.researcher, agencies=[hub.police]
    )
    return children


def test_a_family_picture_holds_each_enquiry_of_the_family_the_reader_may_see(hub):
    ben, cat = make_family(hub)
    family = ben.family.reference
    assert family.startswith("MASH-F-")

    for_the_hub = picture.compile_picture(reader=hub.researcher, reference=family)
    for_police = picture.compile_picture(reader=hub.police_officer, reference=family)

    assert for_the_hub.is_family and for_the_hub.reference == family
    assert [part.enquiry for part in for_the_hub.enquiries] == [ben, cat]
    assert [(str(named.person), named.parts) for named in for_the_hub.people] == [
        ("Ben Family", ("Subject", "Sibling")),
        ("Cat Family", ("Subject", "Sibling")),
        ("Dee Family", ("Parent or carer",)),
    ]
    # police were asked about Ben only: Cat's enquiry is not in their picture, nor counted
    assert [part.enquiry for part in for_police.enquiries] == [ben]
    assert cat.reference not in str(for_police.leaves_out)
    assert {line.reference for line in for_police.chronology} == {ben.reference}


def test_whoever_may_not_see_the_enquiry_gets_nothing(hub):
    education = AgencyFactory(name="Education")
    teacher = UserFactory(roles=[Role.PRACTITIONER], agency=education)
    hub.record("non_sensitive", marker="NOTHING")

    for reader in (teacher, hub.analyst, hub.auditor, hub.administrator):
        with pytest.raises(NotVisible):
            picture.compile_picture(reader=reader, reference=hub.enquiry.reference)
    with pytest.raises(NotVisible):
        picture.compile_picture(reader=hub.researcher, reference="MASH-2026-999999")
    with pytest.raises(NotVisible):
        picture.compile_picture(reader=teacher, reference=hub.enquiry.family.reference)


# The page and the PDF.


def test_the_page_and_the_pdf_are_404_alike_for_an_outsider_and_a_reference_nobody_has(client, hub):
    teacher = UserFactory(roles=[Role.PRACTITIONER], agency=AgencyFactory(name="Education"))
    client.force_login(teacher)

    for query in ({}, {"format": "pdf"}):
        hidden = get_picture(client, hub.enquiry.reference, **query)
        missing = get_picture(client, "MASH-2026-999999", **query)
        assert hidden.status_code == missing.status_code == 404
        assert hub.enquiry.reference not in hidden.content.decode()
        assert "Amy" not in hidden.content.decode()
    assert not AccessLogEntry.objects.filter(user=teacher, enquiry=hub.enquiry).exists()


@pytest.mark.parametrize("role", ["analyst", "auditor", "administrator"])
def test_roles_that_do_no_case_work_are_refused_as_on_the_enquiry_page(client, hub, role):
    client.force_login(getattr(hub, role))

    assert get_picture(client, hub.enquiry.reference).status_code == 403
    assert get_picture(client, hub.enquiry.reference, format="pdf").status_code == 403
    assert client.get(hub.enquiry.get_absolute_url()).status_code == 403


def test_a_look_at_the_page_is_in_the_access_log_with_the_content_it_showed(client, hub):
    released = hub.record("released", marker="SEEN")
    hidden = hub.record("sensitive", marker="UNSEEN")
    client.force_login(hub.researcher)
    before = AccessLogEntry.objects.order_by("-id").values_list("id", flat=True).first()

    response = get_picture(client, hub.enquiry.reference)

    assert response.status_code == 200
    entries = AccessLogEntry.objects.filter(id__gt=before).order_by("id")
    why = f"Working on {hub.enquiry.reference} as Researcher"
    assert [
        (e.action, e.channel, e.enquiry_id, e.person_id, e.record_id, e.reason, e.terms)
        for e in entries
    ] == [
        (
            Log.VIEW_PERSON,
            Channel.PAGE,
            hub.enquiry.pk,
            hub.enquiry.subject_id,
            None,
            why,
            f"The picture of {hub.enquiry.reference}: 2 records, the content of 1 shown "
            f"(records {released.pk})",
        ),
        (Log.VIEW, Channel.PAGE, hub.enquiry.pk, hub.enquiry.subject_id, released.pk, why, ""),
    ]
    assert hidden.pk not in [entry.record_id for entry in entries]


def test_each_download_is_in_the_access_log_as_an_export(client, hub):
    released = hub.record("released", marker="DOWNLOADED")
    client.force_login(hub.manager)

    for _ in range(2):
        response = get_picture(client, hub.enquiry.reference, format="pdf")
        assert response.status_code == 200

    exports = AccessLogEntry.objects.filter(user=hub.manager, action=Log.EXPORT)
    assert [(e.channel, e.enquiry_id, e.terms) for e in exports] == 2 * [
        (
            Channel.EXPORT,
            hub.enquiry.pk,
            f"The picture of {hub.enquiry.reference} as a PDF: 1 record, the content of 1 "
            f"shown (records {released.pk})",
        )
    ]
    views = AccessLogEntry.objects.filter(user=hub.manager, action=Log.VIEW)
    assert [(e.channel, e.record_id) for e in views] == 2 * [(Channel.EXPORT, released.pk)]


def test_the_pdf_is_a_tagged_accessible_download_of_real_text(client, hub):
    hub.record("released", marker="TAGGED")
    client.force_login(hub.researcher)

    response = get_picture(client, hub.enquiry.reference, format="pdf")

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{hub.enquiry.reference}-picture.pdf"'
    )
    assert "no-store" in response["Cache-Control"]
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    catalog = reader.trailer["/Root"]
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in catalog
    assert catalog["/Lang"] == "en-GB"
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title == f"The picture: {hub.enquiry.reference}, Amy Firewall"
    text = pdf_text(response.content)
    assert "The picture" in text
    assert "Summary TAGGED" in text
    assert "Conditions on use: Condition TAGGED: not to be shared with the family." in text
    assert "Compiled by" in text and "as Researcher on Wednesday 2 December 2026" in text
    assert "What this picture leaves out" in text


def test_the_page_links_to_the_pdf_and_the_enquiry_page_to_the_picture(client, hub):
    client.force_login(hub.police_officer)

    page = get_picture(client, hub.enquiry.reference).content.decode()
    enquiry_page = client.get(hub.enquiry.get_absolute_url()).content.decode()

    url = reverse("enquiry-picture", args=[hub.enquiry.reference])
    assert f'href="{url}?format=pdf"' in page
    assert f'href="{url}"' in enquiry_page


def test_a_family_picture_has_the_familys_reference(client, hub):
    ben, _ = make_family(hub)
    client.force_login(hub.researcher)

    response = get_picture(client, ben.family.reference, format="pdf")

    assert response["Content-Disposition"] == (
        f'attachment; filename="{ben.family.reference}-picture.pdf"'
    )
    text = pdf_text(response.content)
    assert f"Family enquiry {ben.family.reference}" in text
    assert "Both children came to school hungry." in text


def test_every_text_is_escaped_on_the_page_and_written_as_text_in_the_pdf(client, hub):
    record = hub.record("non_sensitive", marker="<script>alert(1)</script>")
    InformationRecord.objects.filter(pk=record.pk).update(
        conditions='<img src="http://example.org/x.png">'
    )
    client.force_login(hub.researcher)

    page = get_picture(client, hub.enquiry.reference).content.decode()
    pdf = get_picture(client, hub.enquiry.reference, format="pdf")

    assert "<script>alert(1)</script>" not in page
    assert "Summary &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<img src="http://example.org' not in page
    text = pdf_text(pdf.content)
    assert "Summary <script>alert(1)</script>" in text
    assert '<img src="http://example.org/x.png">' in text


def test_a_render_fetches_nothing(hub):
    """Whatever the HTML points at, a render never reaches the network or a file: it stops."""
    for address in ("http://example.org/x.css", "file:///etc/passwd"):
        html = f'<html lang="en"><head><link rel="stylesheet" href="{address}"></head></html>'
        with pytest.raises(FatalURLFetchingError):
            HTML(string=html, url_fetcher=picture.NoFetching()).write_pdf()


def test_the_page_costs_the_same_queries_whatever_the_number_of_records(
    client, hub, django_assert_max_num_queries
):
    client.force_login(hub.researcher)
    hub.record("released", marker="ONE")
    # session, user and roles (5), the enquiry and its people (2), requests, records (2),
    # the subject's parts, outcomes, events and the agencies' part of the chronology (6), their
    # relationships (2), the access log (4) and the first reads (1)
    with django_assert_max_num_queries(22):
        assert get_picture(client, hub.enquiry.reference).status_code == 200
    for number in range(12):
        hub.record(("released", "sensitive", "non_sensitive")[number % 3], marker=f"M{number}")
    with django_assert_max_num_queries(22):
        assert get_picture(client, hub.enquiry.reference).status_code == 200


def test_an_onward_referral_sends_the_picture_compiled_for_the_manager(hub):
    released = hub.record("released", marker="SENT")
    enquiry = decided(hub)

    pdf = hooks.picture_pdf(hub.manager, enquiry)

    assert pdf.startswith(b"%PDF-")
    assert "Summary SENT" in pdf_text(pdf)
    export = AccessLogEntry.objects.get(user=hub.manager, action=Log.EXPORT)
    assert export.terms == (
        f"The picture of {enquiry.reference} as a PDF, sent with an onward referral: 1 record, "
        f"the content of 1 shown (records {released.pk})"
    )


def test_the_people_are_listed_subjects_first_with_every_part(hub):
    ben, _ = make_family(hub)

    people = picture.compile_picture(reader=hub.researcher, reference=ben.reference).people

    assert [(str(named.person), named.parts) for named in people] == [
        ("Ben Family", ("Subject",)),
        ("Dee Family", ("Parent or carer",)),
        ("Cat Family", ("Sibling",)),
    ]
