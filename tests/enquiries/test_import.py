"""Importing past enquiries from a CSV: all or nothing, timed by the clock, and shown
everywhere an enquiry is, though it has no subject."""

from datetime import UTC, datetime, timedelta
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import Agency, Role, User
from enquiries import services
from enquiries.importing import SYSTEM_USERNAME, BadFile, import_enquiries
from enquiries.models import (
    Enquiry,
    EnquiryEvent,
    FamilyEnquiry,
    Outcome,
    ReferenceCounter,
    ReferrerType,
)
from enquiries.services import PersonDetails

pytestmark = pytest.mark.django_db

HEADER = "reference,family_reference,received_at,rag,decided_at,outcome,referrer_type"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
# Hand-checked against the default clock: Mon-Fri 09:00-17:00 Europe/London, England and
# Wales bank holidays; Red 240, Amber 480, Green and no RAG 1440 working minutes.
GOOD = [
    # Friday 16:00 to Monday 12:00: 60 + 180 = 240 working minutes, on time.
    "OLD-1,OLD-F-1,2025-03-07T16:00+00:00,red,2025-03-10T12:00+00:00,nfa,police",
    # Its sibling, decided a minute later: 241, late.
    "OLD-2,OLD-F-1,2025-03-07T16:00+00:00,red,2025-03-10T12:01+00:00,strategy_discussion,police",
    # Saturday night: the clock starts on Monday at 09:00; Monday 480 + Tuesday 60 = 540, late.
    "OLD-3,OLD-3,2025-03-08T22:30+00:00,amber,2025-03-11T10:00+00:00,early_help,school",
    # British Summer Time, before opening: Wednesday 480 + Thursday 75 = 555, on time.
    "OLD-4,OLD-4,2025-07-02T08:30+01:00,green,2025-07-03T10:15+01:00,advice,gp",
    # Still open: rated, and not rated.
    "OLD-5,OLD-F-5,2025-12-01T10:00+00:00,amber,,,health_visitor",
    "OLD-6,OLD-F-5,2025-12-01T10:00Z,,,,anonymous",
]


@pytest.fixture(autouse=True)
def lead_agency(db):
    return Agency.objects.create(name="Children's Social Care", kind="childrens_social_care")


def write(tmp_path: Path, *rows: str, header: str = HEADER, bom: bool = False) -> Path:
    path = tmp_path / "enquiries.csv"
    text = "\r\n".join([header, *rows]) + "\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_enquiries", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(path: Path, *args: str) -> tuple[str, str]:
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_enquiries", str(path), *args, stdout=StringIO(), stderr=err)
    return str(raised.value), err.getvalue()


def nothing_loaded() -> bool:
    return not (
        Enquiry.objects.exists()
        or FamilyEnquiry.objects.exists()
        or EnquiryEvent.objects.exists()
        or User.objects.filter(username=SYSTEM_USERNAME).exists()
    )


# A good file


def test_a_good_file_loads_every_enquiry_its_family_and_history(tmp_path):
    out, err = run(write(tmp_path, *GOOD))

    assert out.startswith("Loaded 6 enquiries in 4 families (4 decided, 2 open) in ")
    assert "rows/second" in out
    assert err == ""  # no progress bar when stderr is not a terminal
    enquiries = {e.reference: e for e in Enquiry.objects.select_related("family", "outcome")}
    assert sorted(enquiries) == [f"OLD-{n}" for n in range(1, 7)]
    assert enquiries["OLD-1"].family == enquiries["OLD-2"].family
    assert enquiries["OLD-1"].family.reference == "OLD-F-1"
    assert enquiries["OLD-3"].family.reference == "OLD-3"  # a family of one uses its own
    assert FamilyEnquiry.objects.count() == 4
    states = {ref: (e.state, e.rating) for ref, e in enquiries.items()}
    assert states["OLD-4"] == ("decided", "green")
    assert states["OLD-5"] == ("screening", "amber")
    assert states["OLD-6"] == ("received", "none")
    assert enquiries["OLD-2"].outcome.code == "strategy_discussion"
    assert enquiries["OLD-5"].outcome is None and enquiries["OLD-5"].decided_at is None
    for enquiry in enquiries.values():
        assert enquiry.subject is None
        assert enquiry.imported_at is not None
        assert enquiry.referrer_name == "" and enquiry.categories == [] and enquiry.concern == ""
        assert enquiry.created_by.username == SYSTEM_USERNAME


