"""The picture: what the hub knows about an enquiry, or a whole family enquiry, compiled for one
reader (docs/domain.md section 5.6), as a page and as a PDF.

It holds the referral, the people and who they appear with, an excerpt of the subjects'
chronology, each agency's information exactly as the firewall shows it to the reader (content
with its conditions on use, the signpost, or the withdrawal), the RAG rating and the decision
with their rationales, who compiled it and when, and what it leaves out. Everything is read
through the firewall, so the picture tells its reader no more than the enquiry page and the
person pages would; every compiling is in the access log (`log_picture`), with each sensitive
record whose content it showed.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

from agencies.models import HUB_ROLES, User
from audit.models import AccessLogEntry
from enquiries import people
from enquiries.hooks import ChronologyEntry
from enquiries.models import Enquiry, EnquiryPerson, FamilyEnquiry, Person

from . import access_log, firewall
from .firewall import NotVisible, ShownRecord
from .models import InformationRequest

# How many of the latest chronology entries the picture holds: each person's page has the rest.
CHRONOLOGY_EXCERPT = 20
FAMILY_PREFIX = "MASH-F-"
# The PDF's style: a file, not a <style> in the template, since no template holds inline style
# (tests/security/test_csp.py).
PDF_STYLE = Path(__file__).with_name("picture_pdf.css")


@dataclass(frozen=True)
class PersonInPicture:
    """Someone named in the enquiry (or the family's), with their parts in it."""

    person: Person
    parts: tuple[str, ...]


@dataclass(frozen=True)
class AgencyPart:
    """One agency's request on an enquiry and its records, as the reader may see them."""

    request: InformationRequest
    records: list[ShownRecord]


@dataclass(frozen=True)
class EnquiryPart:
    """One enquiry of the picture: the referral, the rating and the decision are its fields."""

    enquiry: Enquiry
    agencies: list[AgencyPart]

    @property
    def category_labels(self) -> list[str]:
        return [Enquiry.Concern(code).label for code in self.enquiry.categories]

    @property
    def records(self) -> list[ShownRecord]:
        return [record for agency in self.agencies for record in agency.records]


@dataclass(frozen=True)
class Connections:
    """Who a subject appears with across the enquiries the reader may see."""

    person: Person
    relationships: list[people.Relationship]


@dataclass(frozen=True)
class ChronologyLine:
    entry: ChronologyEntry
    reference: str
    about: str


@dataclass(frozen=True)
class Picture:
    reference: str
    family: FamilyEnquiry
    is_family: bool
    enquiries: list[EnquiryPart]
    people: list[PersonInPicture]
    connections: list[Connections]
    chronology: list[ChronologyLine]
    compiled_by: User
    compiled_at: datetime
    leaves_out: list[str]
    # Why the reader may look, for each enquiry, in the access log's words.
    reasons: dict[int, str]

    @property
    def title(self) -> str:
        subjects = ", ".join(part.enquiry.subject_name for part in self.enquiries)
        return f"The picture: {self.reference}, {subjects}"

    @property
    def records(self) -> list[ShownRecord]:
        return [record for part in self.enquiries for record in part.records]

    @property
    def shown(self) -> list[ShownRecord]:
        """Every record the picture shows, its agencies' part and its chronology, once each."""
        chronicled = [line.entry.shown for line in self.chronology if line.entry.shown is not None]
        return list({record.pk: record for record in [*self.records, *chronicled]}.values())

    @property
    def content_shown(self) -> list[int]:
        return sorted(record.pk for record in self.shown if record.content_visible)

    @property
    def compiled_by_description(self) -> str:
        return access_log.acting_as(self.compiled_by, str(self.compiled_by))


def is_family_reference(reference: str) -> bool:
    return reference.upper().startswith(FAMILY_PREFIX)


def _enquiries(reader: User, reference: str) -> list[Enquiry]:
    """The enquiry, or the family's enquiries the reader may see; `NotVisible` if none, as for
    a reference nobody has."""
    if not firewall.works_on_enquiries(reader):
        raise NotVisible("No enquiry has that reference.")
    visible = (
        firewall.visible_enquiries(reader)
        .select_related(
            "family", "subject", "referrer_type", "assignee", "decided_by", "outcome", "created_by"
        )
        .prefetch_related(
            Prefetch(
                "involvements",
                queryset=EnquiryPerson.objects.select_related("person").order_by("role", "id"),
            )
        )
    )
    if is_family_reference(reference):
        found = list(visible.filter(family__reference=reference).order_by("reference"))
    else:
        found = list(visible.filter(reference=reference))
    if not found:
        raise NotVisible("No enquiry has that reference.")
    return found


def _people(enquiries: list[Enquiry]) -> list[PersonInPicture]:
    """Everyone named, subjects first, each once with every part they have."""
    parts: dict[int, tuple[Person, list[str]]] = {}
    order = {role: index for index, role in enumerate(EnquiryPerson.Role.values)}
    involvements = sorted(
        (involvement for enquiry in enquiries for involvement in enquiry.involvements.all()),
        key=lambda involvement: (order.get(involvement.role, 99), involvement.pk),
    )
    for involvement in involvements:
        _, labels = parts.setdefault(involvement.person_id, (involvement.person, []))
        label = involvement.get_role_display()
        if label not in labels:
            labels.append(label)
    return [PersonInPicture(person, tuple(labels)) for person, labels in parts.values()]


def _history(
    reader: User, subjects: list[Person]
) -> tuple[list[ChronologyLine], int, list[Connections]]:
    """The latest `CHRONOLOGY_EXCERPT` entries of the subjects' chronologies (each over the
    enquiries about them the reader may see), how many older ones are left out, and whom each
    subject appears with. A fixed number of queries a subject, whatever their records."""
    lines: dict[tuple, ChronologyLine] = {}
    connections = []
    for subject in subjects:
        parts = people.person_parts(subject, viewer=reader)
        enquiries = list({part.enquiry_id: part.enquiry for part in parts}.values())
        chronology = people.chronology(subject, enquiries, viewer=reader)
        for entry in chronology.entries:
            # Siblings share their family's enquiries: an entry about both is one line.
            key = (entry.at, entry.kind, entry.enquiry_id, entry.title, entry.text)
            lines.setdefault(key, ChronologyLine(entry, chronology.reference(entry), str(subject)))
        connections.append(
            Connections(
                subject,
                people.relationships(subject, [enquiry.pk for enquiry in enquiries], viewer=reader),
            )
        )
    newest_first = sorted(
        lines.values(),
        key=lambda line: (line.entry.at, line.entry.enquiry_id, line.entry.order),
        reverse=True,
    )
    excerpt = newest_first[:CHRONOLOGY_EXCERPT]
    return excerpt, len(newest_first) - len(excerpt), connections


def _day(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%B %Y}"


def _leaves_out(
    reader: User, parts: list[EnquiryPart], *, older_entries: int, is_family: bool
) -> list[str]:
    """What the picture does not hold, in words its reader can act on."""
    records = [record for part in parts for record in part.records]
    signposts = [r for r in records if r.is_signpost and not r.is_withdrawn]
    withdrawn = [r for r in records if r.is_withdrawn and not r.content_visible]
    said = []
    if signposts:
        agencies = sorted({record.agency_name for record in signposts})
        said.append(
            f"The content of {len(signposts)} sensitive record{'s' if len(signposts) != 1 else ''}"
            f" {_listed(agencies, 'of')} not released to you: only a signpost says "
            f"{'they exist' if len(signposts) != 1 else 'it exists'}. Ask the agency to release "
            "it to the hub, or ask for it through the agency's normal routes."
        )
    if withdrawn:
        said.append(
            f"{len(withdrawn)} record{'s' if len(withdrawn) != 1 else ''} withdrawn by "
            "the agency that gave it: only who withdrew it, when and why."
        )
    for part in parts:
        for agency in part.agencies:
            if agency.request.is_open:
                where = f" on {part.enquiry.reference}" if is_family else ""
                said.append(
                    f"Whatever {agency.request.agency} holds{where}: asked on "
                    f"{_day(agency.request.requested_at)}, it has not answered yet."
                )
    if older_entries:
        said.append(
            f"{older_entries} older chronology entr{'ies' if older_entries != 1 else 'y'}: "
            f"the picture holds the latest {CHRONOLOGY_EXCERPT}; each person's page has them all."
        )
    if not reader.has_role(*HUB_ROLES):
        said.append(
            "Enquiries your agency was not asked about, whether or not they concern these "
            "people: they are neither shown nor counted."
        )
    said.append(
        "The referrer's contact details, the enquiry's history of changes, the earlier "
        "wording of corrected records and agencies not asked: see the enquiry's page."
    )
    return said


def _listed(names: list[str], preposition: str) -> str:
    joined = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{preposition} {joined}"


def compile_picture(*, reader: User, reference: str, now: datetime | None = None) -> Picture:
    """The picture of the enquiry (`MASH-2026-000123`) or of the family (`MASH-F-2026-000123`,
    its enquiries the reader may see), as the reader may see it, or `NotVisible`. Nothing is
    logged here: whoever shows or sends it calls `log_picture`."""
    enquiries = _enquiries(reader, reference)
    ids = [enquiry.pk for enquiry in enquiries]
    requests = list(
        firewall.visible_requests(reader)
        .filter(enquiry_id__in=ids)
        .select_related("agency")
        .order_by("enquiry__reference", "agency__name", "id")
    )
    records = firewall.shown_records(
        firewall.visible_records(reader)
        .filter(enquiry_id__in=ids)
        .order_by("enquiry__reference", "agency__name", "recorded_at", "id")
    )
    by_request: dict[int, list[ShownRecord]] = {}
    for record in records:
        by_request.setdefault(record.request_id, []).append(record)
    parts = [
        EnquiryPart(
            enquiry,
            [
                AgencyPart(request, by_request.get(request.pk, []))
                for request in requests
                if request.enquiry_id == enquiry.pk
            ],
        )
        for enquiry in enquiries
    ]
    subjects = [enquiry.subject for enquiry in enquiries if enquiry.subject is not None]
    chronology, older, connections = _history(reader, subjects)
    is_family = is_family_reference(reference)
    return Picture(
        reference=enquiries[0].family.reference if is_family else enquiries[0].reference,
        family=enquiries[0].family,
        is_family=is_family,
        enquiries=parts,
        people=_people(enquiries),
        connections=connections,
        chronology=chronology,
        compiled_by=reader,
        compiled_at=now or timezone.now(),
        leaves_out=_leaves_out(reader, parts, older_entries=older, is_family=is_family),
        reasons={
            enquiry.pk: access_log.justification(reader, enquiry, requests=requests)
            for enquiry in enquiries
        },
    )


def log_picture(picture: Picture, *, pdf: bool, purpose: str = "") -> None:
    """The picture shown (a page) or downloaded (a PDF) in the access log, in one insert: an
    entry for each of its enquiries (VIEW_PERSON on the page; EXPORT for a PDF) saying which
    records' content it showed, and a VIEW entry for each sensitive record whose content it
    showed, with the justification for that record's enquiry."""
    action = AccessLogEntry.Action.EXPORT if pdf else AccessLogEntry.Action.VIEW_PERSON
    channel = AccessLogEntry.Channel.EXPORT if pdf else AccessLogEntry.Channel.PAGE
    shown = picture.content_shown
    terms = (
        f"The picture of {picture.reference}{' as a PDF' if pdf else ''}{purpose}: "
        f"{len(picture.shown)} record{'s' if len(picture.shown) != 1 else ''}, the content of "
        + (f"{len(shown)} shown (records {', '.join(map(str, shown))})" if shown else "none shown")
    )
    reader = picture.compiled_by
    access_log.write_access_log(
        *(
            access_log.access_entries(
                user=reader,
                action=action,
                channel=channel,
                enquiry=part.enquiry,
                person_id=part.enquiry.subject_id,
                reason=picture.reasons[part.enquiry.pk],
                terms=terms,
            )
            for part in picture.enquiries
        ),
        access_log.content_view_entries(user=reader, records=picture.shown, channel=channel),
    )


# The PDF.


class NoFetching(URLFetcher):
    """WeasyPrint asks this for anything the HTML points at: the picture points at nothing (its
    style is inline, its fonts the system's), so a render never reaches the network or a file,
    and any attempt stops it."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=frozenset(), fail_on_errors=True)

    def fetch(self, url, headers=None):
        raise ValueError(f"The picture fetches nothing; it asked for {url[:80]}")


def render_pdf(picture: Picture) -> bytes:
    """The picture as an accessible PDF (PDF/UA-1: tagged, real text, its title and language
    set), from the same content as the page."""
    html = render_to_string(
        "sharing/picture_pdf.html", {"picture": picture, "LANGUAGE_CODE": settings.LANGUAGE_CODE}
    )
    fetcher = NoFetching()
    document = HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=fetcher)
    style = CSS(string=PDF_STYLE.read_text(), url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[style], pdf_variant="pdf/ua-1", pdf_tags=True)


def pdf_filename(picture: Picture) -> str:
    return f"{picture.reference}-picture.pdf"


def picture_for_referral(reader: User, enquiry: Enquiry) -> bytes:
    """The picture compiled now for a manager sending the enquiry on (enquiries.referrals,
    through `enquiries.hooks.picture_pdf`), logged as an export."""
    picture = compile_picture(reader=reader, reference=enquiry.reference)
    pdf = render_pdf(picture)
    log_picture(picture, pdf=True, purpose=", sent with an onward referral")
    return pdf
