import factory
from django.contrib.auth.models import Group

from agencies import tokens
from agencies.models import Agency, User

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