def test_each_enquiry_has_a_history_of_receipt_and_decision_matching_its_version(tmp_path):
    run(write(tmp_path, *GOOD))

    system = User.objects.get(username=SYSTEM_USERNAME)
    decided = Enquiry.objects.get(reference="OLD-1")
    events = list(decided.events.values_list("kind", "at", "version", "from_value", "to_value"))
    assert events == [
        ("received", datetime(2025, 3, 7, 16, 0, tzinfo=UTC), 1, "", ""),
        ("decision", datetime(2025, 3, 10, 12, 0, tzinfo=UTC), 2, "screening", "nfa"),
    ]
    assert decided.version == 2 and decided.decided_by == system
    still_open = Enquiry.objects.get(reference="OLD-6")
    assert list(still_open.events.values_list("kind", flat=True)) == ["received"]
    assert still_open.version == 1
    assert EnquiryEvent.objects.count() == 10
    assert set(EnquiryEvent.objects.values_list("actor", flat=True)) == {system.pk}


def test_the_system_account_cannot_sign_in_and_has_no_roles(tmp_path, agency):
    run(write(tmp_path, *GOOD))

    system = User.objects.get(username=SYSTEM_USERNAME)
    assert not system.is_active
    assert not system.has_usable_password()
    assert not system.groups.exists()
    assert system.agency.kind == "childrens_social_care"  # the lead agency, not the first
    assert str(system) == "Previous system"


def test_a_named_user_logs_the_enquiries(tmp_path, make_user):
    manager = make_user(Role.MANAGER, username="mo")

    run(write(tmp_path, *GOOD), "--user", "mo")

    assert set(Enquiry.objects.values_list("created_by", flat=True)) == {manager.pk}
    assert not User.objects.filter(username=SYSTEM_USERNAME).exists()


def test_an_unknown_user_is_refused(tmp_path):
    message, _ = refused(write(tmp_path, *GOOD), "--user", "nobody")

    assert message == "No user has the username 'nobody'."
    assert nothing_loaded()


def test_with_no_agency_the_system_account_cannot_be_made(tmp_path, lead_agency):
    lead_agency.delete()

    message, _ = refused(write(tmp_path, *GOOD))

    assert "The hub has no agencies yet" in message
    assert nothing_loaded()


@pytest.mark.parametrize(
    ("reference", "deadline", "at_risk_from", "breached_from", "elapsed", "on_time"),
    [
        # Red, 240 minutes: at risk after 180, breached at the end of minute 241.
        ("OLD-1", "2025-03-10T12:00Z", "2025-03-10T11:00Z", "2025-03-10T12:01Z", 240, True),
        ("OLD-2", "2025-03-10T12:00Z", "2025-03-10T11:00Z", "2025-03-10T12:01Z", 241, False),
        # Amber, 480 minutes from Monday 09:00.
        ("OLD-3", "2025-03-10T17:00Z", "2025-03-10T15:00Z", "2025-03-11T09:01Z", 540, False),
        # Green, 1440 minutes (three days) from Wednesday 09:00 BST (08:00 UTC); at risk
        # after 1080: Wednesday 480, Thursday 480, Friday 120, so Friday 11:00 BST.
        ("OLD-4", "2025-07-04T16:00Z", "2025-07-04T10:00Z", "2025-07-07T08:01Z", 555, True),
        # Open: Monday 10:00 to 17:00 is 420 minutes, so due Tuesday 10:00; no elapsed time
        # is stored, the page counts it now.
        ("OLD-5", "2025-12-02T10:00Z", "2025-12-01T16:00Z", "2025-12-02T10:01Z", None, None),
    ],
)
def test_timing_is_what_the_clock_in_force_computes(
    tmp_path, reference, deadline, at_risk_from, breached_from, elapsed, on_time
):
    import_enquiries(write(tmp_path, *GOOD), now=NOW)

    enquiry = Enquiry.objects.get(reference=reference)
    assert enquiry.deadline == datetime.fromisoformat(deadline)
    assert enquiry.at_risk_from == datetime.fromisoformat(at_risk_from)
    assert enquiry.breached_from == datetime.fromisoformat(breached_from)
    assert enquiry.elapsed_minutes == elapsed
    assert enquiry.decided_on_time is on_time


