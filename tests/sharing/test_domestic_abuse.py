"""Police triage of domestic-abuse notifications (docs/domain.md 5.7; seed 004 sections
16-17): the import and the API all or nothing, triage to a hub enquiry or no further action,
police-only behind the firewall, every look logged, and the report."""

import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import Agency, Role
from audit.models import AccessLogEntry
from core.exceptions import StaleEdit
from enquiries.models import Enquiry, EnquiryPerson
from reports.periods import Period
from reports.selectors import build_report
from sharing import domestic_abuse
from sharing.domestic_abuse import BadNotificationFile
from sharing.models import DomesticAbuseNotification
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

Notification = DomesticAbuseNotification
HEADER = (
    "police_reference,incident_at,address,summary,consent,part,first_name,last_name,date_of_birth"
)
GOOD = "\n".join(
    [
        HEADER,
        "TVP-1,2026-12-01T22:15+00:00,1 Elm Road,Neighbours heard shouting. MARKER-SUMMARY,,"
        "victim,Vera,Victim,1990-05-01",
        "TVP-1,,,,,alleged_perpetrator,Paul,Partner,",
        "TVP-1,,,,,child,Cara,Child,2016-02-03",
        "TVP-1,,,,,child,Colin,Child,2019-07-08",
        "TVP-2,2026-12-01T23:40+00:00,,Verbal argument reported by the victim.,yes,"
        "victim,Ada,Alone,1985-01-01",
        "TVP-2,,,,,alleged_perpetrator,Ben,Brother,",
    ]
)


