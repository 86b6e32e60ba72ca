from datetime import datetime, timedelta

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from agencies import tokens
from agencies.models import Agency, User
from enquiries import services
from enquiries.models import Enquiry, ReferrerType
from enquiries.services import PersonDetails

PASSWORD = "correct-horse-battery-staple"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Agency {n}")
    kind = Agency.Kind.OTHER
    participation = Agency.Participation.CO_LOCATED


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    agency = factory.SubFactory(AgencyFactory)
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))


def api_key_for(user: User) -> str:
    """A new API token's key for `user`, as their account page would show it once."""
    return tokens.issue(user=user, name="Test script")[1]


def police_notification(
    actor: User,
    *first_names: str,
    last_name: str = "Smith",
    received_at: datetime | None = None,
    **given,
) -> list[Enquiry]:
    """The enquiries the hub's tests start from, through `services.enquiry_intake`: the police
    notifying a domestic incident about children named `first_names` (one family, one surname),
    received five minutes ago unless `received_at` says when; any other intake argument
    (`now`, `others`, `subjects`, `concern`) in `given`."""
    return services.enquiry_intake(
        **{
            "actor": actor,
            "received_at": received_at or timezone.now() - timedelta(minutes=5),
            "referrer_name": "PC Jones",
            "referrer_type": ReferrerType.objects.get(code="police"),
            "subjects": [
                PersonDetails(first_name=name, last_name=last_name) for name in first_names
            ],
            "subject_type": Enquiry.SubjectType.CHILD,
            "concern": "Domestic incident attended overnight; children present.",
            "categories": ["domestic_abuse"],
            "consent": Enquiry.Consent.NOT_SOUGHT,
            "consent_reason": "Police notification.",
            "lawful_basis": "children_act_2004_s11",
            **given,
        }
    )