def test_on_time_counts_in_sql_as_the_clock_says(tmp_path):
    import_enquiries(write(tmp_path, *GOOD), now=NOW)

    on_time = Enquiry.objects.filter(decided_on_time=True).values_list("reference", flat=True)
    assert sorted(on_time) == ["OLD-1", "OLD-4"]
    assert Enquiry.objects.get(reference="OLD-3").allowance_minutes == 480


def test_a_byte_order_mark_and_columns_in_any_order_are_accepted(tmp_path):
    header = "referrer_type,rag,reference,received_at,family_reference,outcome,decided_at"
    row = "police,red,OLD-1,2025-03-07T16:00+00:00,OLD-F-1,nfa,2025-03-10T12:00+00:00"

    result = import_enquiries(write(tmp_path, row, header=header, bom=True), now=NOW)

    assert result.rows == 1 and result.families == 1 and result.decided == 1
    assert Enquiry.objects.get().elapsed_minutes == 240


def test_a_file_object_of_bytes_or_text_loads_as_a_path_does(tmp_path):
    text = "\n".join([HEADER, *GOOD[:2]])

    import_enquiries(BytesIO(b"\xef\xbb\xbf" + text.encode()), now=NOW)
    import_enquiries(StringIO("\ufeff" + text.replace("OLD-", "NEW-")), now=NOW)

    assert Enquiry.objects.count() == 4


def test_blank_lines_are_skipped_and_spaces_around_values_ignored(tmp_path):
    row = " OLD-1 , OLD-F-1 ,2025-03-07T16:00+00:00 , red ,, ,police "

    import_enquiries(write(tmp_path, "", row, ""), now=NOW)

    assert Enquiry.objects.get().reference == "OLD-1"


def test_reference_counters_move_past_imported_references_in_the_apps_pattern(tmp_path, make_user):
    ReferenceCounter.objects.create(year=2025, last_number=40)
    ReferenceCounter.objects.create(year=2024, last_number=900)
    run(
        write(
            tmp_path,
            "MASH-2025-000120,MASH-F-2025-000120,2025-03-07T16:00+00:00,red,,,police",
            "MASH-2025-000121,MASH-F-2025-000120,2025-03-07T16:00+00:00,red,,,police",
            "MASH-2024-000007,MASH-F-2024-000950,2024-03-07T16:00+00:00,red,,,police",
            "MASH-2023-000005,MASH-F-2023-000005,2023-03-07T16:00+00:00,,,,police",
            "OLD-99,OLD-F-99,2022-03-07T16:00+00:00,,,,police",
        )
    )

    counters = dict(ReferenceCounter.objects.values_list("year", "last_number"))
    assert counters == {2023: 5, 2024: 950, 2025: 121}
    # Intake afterwards takes the next numbers, which are free.
    (logged,) = services.enquiry_intake(
        actor=make_user(Role.RESEARCHER),
        received_at=datetime(2025, 6, 2, 10, 0, tzinfo=UTC),
        referrer_name="PC Jones",
        referrer_type=ReferrerType.objects.get(code="police"),
        subjects=[PersonDetails(first_name="Amy", last_name="Smith")],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Domestic incident.",
        categories=["domestic_abuse"],
        consent=Enquiry.Consent.YES,
        now=NOW,
    )
    assert logged.reference == "MASH-2025-000122"
    assert logged.family.reference == "MASH-F-2025-000122"


