"""Every model that holds case or configuration data is in the change log, with its
many-to-many fields; the few that are not say why."""

import pytest
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.auth.models import Group
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

OUR_APPS = ["agencies", "enquiries", "sharing", "reports"]

NOT_IN_THE_CHANGE_LOG = {
    "audit.AccessLogEntry": "the access log itself: append-only, each row says who, when and why",
    "audit.AccountEvent": "the account log itself: append-only, each row says who, when "
    "and from where",
    "enquiries.EnquiryEvent": "the enquiry's history: written in the transaction of the change "
    "to the enquiry it describes, which the change log records with its actor; never edited",
    "enquiries.PersonMerge": "the merge's own record of who merged, when and why, and who "
    "undid it; the people, parts and enquiries it changes are logged on their own rows",
    "enquiries.FamilyEnquiry": "a reference for enquiries received together, made with them "
    "(their entries name it) and never changed",
    "enquiries.SlaEvent": "what the SLA scan (the system) found on the clock, once per enquiry "
    "and kind; nobody writes or edits it",
    "sharing.Chaser": "the chaser task's own record of each chase, inserted in bulk by the "
    "system; nobody writes or edits it",
    "enquiries.Notification": "a copy of what the hub told one person; reading it changes no case",
    "enquiries.EscalationRepeat": "the repeat job's own record of whom it told of an escalation "
    "nobody had acknowledged, inserted by the system; nobody writes or edits it",
    "enquiries.ReferenceCounter": "a counter that hands out enquiry references; the enquiries "
    "are logged",
    "enquiries.IntakeKey": "the guard against a form sent twice: a key and a hash of what was "
    "sent, pointing at the family it logged",
    "enquiries.Heartbeat": "when a scheduled task last finished, for /healthz",
    "enquiries.HubSettingsChange": "the history of hub settings itself: append-only, each row "
    "says who, when, why and the values before and after; the settings it changes are logged "
    "on their own rows",
    "enquiries.BackgroundHealth": "the background check's own note of since when it has been "
    "failing and when administrators were told; the system writes it, nobody edits it",
    "enquiries.OpenEnquiryName": "a copy of the open enquiries' names that the database keeps "
    "itself for the queue's search (migration 0026); the people and parts are logged",
    "enquiries.OutgoingEmail": "the outbox is its own record: who sent what to whom and when, "
    "and whether it went; only the worker changes a row, to say how sending went",
    "enquiries.EmailPreference": "a person's own choice of which notifications come by email: "
    "no case content, and nobody's access changes with it",
    "agencies.ApiToken": "its making and revoking are in the account log, with who and from "
    "where; nothing else about it changes, and its digest belongs in no log",
    "reports.DecisionSummary": "counts of the enquiries' decisions that the database keeps "
    "itself (reports.decisions); the decisions are logged on the enquiries",
    "reports.DecisionDay": "as reports.DecisionSummary: one day's counts",
    "agencies.SetUpCode": "issued only by an approved password reset or the first-administrators "
    "command, both in the access log with who; its use and refused tries are in the account log; "
    "its digest belongs in no log",
}


def our_models() -> list:
    return [model for label in OUR_APPS for model in apps.get_app_config(label).get_models()]


@pytest.mark.parametrize("model", our_models(), ids=lambda model: model._meta.label)
def test_every_model_is_in_the_change_log_or_says_why_not(model):
    assert auditlog.contains(model) or model._meta.label in NOT_IN_THE_CHANGE_LOG, (
        f"{model._meta.label} holds data but is not registered with auditlog: register it in "
        f"its app's ready(), or add it to NOT_IN_THE_CHANGE_LOG with the reason."
    )


@pytest.mark.parametrize("label", sorted(NOT_IN_THE_CHANGE_LOG))
def test_each_exclusion_is_a_model_left_out(label):
    # Labels, not classes: a renamed or removed model must leave this list too.
    assert not auditlog.contains(apps.get_model(label))


@pytest.mark.parametrize(
    "model",
    [model for model in our_models() if auditlog.contains(model)],
    ids=lambda model: model._meta.label,
)
def test_many_to_many_changes_are_logged_too(model):
    logged = auditlog._registry[model]["m2m_fields"]

    for field in model._meta.many_to_many:
        assert field.name in logged, f"{model._meta.label}.{field.name} is not logged"


@pytest.mark.parametrize(
    "model",
    [Group, get_user_obj_perms_model(), get_group_obj_perms_model()],
    ids=lambda model: model._meta.label,
)
def test_permissions_outside_our_apps_are_logged(model):
    assert auditlog.contains(model)
    for field in model._meta.many_to_many:
        assert field.name in auditlog._registry[model]["m2m_fields"]


@pytest.mark.parametrize("model", auditlog.get_models(), ids=lambda model: model._meta.label)
def test_no_entry_keeps_a_copy_of_the_whole_row(model):
    # serialize_data stores the whole row beside the changes, excluded fields included.
    assert not auditlog.get_serialize_options(model)["serialize_data"]