def csv_file(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


def load(hub, text: str = GOOD) -> dict[str, Notification]:
    made = domestic_abuse.import_notifications(csv_file(text), actor=hub.police_officer)
    return {n.police_reference: n for n in made}


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# The import


def test_a_good_file_loads_each_notification_with_its_people(hub):
    loaded = load(hub)

    assert sorted(loaded) == ["TVP-1", "TVP-2"]
    first = loaded["TVP-1"]
    assert first.agency == hub.police
    assert first.status == Notification.Status.NEW
    assert first.risk_level == ""
    assert first.address == "1 Elm Road"
    assert first.consent == Enquiry.Consent.NOT_SOUGHT
    assert first.people == [
        {
            "part": "victim",
            "first_name": "Vera",
            "last_name": "Victim",
            "date_of_birth": "1990-05-01",
        },
        {
            "part": "alleged_perpetrator",
            "first_name": "Paul",
            "last_name": "Partner",
            "date_of_birth": None,
        },
        {
            "part": "child",
            "first_name": "Cara",
            "last_name": "Child",
            "date_of_birth": "2016-02-03",
        },
        {
            "part": "child",
            "first_name": "Colin",
            "last_name": "Child",
            "date_of_birth": "2019-07-08",
        },
    ]
    assert loaded["TVP-2"].consent == Enquiry.Consent.YES


def test_a_bad_file_loads_nothing_and_names_every_problem_by_line_and_column(hub):
    load(hub, "\n".join([HEADER, "TVP-9,2026-12-01T20:00+00:00,,Earlier.,,victim,A,B,"]))
    bad = "\n".join(
        [
            HEADER,
            "TVP-1,2026-12-01T22:15,,Shouting.,maybe,victim,Vera,,1990-13-01",
            "TVP-1,2026-12-01T23:00+00:00,,,,uncle,Ulf,Uncle,",
            "TVP-3,2999-01-01T00:00+00:00,,,,child,Cara,Child,",
            "TVP-9,2026-12-01T20:00+00:00,,Again.,,victim,A,B,",
            "TVP-4,2026-12-01T20:00+00:00,,Two values",
        ]
    )

    with pytest.raises(BadNotificationFile) as raised:
        load(hub, bad)

    assert [str(problem) for problem in raised.value.problems] == [
        "line 2, incident_at: no UTC offset; write it as in 2026-03-02T22:15+00:00",
        "line 2, consent: unknown consent 'maybe': use yes, no, not_sought, or leave it empty "
        "(not sought)",
        "line 2, last_name: missing; name everyone",
        "line 2, date_of_birth: not an ISO 8601 date (1990-13-01)",
        "line 3, incident_at: differs from line 2 of TVP-1; leave it empty or give the same",
        "line 3, part: unknown part 'uncle': use one of victim, alleged_perpetrator, child",
        "line 4, incident_at: in the future",
        "line 4, summary: missing; say what happened, as police recorded it",
        "line 4, part: TVP-3 names 0 victims; a notification names exactly one",
        "line 5, police_reference: TVP-9 has been received already",
        "line 6: 4 values where the header has 9 columns",
    ]
    assert raised.value.summary == "5 bad rows (11 problems); nothing was loaded."
    assert list(Notification.objects.values_list("police_reference", flat=True)) == ["TVP-9"]


def test_a_bad_header_stops_at_the_header(hub):
    with pytest.raises(BadNotificationFile) as raised:
        load(hub, "police_reference,incident_at,colour\nTVP-1,x,y")

    assert [str(p) for p in raised.value.problems] == [
        "line 1: missing columns address, summary, consent, part, first_name, last_name, "
        "date_of_birth",
        "line 1: unknown column 'colour'; the columns are police_reference, incident_at, "
        "address, summary, consent, part, first_name, last_name, date_of_birth",
    ]
    assert not Notification.objects.exists()


@pytest.mark.parametrize("who", ["health_visitor", "researcher", "manager", "analyst"])
def test_only_police_practitioners_receive_notifications(hub, who):
    with pytest.raises(PermissionDenied) as raised:
        domestic_abuse.import_notifications(csv_file(GOOD), actor=getattr(hub, who))

    assert "Only police practitioners" in str(raised.value)
    assert not Notification.objects.exists()


# Triage


def test_a_referral_logs_a_family_enquiry_about_the_children_with_the_adults(hub):
    notification = load(hub)["TVP-1"]

    triaged = domestic_abuse.triage(
        notification=notification,
        actor=hub.police_officer,
        risk_level="high",
        decision="refer",
        rationale="Children present; third call this month.",
        expected_version=notification.version,
    )

    assert triaged.status == Notification.Status.REFERRED
    assert triaged.risk_level == "high"
    assert triaged.triaged_by == hub.police_officer
    assert triaged.version == 2
    family = list(Enquiry.objects.filter(family=triaged.enquiry.family).order_by("pk"))
    assert [e.subject.first_name for e in family] == ["Cara", "Colin"]
    enquiry = family[0]
    assert enquiry.subject_type == Enquiry.SubjectType.CHILD
    assert enquiry.subject.date_of_birth == date(2016, 2, 3)
    assert enquiry.categories == ["domestic_abuse"]
    assert enquiry.referrer_type.code == "police"
    assert enquiry.referrer_organisation == "Thames Valley Police"
    assert enquiry.consent == Enquiry.Consent.NOT_SOUGHT
    assert enquiry.lawful_basis == "children_act_2004_s11"
    assert "Police triage: high risk (DASH)." in enquiry.concern
    assert "MARKER-SUMMARY" in enquiry.concern
    assert "Children present; third call this month." in enquiry.concern
    parts = {
        (link.person.first_name, link.role)
        for link in EnquiryPerson.objects.filter(enquiry=enquiry).select_related("person")
    }
    assert parts == {
        ("Cara", EnquiryPerson.Role.SUBJECT),
        ("Colin", EnquiryPerson.Role.SIBLING),
        ("Vera", EnquiryPerson.Role.HOUSEHOLD_MEMBER),
        ("Paul", EnquiryPerson.Role.ALLEGED_PERPETRATOR),
    }


def test_a_notification_with_no_child_refers_the_victim_as_an_adult_at_risk(hub):
    notification = load(hub)["TVP-2"]

    triaged = domestic_abuse.triage(
        notification=notification,
        actor=hub.police_officer,
        risk_level="medium",
        decision="refer",
        expected_version=1,
    )

    enquiry = triaged.enquiry
    assert enquiry.subject_type == Enquiry.SubjectType.ADULT
    assert str(enquiry.subject) == "Ada Alone"
    assert enquiry.consent == Enquiry.Consent.YES
    assert enquiry.lawful_basis == ""
    assert Enquiry.objects.filter(family=enquiry.family).count() == 1


def test_no_further_action_needs_a_rationale(hub):
    notification = load(hub)["TVP-2"]

    with pytest.raises(ValidationError) as raised:
        domestic_abuse.triage(
            notification=notification,
            actor=hub.police_officer,
            risk_level="standard",
            decision="nfa",
            expected_version=1,
        )

    assert raised.value.message_dict == {"rationale": ["Say why no further action is needed."]}
    notification.refresh_from_db()
    assert notification.status == Notification.Status.NEW
    closed = domestic_abuse.triage(
        notification=notification,
        actor=hub.police_officer,
        risk_level="standard",
        decision="nfa",
        rationale="Verbal only; victim supported by IDVA.",
        expected_version=1,
    )
    assert closed.status == Notification.Status.NO_FURTHER_ACTION
    assert closed.enquiry is None
    assert not Enquiry.objects.exclude(pk=hub.enquiry.pk).exists()


def test_a_triage_at_an_old_version_is_refused_and_changes_nothing(hub):
    notification = load(hub)["TVP-2"]
    domestic_abuse.triage(
        notification=notification,
        actor=hub.police_officer,
        risk_level="standard",
        decision="nfa",
        rationale="Closed.",
        expected_version=1,
    )

    with pytest.raises(StaleEdit) as raised:
        domestic_abuse.triage(
            notification=notification,
            actor=hub.police_officer,
            risk_level="high",
            decision="refer",
            expected_version=1,
        )

    assert raised.value.current_version == 2
    assert raised.value.changes == [f"it is now no further action, triaged by {hub.police_officer}"]
    notification.refresh_from_db()
    assert notification.status == Notification.Status.NO_FURTHER_ACTION
    denied = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.DENIED).latest("id")
    assert denied.reason.startswith(f"triage domestic-abuse notification {notification.pk}")