# A bad file: everything checked first, every problem reported, nothing loaded


@pytest.mark.parametrize(
    ("row", "printed"),
    [
        (
            ",F-1,2025-03-07T16:00+00:00,red,,,police",
            "line 3, reference: missing; every row needs one",
        ),
        (
            "X-1,,2025-03-07T16:00+00:00,red,,,police",
            "line 3, family_reference: missing; every row needs one",
        ),
        ("X-1,F-1,,red,,,police", "line 3, received_at: missing; every row needs one"),
        (
            "X-1,F-1,07/03/2025 16:00,red,,,police",
            "line 3, received_at: not an ISO 8601 date and time (07/03/2025 16:00)",
        ),
        (
            "X-1,F-1,2025-03-07,red,,,police",
            "line 3, received_at: a date with no time of day (2025-03-07)",
        ),
        (
            "X-1,F-1,2025-03-07T16:00,red,,,police",
            "line 3, received_at: no UTC offset (2025-03-07T16:00); "
            "write it as in 2025-03-02T10:00+00:00",
        ),
        (
            "X-1,F-1,2025-03-07T16:00+00:00,red,2025-03-10 12:00,nfa,police",
            "line 3, decided_at: no UTC offset (2025-03-10 12:00); "
            "write it as in 2025-03-02T10:00+00:00",
        ),
        (
            "X-1,F-1,2099-03-07T16:00+00:00,red,,,police",
            "line 3, received_at: in the future (2099-03-07T16:00+00:00)",
        ),
        (
            "X-1,F-1,2025-03-07T16:00+00:00,red,2099-01-01T09:00+00:00,nfa,police",
            "line 3, decided_at: in the future (2099-01-01T09:00+00:00)",
        ),
        (
            "X-1,F-1,1999-12-31T16:00+00:00,red,,,police",
            "line 3, received_at: before 2000, earlier than the hub clock covers "
            "(1999-12-31T16:00+00:00)",
        ),
        (
            "X-1,F-1,2025-03-02T10:00+00:00,red,2025-03-01T10:00+00:00,nfa,police",
            "line 3, decided_at: before received_at (2025-03-02T10:00+00:00)",
        ),
        (
            "X-1,F-1,2025-03-07T16:00+00:00,purple,,,police",
            "line 3, rag: unknown RAG 'purple': use red, amber, green, or leave it empty",
        ),
        (
            "X-1,F-1,2025-03-07T16:00+00:00,red,2025-03-10T12:00+00:00,maybe,police",
            "line 3, outcome: unknown outcome 'maybe': use one of adult_social_care, advice, "
            "csc_assessment, early_help, marac, nfa, other_agency, strategy_discussion",
        ),
        (
            "X-1,F-1,2025-03-07T16:00+00:00,red,,nfa,police",
            "line 3, outcome: 'nfa' given on an open row: add decided_at, or leave it empty",
        ),
        (
            "X-1,F-1,2025-03-07T16:00+00:00,red,2025-03-10T12:00+00:00,,police",
            "line 3, outcome: missing; a decided enquiry needs its outcome",
        ),
        (
            "X-1,F-1,2025-03-07T16:00+00:00,red,,,pigeon",
            "line 3, referrer_type: unknown referrer type 'pigeon': use one of anonymous, "
            "family, gp, health_visitor, hospital, housing, other, police, probation, public, "
            "school, self",
        ),
        (
            "X-1,F-1,2025-03-07T16:00+00:00,red,,,",
            "line 3, referrer_type: missing; every row needs one",
        ),
        (
            f"{'X' * 33},F-1,2025-03-07T16:00+00:00,red,,,police",
            "line 3, reference: 33 characters long; at most 32",
        ),
        (
            f"X-1,{'F' * 40},2025-03-07T16:00+00:00,red,,,police",
            "line 3, family_reference: 40 characters long; at most 32",
        ),
        (
            "X-1,F-1,2025-03-07T16:00+00:00,red,,police",
            "line 3: 6 values where the header has 7 columns",
        ),
    ],
)
def test_a_bad_row_is_reported_by_line_column_and_reason_and_nothing_loads(tmp_path, row, printed):
    message, err = refused(write(tmp_path, GOOD[0], row))

    assert err.splitlines() == [printed]
    assert message == "1 bad row; nothing was loaded."
    assert nothing_loaded()


