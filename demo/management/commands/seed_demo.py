import time
from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Q
from django.utils import timezone

from demo.domestic_abuse import seed_demo_domestic_abuse
from demo.enquiries import seed_demo_enquiries
from demo.hub import seed_demo_background_notices, seed_demo_hub
from demo.quality import seed_demo_quality
from demo.referrals import seed_demo_referrals
from demo.sharing import seed_demo_sharing
from enquiries.models import Enquiry, Notification
from enquiries.sla_scan import record_sla_events
from sharing.models import InformationRecord, InformationRequest, ReleaseStatus


class Command(BaseCommand):
    help = "Create the demo hub: its agencies and one login per role. Safe to run twice."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--enquiries",
            type=int,
            default=0,
            metavar="N",
            help="Top the hub up to N demo enquiries in every state and rating (default 0).",
        )

    def handle(self, *args, enquiries: int, **options) -> None:
        if enquiries < 0:
            raise CommandError("--enquiries must be 0 or more.")
        result = seed_demo_hub()
        self.stdout.write(
            f"Demo hub ready: {result.agencies_created} agencies and "
            f"{result.users_created} people created (the rest already existed)."
        )
        if enquiries:
            started = time.monotonic()
            created = seed_demo_enquiries(target=enquiries)
            self.stdout.write(
                f"Demo enquiries: {created} created in {time.monotonic() - started:.1f} s "
                f"(the hub now holds at least {enquiries})."
            )
            started = time.monotonic()
            shared = seed_demo_sharing()
            self.stdout.write(
                f"Demo information sharing: {shared.requests} requests and {shared.records} "
                f"records on {shared.enquiries} enquiries in {time.monotonic() - started:.1f} s."
            )
            started = time.monotonic()
            referred = seed_demo_referrals()
            self.stdout.write(
                f"Demo onward referrals: {referred}, each with its picture, in "
                f"{time.monotonic() - started:.1f} s."
            )
            started = time.monotonic()
            sampled = seed_demo_quality()
            self.stdout.write(
                f"Demo NFA quality reviews: {sampled} decisions drawn in "
                f"{time.monotonic() - started:.1f} s."
            )
            started = time.monotonic()
            notified = seed_demo_domestic_abuse()
            self.stdout.write(
                f"Demo domestic-abuse notifications: {notified} loaded for the police to "
                f"triage in {time.monotonic() - started:.1f} s."
            )
            # What the per-minute scan would have recorded by now, so the notifications
            # page has something in it without a Celery worker.
            started = time.monotonic()
            scan = record_sla_events()
            self.stdout.write(
                f"SLA scan: {scan.at_risk} at risk, {scan.breached} breached, "
                f"{scan.notifications} notifications in {time.monotonic() - started:.1f} s."
            )
            background = seed_demo_background_notices(now=timezone.now())
            self.stdout.write(
                f"Background work: {background} notifications to the administrators of a "
                "night it stopped for 20 minutes."
            )
            for line in the_mix(now=timezone.now()):
                self.stdout.write(line)
        self.stdout.write("")
        self.stdout.write("Demo logins (username / password / agency / roles):")
        for user in result.users:
            self.stdout.write(
                f"  {user.username:<11} {user.password:<24} {user.agency:<24} "
                f"{', '.join(user.roles)}"
            )
        self.stdout.write("")
        if settings.TWO_FACTOR_REQUIRED:
            self.stdout.write(
                "Two-factor sign-in is on: each login sets up an authenticator app at its first "
                "sign-in (make demo switches it off)."
            )
        else:
            self.stdout.write(
                "Two-factor sign-in is off (TWO_FACTOR_REQUIRED=false): these passwords alone "
                "sign in, and every page says so."
            )


def the_mix(*, now: datetime) -> list[str]:
    """What the demo hub holds at `now`, in a few lines: its open work, what waits on the
    agencies, and who has been told what."""
    open_work = Q(state__in=Enquiry.OPEN_STATES)
    enquiries = Enquiry.objects.aggregate(
        total=Count("id"),
        adults=Count("id", filter=Q(subject_type=Enquiry.SubjectType.ADULT)),
        open=Count("id", filter=open_work),
        **{state: Count("id", filter=Q(state=state)) for state in Enquiry.OPEN_STATES},
        at_risk=Count("id", filter=open_work & Q(at_risk_from__lte=now, breached_from__gt=now)),
        breached=Count("id", filter=open_work & Q(breached_from__lte=now)),
        escalated=Count("id", filter=open_work & Q(escalated_at__isnull=False)),
        acknowledged=Count("id", filter=open_work & Q(escalation_acknowledged_at__isnull=False)),
    )
    in_states = ", ".join(
        f"{enquiries[state]} {Enquiry.State(state).label.lower()}" for state in Enquiry.OPEN_STATES
    )
    requests = InformationRequest.objects.filter(
        status__in=InformationRequest.OPEN_STATUSES, enquiry__state__in=Enquiry.OPEN_STATES
    ).aggregate(
        open=Count("id"),
        overdue=Count("id", filter=Q(due_at__lt=now)),
        agencies=Count("agency", distinct=True),
    )
    releases = InformationRecord.objects.filter(
        release_status=ReleaseStatus.REQUESTED, enquiry__state__in=Enquiry.OPEN_STATES
    ).aggregate(waiting=Count("id"), agencies=Count("agency", distinct=True))
    told = dict(Notification.objects.order_by().values_list("kind").annotate(count=Count("id")))
    notifications = "; ".join(
        f"{told.get(kind, 0)} {kind.label.lower()}" for kind in Notification.Kind
    )
    return [
        f"Open enquiries: {enquiries['open']} ({in_states}); {enquiries['at_risk']} at risk, "
        f"{enquiries['breached']} breached, {enquiries['escalated']} escalated "
        f"({enquiries['acknowledged']} acknowledged by a manager). "
        f"Adults at risk: {enquiries['adults']} of {enquiries['total']} enquiries.",
        f"Waiting on agencies: {requests['open']} information requests in "
        f"{requests['agencies']} agencies' inboxes ({requests['overdue']} overdue), "
        f"{releases['waiting']} releases for {releases['agencies']} agencies to decide.",
        f"Notifications: {notifications}.",
    ]