# The firewall


@pytest.fixture
def other_force(hub):
    force = AgencyFactory(name="West Mercia Police", kind=Agency.Kind.POLICE)
    return UserFactory(roles=[Role.PRACTITIONER], agency=force, username="other_force")


OUTSIDERS = ["other_force", "health_visitor", "researcher", "manager", "analyst", "auditor"]


def outsider(hub, other_force, who):
    return other_force if who == "other_force" else getattr(hub, who)


@pytest.mark.parametrize("who", OUTSIDERS)
def test_nobody_but_the_force_sees_a_notification(client, hub, other_force, who):
    notification = load(hub)["TVP-1"]
    user = outsider(hub, other_force, who)
    client.force_login(user)
    api = api_for(user)
    url = reverse("da-notification", args=[notification.pk])
    api_url = reverse("api:domestic-abuse-notification-detail", args=[notification.pk])
    triage_url = reverse("api:domestic-abuse-notification-triage", args=[notification.pk])
    body = {"risk_level": "high", "decision": "refer", "expected_version": 1}

    page = client.get(url)
    posted = client.post(url, {**body, "rationale": ""})
    listed = api.get(reverse("api:domestic-abuse-notification-list"))
    one = api.get(api_url)
    triaged = api.post(triage_url, body, format="json")

    assert page.status_code == posted.status_code == 404
    assert one.status_code == triaged.status_code == 404
    assert listed.status_code == 200 and listed.json()["count"] == 0
    for response in (page, posted, one, triaged, listed):
        assert b"MARKER-SUMMARY" not in response.content
        assert b"Vera" not in response.content
    notification.refresh_from_db()
    assert notification.status == Notification.Status.NEW
    assert (
        AccessLogEntry.objects.filter(user=user, action=AccessLogEntry.Action.DENIED).count() == 4
    )