def test_every_bad_row_is_reported_in_line_order_with_every_problem(tmp_path):
    rows = [
        GOOD[0],
        "X-1,F-1,yesterday,purple,,,police",
        GOOD[2],
        "X-2,,2025-03-07T16:00+00:00,red,2025-03-06T16:00+00:00,,police",
        GOOD[3],
    ]

    message, err = refused(write(tmp_path, *rows))

    assert err.splitlines() == [
        "line 3, received_at: not an ISO 8601 date and time (yesterday)",
        "line 3, rag: unknown RAG 'purple': use red, amber, green, or leave it empty",
        "line 5, family_reference: missing; every row needs one",
        "line 5, decided_at: before received_at (2025-03-07T16:00+00:00)",
        "line 5, outcome: missing; a decided enquiry needs its outcome",
    ]
    assert message == "2 bad rows (5 problems); nothing was loaded."
    assert nothing_loaded()


def test_a_reference_twice_in_the_file_names_the_earlier_line(tmp_path):
    copy = GOOD[2].replace("OLD-3,OLD-3", "OLD-1,OLD-F-9")

    _, err = refused(write(tmp_path, *GOOD, copy))

    assert err.splitlines() == ["line 8, reference: OLD-1 is already on line 2"]
    assert nothing_loaded()


def test_lines_are_counted_as_the_file_has_them_when_a_value_spans_lines(tmp_path):
    quoted = '"OLD-7",OLD-F-7,2025-03-07T16:00+00:00,red,,,"po\nlice"'

    _, err = refused(write(tmp_path, quoted, "OLD-8,OLD-F-8,2025-03-07T16:00+00:00,red,,,cat"))

    assert err.splitlines()[0].startswith("line 2, referrer_type: unknown referrer type")
    assert err.splitlines()[1].startswith("line 4, referrer_type: unknown referrer type 'cat'")


def test_running_the_same_file_twice_refuses_every_row_and_changes_nothing(tmp_path):
    path = write(tmp_path, *GOOD)
    run(path)
    before = (
        list(Enquiry.objects.order_by("pk").values()),
        list(EnquiryEvent.objects.order_by("pk").values()),
        list(FamilyEnquiry.objects.order_by("pk").values()),
    )

    message, err = refused(path)

    assert message == "6 bad rows (12 problems); nothing was loaded."
    assert err.splitlines()[:3] == [
        "line 2, reference: OLD-1 is already in the database",
        "line 2, family_reference: OLD-F-1 is already in the database",
        "line 3, reference: OLD-2 is already in the database",
    ]
    after = (
        list(Enquiry.objects.order_by("pk").values()),
        list(EnquiryEvent.objects.order_by("pk").values()),
        list(FamilyEnquiry.objects.order_by("pk").values()),
    )
    assert after == before


def test_a_family_already_in_the_database_is_refused(tmp_path):
    FamilyEnquiry.objects.create(reference="OLD-F-5")

    _, err = refused(write(tmp_path, *GOOD))

    assert err.splitlines() == [
        "line 6, family_reference: OLD-F-5 is already in the database",
        "line 7, family_reference: OLD-F-5 is already in the database",
    ]
    assert not Enquiry.objects.exists()


def test_bytes_that_are_not_utf8_are_named_by_line_and_column(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        f"{HEADER}\n{GOOD[0]}\n".encode() + b"Caf\xe9-1,F-1,2025-03-07T16:00+00:00,red,,,police\n"
    )

    message, err = refused(path)

    assert err.splitlines() == [
        "line 3, reference: not UTF-8 text; save the file as UTF-8 (CSV UTF-8 in Excel)"
    ]
    assert message == "1 bad row; nothing was loaded."
    assert nothing_loaded()