def test_the_force_sees_and_triages_its_notification_by_page_and_api(client, hub):
    loaded = load(hub)
    client.force_login(hub.police_officer)
    url = reverse("da-notification", args=[loaded["TVP-1"].pk])

    page = client.get(url)
    posted = client.post(
        url, {"risk_level": "high", "decision": "refer", "rationale": "", "expected_version": 1}
    )
    api = api_for(hub.police_officer).post(
        reverse("api:domestic-abuse-notification-triage", args=[loaded["TVP-2"].pk]),
        {
            "risk_level": "standard",
            "decision": "nfa",
            "rationale": "Closed.",
            "expected_version": 1,
        },
        format="json",
    )

    assert page.status_code == 200
    assert b"MARKER-SUMMARY" in page.content and b"da-triage-form" in page.content
    assert posted.status_code == 302
    assert api.status_code == 200
    assert api.json()["status"] == "nfa"
    referred = Notification.objects.get(police_reference="TVP-1")
    assert referred.enquiry is not None
    # The hub works on the enquiry; the notification itself stays police-only.
    hub_page = client_for(hub.researcher).get(
        reverse("enquiry-detail", args=[referred.enquiry.reference])
    )
    assert hub_page.status_code == 200


def client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_a_practitioner_of_the_force_cannot_triage_twice_by_page(client, hub):
    notification = load(hub)["TVP-2"]
    domestic_abuse.triage(
        notification=notification,
        actor=hub.police_officer,
        risk_level="standard",
        decision="nfa",
        rationale="Closed.",
        expected_version=1,
    )
    client.force_login(hub.police_officer)

    page = client.get(reverse("da-notification", args=[notification.pk]))

    assert page.status_code == 200
    assert b"da-triage-form" not in page.content
    assert b"No further action" in page.content


# The access log


def test_every_look_is_in_the_access_log(client, hub):
    loaded = load(hub)
    client.force_login(hub.police_officer)
    before = AccessLogEntry.objects.count()

    client.get(reverse("da-queue"))
    client.get(reverse("da-notification", args=[loaded["TVP-1"].pk]))
    api_for(hub.police_officer).get(reverse("api:domestic-abuse-notification-list"))

    entries = list(AccessLogEntry.objects.order_by("id")[before:])
    assert [(e.action, e.channel) for e in entries] == [
        ("view_person", "page"),
        ("view_person", "page"),
        ("view_person", "api"),
    ]
    assert entries[0].terms == "Domestic-abuse notifications shown: TVP-1, TVP-2"
    assert entries[0].reason == (
        "Triaging domestic-abuse notifications as Agency practitioner for Thames Valley Police"
    )
    assert entries[1].terms == "Domestic-abuse notifications shown: TVP-1"


def test_a_referral_is_logged_as_police_information_released_to_the_hub(hub):
    notification = load(hub)["TVP-1"]

    triaged = domestic_abuse.triage(
        notification=notification,
        actor=hub.police_officer,
        risk_level="high",
        decision="refer",
        expected_version=1,
    )

    entry = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.RELEASE).latest("id")
    assert entry.user == hub.police_officer
    assert entry.enquiry == triaged.enquiry
    assert entry.reason == (
        f"Referring domestic-abuse notification TVP-1 to the hub as {triaged.enquiry.reference} "
        "(high risk) as Agency practitioner for Thames Valley Police"
    )


# Pages