def test_a_file_that_is_not_utf8_from_its_header_says_so(tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes(f"{HEADER}\n{GOOD[0]}\n".encode("utf-16"))

    message, _ = refused(path)

    assert message.startswith("Not UTF-8 text; save the file as UTF-8")


def test_an_empty_file_says_so(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    message, _ = refused(path)

    assert message == "The file is empty; nothing was loaded."


def test_a_header_with_no_rows_loads_nothing_and_says_so(tmp_path):
    message, _ = refused(write(tmp_path))

    assert message == "The file has a header but no enquiries under it; nothing was loaded."


def test_missing_and_unknown_columns_are_named_and_stop_the_check(tmp_path):
    header = "reference,family,received_at,rag,decided_at,outcome,referrer_type,notes"

    message, err = refused(write(tmp_path, "X-1,F-1,yesterday,,,,police,n", header=header))

    assert err.splitlines() == [
        "line 1: missing column family_reference",
        "line 1: unknown columns 'family', 'notes'; the columns are reference, "
        "family_reference, received_at, rag, decided_at, outcome, referrer_type",
    ]
    assert message == "The header has 2 problems; nothing was loaded."


def test_a_column_named_twice_is_refused(tmp_path):
    message, err = refused(write(tmp_path, GOOD[0] + ",red", header=HEADER + ",rag"))

    assert err.splitlines() == ["line 1: column named twice: rag"]
    assert message == "Column named twice: rag; nothing was loaded."


def test_a_missing_file_is_refused_plainly(tmp_path):
    message, _ = refused(tmp_path / "nowhere.csv")

    assert "No such file or directory" in message


def test_the_import_module_raises_bad_file_with_every_problem(tmp_path):
    with pytest.raises(BadFile) as raised:
        import_enquiries(write(tmp_path, "X-1,F-1,2025-03-07T16:00,red,,,police"), now=NOW)

    (problem,) = raised.value.problems
    assert (problem.line, problem.column) == (2, "received_at")


# Progress and queries


def test_progress_is_reported_while_checking_and_loading(tmp_path):
    calls = []

    import_enquiries(write(tmp_path, *GOOD), now=NOW, progress=lambda *call: calls.append(call))

    assert ("checking", 6, None) in calls
    assert calls[-1] == ("loading", 6, 6)


def test_the_command_draws_a_bar_only_on_a_terminal(tmp_path):
    class Terminal(StringIO):
        def isatty(self) -> bool:
            return True

    err = Terminal()
    call_command("import_enquiries", str(write(tmp_path, *GOOD)), stdout=StringIO(), stderr=err)

    assert "\rloading   [" in err.getvalue()
    assert "6/6 rows" in err.getvalue()


def rows_for(count: int) -> list[str]:
    """`count` enquiries in families of two, half decided, over a few days of 2025."""
    rows = []
    for n in range(count):
        received = datetime(2025, 3, 3, 8, 0, tzinfo=UTC) + timedelta(hours=7 * n)
        decided = (received + timedelta(hours=30)).isoformat() if n % 2 else ""
        rows.append(
            f"MASH-2025-{n + 1:06d},MASH-F-2025-{n // 2 + 1:06d},{received.isoformat()},"
            f"{['red', 'amber', 'green', ''][n % 4]},{decided},{'nfa' if decided else ''},gp"
        )
    return rows


def test_loading_runs_the_same_queries_for_few_rows_as_for_many(tmp_path):
    # The first import makes the system account and builds the clock: a one-off cost.
    import_enquiries(write(tmp_path, GOOD[0]), now=NOW)
    counts = {}
    for size in (4, 60):
        path = write(tmp_path, *[row.replace("MASH-", f"S{size}-") for row in rows_for(size)])
        with CaptureQueriesContext(connection) as captured:
            import_enquiries(path, now=NOW)
        counts[size] = len(captured)

    # Savepoint and release; the clock's version, outcomes and referrer types; references and
    # families already stored; the system account; family ids and their COPY; enquiry ids
    # and the COPYs of enquiries and events (one each per 20,000 rows); statistics for three
    # tables. No reference counter moves: these references are not in the app's pattern.
    assert counts == {4: 16, 60: 16}
    assert Enquiry.objects.count() == 65


# Imported enquiries elsewhere in the app


@pytest.fixture
def imported(tmp_path):
    import_enquiries(write(tmp_path, *GOOD), now=timezone.now())
    return Enquiry.objects.get(reference="OLD-5")


def test_an_imported_open_enquiry_is_in_the_queue_with_no_subject(
    client, make_user, imported, django_assert_max_num_queries
):
    client.force_login(make_user(Role.RESEARCHER))

    # As the queue's own test pins it: session, user, groups, count, clock, rows, notifications
    with django_assert_max_num_queries(8):
        html = client.get(reverse("triage-queue")).content.decode()

    assert "OLD-5" in html and "OLD-6" in html
    assert "No subject recorded (imported)" in html
    assert "OLD-1" not in html  # decided


def test_an_imported_enquiry_page_says_where_it_came_from(client, make_user, imported):
    client.force_login(make_user(Role.MANAGER))

    html = client.get(imported.get_absolute_url()).content.decode()

    assert "OLD-5: No subject recorded (imported)" in html
    today = timezone.localdate()
    assert f"Imported from the hub's previous system on {today:%-d %B %Y}." in html
    assert 'data-testid="re-referral"' not in html  # other imports share no subject
    assert "OLD-6</a>: No subject recorded (imported), received" in html  # its sibling
    assert "Previous system" in html  # who logged it, in the history
    assert "Record decision" in html


def test_an_imported_decided_enquiry_page_shows_its_decision(client, make_user, imported):
    client.force_login(make_user(Role.RESEARCHER))

    html = client.get(reverse("enquiry-detail", args=["OLD-2"])).content.decode()

    assert "Decision: Strategy discussion" in html
    assert "after 241 minutes (late)" in html


def test_the_api_gives_an_imported_enquiry_with_a_null_subject(make_user, imported):
    api = APIClient()
    api.force_authenticate(make_user(Role.RESEARCHER))

    detail = api.get(f"/api/v1/enquiries/{imported.reference}/")
    listed = api.get("/api/v1/enquiries/")

    assert detail.status_code == 200
    body = detail.json()
    assert body["subject"] is None and body["subject_type"] == ""
    assert body["imported_at"] is not None
    assert body["family_reference"] == "OLD-F-5" and body["sibling_references"] == ["OLD-6"]
    assert [event["kind"] for event in body["history"]] == ["received"]
    assert listed.status_code == 200
    assert {row["reference"] for row in listed.json()["results"]} >= {"OLD-1", "OLD-5"}


def test_demo_sharing_leaves_imported_enquiries_alone(imported):
    from demo.sharing import _enquiries_to_share_on

    open_enquiries, decided_enquiries = _enquiries_to_share_on()

    assert open_enquiries == [] and decided_enquiries == []


def test_an_imported_open_enquiry_is_worked_on_like_any_other(make_user, imported):
    manager = make_user(Role.MANAGER)
    enquiry = Enquiry.objects.get(reference="OLD-6")

    enquiry = services.enquiry_rate(
        enquiry=enquiry,
        actor=manager,
        rating="red",
        rationale="Disclosure.",
        expected_version=enquiry.version,
    )
    enquiry = services.enquiry_decide(
        enquiry=enquiry,
        actor=manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="No concerns.",
        expected_version=enquiry.version,
    )

    # Rating moved it to screening on the way (one change, two lines of history), as for any
    # enquiry received unrated.
    history = list(enquiry.events.values_list("kind", "version"))
    assert history == [("received", 1), ("rating", 2), ("state", 2), ("decision", 3)]
    assert enquiry.state == "decided" and enquiry.version == 3