def test_the_queue_shows_new_first_oldest_first_and_filters(client, hub):
    loaded = load(hub)
    Notification.objects.filter(pk=loaded["TVP-2"].pk).update(
        received_at=timezone.now() - timedelta(hours=1)
    )
    domestic_abuse.triage(
        notification=loaded["TVP-1"],
        actor=hub.police_officer,
        risk_level="medium",
        decision="nfa",
        rationale="Closed.",
        expected_version=1,
    )
    load(hub, "\n".join([HEADER, "TVP-3,2026-12-01T20:00+00:00,,Late.,,victim,Zoe,Zed,"]))
    client.force_login(hub.police_officer)

    page = client.get(reverse("da-queue")).content.decode()
    medium = client.get(reverse("da-queue"), {"risk_level": "medium"}).content.decode()
    new = client.get(reverse("da-queue"), {"status": "new"}).content.decode()

    assert page.index("TVP-2") < page.index("TVP-3") < page.index("TVP-1")
    assert "TVP-1" in medium and "TVP-2" not in medium
    assert "TVP-1" not in new and "TVP-2" in new and "TVP-3" in new


def test_the_inbox_links_police_to_their_queue_only(client, hub):
    client.force_login(hub.police_officer)
    police = client.get(reverse("agency-inbox")).content
    client.force_login(hub.health_visitor)
    health = client.get(reverse("agency-inbox")).content

    assert b"da-queue-link" in police
    assert b"da-queue-link" not in health


def test_the_upload_page_lists_the_problems_and_loads_nothing(client, hub):
    client.force_login(hub.police_officer)
    bad = "\n".join([HEADER, "TVP-1,not a time,,Shouting.,,victim,Vera,Victim,"])

    response = client.post(reverse("da-upload"), {"file": upload(bad)})
    good = client.post(reverse("da-upload"), {"file": upload(GOOD)})

    assert response.status_code == 400
    assert "line 2, incident_at: not an ISO 8601 date and time (not a time)" in (
        response.content.decode()
    )
    assert "1 bad row; nothing was loaded." in response.content.decode()
    assert good.status_code == 302
    assert Notification.objects.count() == 2


def upload(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("notifications.csv", text.encode(), content_type="text/csv")


def test_the_upload_page_is_for_police_practitioners(client, hub):
    client.force_login(hub.health_visitor)

    assert client.get(reverse("da-upload")).status_code == 403


@pytest.mark.parametrize("size", [3, 12])
def test_the_queue_takes_the_same_queries_at_any_size(
    client, hub, size, django_assert_max_num_queries
):
    rows = [HEADER] + [
        f"TVP-{n},2026-12-01T20:00+00:00,,Shouting.,,victim,V{n},Victim," for n in range(size)
    ]
    load(hub, "\n".join(rows))
    client.force_login(hub.police_officer)
    client.get(reverse("da-queue"))  # the session and the user's roles, as a running server has

    # session, user, roles, agency (kind), the count, the page, and the access log's write
    # (its lock and the last hash, the insert)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("da-queue"))

    assert response.status_code == 200
    # every notification listed; what happened is on each one's own page
    assert response.content.decode().count("Victim</td>") == size
    assert "Shouting" not in response.content.decode()


# The API


def test_the_api_receives_all_or_nothing_with_errors_by_position(hub):
    api = api_for(hub.police_officer)
    url = reverse("api:domestic-abuse-notification-list")
    good = {
        "police_reference": "TVP-10",
        "incident_at": "2026-12-01T22:15:00+00:00",
        "summary": "Shouting heard.",
        "people": [
            {"part": "victim", "first_name": "Vera", "last_name": "Victim"},
            {
                "part": "child",
                "first_name": "Cara",
                "last_name": "Child",
                "date_of_birth": "2016-02-03",
            },
        ],
    }
    no_victim = {**good, "police_reference": "TVP-11", "people": [good["people"][1]]}

    refused = api.post(url, {"notifications": [good, no_victim]}, format="json")
    received = api.post(url, {"notifications": [good]}, format="json")
    again = api.post(url, {"notifications": [good]}, format="json")

    assert refused.status_code == 400
    assert refused.json() == {
        "notifications": [
            {},
            {"people": ["The notification names 0 victims; a notification names exactly one."]},
        ]
    }
    assert received.status_code == 201
    assert received.json()[0]["police_reference"] == "TVP-10"
    assert received.json()[0]["people"][1]["date_of_birth"] == "2016-02-03"
    assert again.status_code == 400
    assert again.json() == {
        "notifications": [{"police_reference": ["TVP-10 has been received already."]}]
    }
    assert Notification.objects.count() == 1


def test_the_api_refuses_other_agencies_bulk_notifications(hub):
    response = api_for(hub.health_visitor).post(
        reverse("api:domestic-abuse-notification-list"),
        {"notifications": []},
        format="json",
    )

    assert response.status_code == 400  # an empty list is refused before anything else
    response = api_for(hub.researcher).post(
        reverse("api:domestic-abuse-notification-list"),
        {
            "notifications": [
                {
                    "police_reference": "X",
                    "incident_at": "2026-12-01T22:15:00+00:00",
                    "summary": "S",
                    "people": [{"part": "victim", "first_name": "A", "last_name": "B"}],
                }
            ]
        },
        format="json",
    )
    assert response.status_code == 403


def test_the_api_triage_answers_409_at_an_old_version(hub):
    notification = load(hub)["TVP-2"]
    api = api_for(hub.police_officer)
    url = reverse("api:domestic-abuse-notification-triage", args=[notification.pk])
    body = {
        "risk_level": "standard",
        "decision": "nfa",
        "rationale": "Closed.",
        "expected_version": 1,
    }

    first = api.post(url, body, format="json")
    second = api.post(url, body, format="json")

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["current_version"] == 2


# The report


def test_the_report_counts_by_risk_and_outcome(hub):
    loaded = load(hub)
    load(hub, "\n".join([HEADER, "TVP-3,2026-12-01T20:00+00:00,,Late.,,victim,Zoe,Zed,"]))
    now = timezone.now()
    domestic_abuse.triage(
        notification=loaded["TVP-1"],
        actor=hub.police_officer,
        risk_level="high",
        decision="refer",
        expected_version=1,
        now=now + timedelta(minutes=30),
    )
    domestic_abuse.triage(
        notification=loaded["TVP-2"],
        actor=hub.police_officer,
        risk_level="high",
        decision="nfa",
        rationale="Closed.",
        expected_version=1,
        now=now + timedelta(minutes=90),
    )
    today = timezone.localdate(now)

    report = build_report(
        "domestic-abuse", Period(today, today + timedelta(days=1)), user=hub.analyst
    )
    hidden = build_report(
        "domestic-abuse", Period(today, today + timedelta(days=1)), user=hub.auditor
    )

    rows = {row["risk_level"]: row for row in report.rows}
    assert rows["High"] == {
        "risk_level": "High",
        "received": 2,
        "referred": 1,
        "nfa": 1,
        "not_triaged": 0,
        "referred_percent": 50.0,
        "median_minutes": 60,
    }
    assert rows["Standard"]["received"] == 0
    assert rows["Not yet triaged"]["received"] == 1
    assert rows["Overall"]["received"] == 3
    assert rows["Overall"]["not_triaged"] == 1
    assert {row["risk_level"]: row["received"] for row in hidden.rows}["Overall"] == 0


# The demo


def test_the_demo_police_have_notifications_some_triaged_one_referred(hub):
    from demo.domestic_abuse import seed_demo_domestic_abuse

    UserFactory(roles=[Role.PRACTITIONER], agency=hub.police, username="police")

    loaded = seed_demo_domestic_abuse()
    again = seed_demo_domestic_abuse()

    assert (loaded, again) == (5, 0)
    statuses = dict(Notification.objects.values_list("police_reference", "status"))
    assert statuses == {
        "DEMO-DA-0001": "referred",
        "DEMO-DA-0002": "new",
        "DEMO-DA-0003": "nfa",
        "DEMO-DA-0004": "new",
        "DEMO-DA-0005": "new",
    }
    referred = Notification.objects.get(police_reference="DEMO-DA-0001").enquiry
    assert referred.subject_type == Enquiry.SubjectType.CHILD
    assert Enquiry.objects.filter(family=referred.family).count() == 2
