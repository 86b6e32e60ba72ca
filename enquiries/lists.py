"""The hub's lists administrators keep: decision outcomes and referrer types.

Items are added, renamed and retired, never deleted: past enquiries keep the words they were
decided and referred under. Each change is checked before it is saved, and saving refuses a
change to an item that is no longer what was checked (agencies.administration).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Model, Q, QuerySet
from django.utils.text import slugify

from agencies.administration import (
    ChangedMeanwhile,
    Preview,
    differences,
    require_administrator,
    version_of,
)
from agencies.models import User
from core.text import clean_text

from . import clock_settings
from .models import HubSettingsChange, Outcome, ReferrerType

Area = HubSettingsChange.Area

OUTCOME_LABELS = {
    "name": "Name",
    "fits": "For",
    "leads_to_referral": "Counts as leading to referral",
    "position": "Position in the list",
    "is_active": "Status",
}
REFERRER_TYPE_LABELS = {"name": "Name", "position": "Position in the list", "is_active": "Status"}

LABELS: dict[type[Model], dict[str, str]] = {
    Outcome: OUTCOME_LABELS,
    ReferrerType: REFERRER_TYPE_LABELS,
}


def enquiries(count: int) -> str:
    return f"{count} {'enquiry' if count == 1 else 'enquiries'}"


def outcomes_listed() -> QuerySet[Outcome]:
    """Every outcome with how many enquiries were decided with it, in use first (one query)."""
    return Outcome.objects.annotate(used_by=Count("enquiry")).order_by(
        "-is_active", "position", "name"
    )


def referrer_types_listed() -> QuerySet[ReferrerType]:
    return ReferrerType.objects.annotate(used_by=Count("enquiry")).order_by(
        "-is_active", "position", "name"
    )


def used_by(item: Outcome | ReferrerType) -> int:
    return item.enquiry_set.count()


def _values(item: Model, model: type[Model]) -> dict:
    return {name: getattr(item, name) for name in LABELS[model]}


def list_item_version(item: Outcome | ReferrerType) -> str:
    return version_of(*_values(item, type(item)).values())


def _shown(model: type[Model], values: dict) -> dict[str, str]:
    shown = dict(values)
    if "is_active" in values:
        shown["is_active"] = "In use" if values["is_active"] else "Retired"
    if "fits" in values:
        shown["fits"] = Outcome.Fits(values["fits"]).label
    if "leads_to_referral" in values:
        shown["leads_to_referral"] = "Yes" if values["leads_to_referral"] else "No"
    return shown


def list_item_preview(
    *, model: type[Outcome] | type[ReferrerType], item: Outcome | ReferrerType | None, values: dict
) -> Preview:
    """What saving `values` on `item` (None for a new one) changes and affects."""
    before = _values(item, model) if item is not None else {}
    what = "decisions" if model is Outcome else "new enquiries"
    effects = []
    if item is None:
        effects.append(f"It can be chosen for {what} from when it is saved.")
    else:
        count = used_by(item)
        if item.is_active and not values.get("is_active", True):
            effects.append(
                f"Used by {enquiries(count)}: they keep it, and it is no longer offered for {what}."
            )
        elif not item.is_active and values.get("is_active"):
            effects.append(f"It is offered again for {what}.")
        if values.get("name") != item.name:
            effects.append(f"Used by {enquiries(count)}: they show the new name.")
        if model is Outcome and values.get("leads_to_referral") != before.get("leads_to_referral"):
            effects.append(
                f"The volumes report counts the {enquiries(count)} decided with it "
                + ("as leading to referral." if values["leads_to_referral"] else "as not.")
            )
    if values.get("is_active", True) and (
        item is None
        or values.get("position") != item.position
        or values.get("name") != item.name
        or not item.is_active
    ):
        effects.append(_place(model, item, values))
    return Preview(
        differences=differences(LABELS[model], _shown(model, before), _shown(model, values)),
        effects=effects,
    )


def _place(model, item, values: dict) -> str:
    """Where the item would be offered among those in use: by position, then name."""
    others = model.objects.filter(is_active=True)
    if item is not None:
        others = others.exclude(pk=item.pk)
    position, name = values.get("position", 0), values["name"]
    ahead = others.filter(Q(position__lt=position) | Q(position=position, name__lt=name)).count()
    return f"It is offered in place {ahead + 1} of {others.count() + 1} where people choose one."


def _new_code(model: type[Outcome] | type[ReferrerType], name: str) -> str:
    """A code made from the name, unique among the list's codes."""
    stem = slugify(name)[:28] or "item"
    taken = set(model.objects.filter(code__startswith=stem).values_list("code", flat=True))
    code, number = stem, 2
    while code in taken:
        code, number = f"{stem}-{number}", number + 1
    return code


@transaction.atomic
def list_item_save(
    *,
    actor: User,
    model: type[Outcome] | type[ReferrerType],
    item: Outcome | ReferrerType | None,
    values: dict,
    reason: str,
    seen: str = "",
) -> Outcome | ReferrerType:
    """Add an item (`item` None) or change one that is still as `seen`. Retiring keeps it on
    every enquiry that has it; nothing is deleted."""
    require_administrator(actor)
    reason = clean_text("reason", reason)
    if not reason:
        raise ValidationError({"reason": "Say why you are making this change."})
    saved: Outcome | ReferrerType
    if item is None:
        saved = model(code=_new_code(model, values["name"]))
    else:
        saved = model.objects.select_for_update().get(pk=item.pk)
        if list_item_version(saved) != seen:
            raise ChangedMeanwhile
    name = values["name"].strip()
    if model.objects.filter(name__iexact=name).exclude(pk=saved.pk).exists():
        raise ValidationError({"name": f"There is already one called {name}."})
    preview = list_item_preview(model=model, item=None if item is None else saved, values=values)
    for field, value in values.items():
        setattr(saved, field, value)
    saved.full_clean()
    saved.save()
    area = (
        HubSettingsChange.Area.OUTCOMES
        if model is Outcome
        else HubSettingsChange.Area.REFERRER_TYPES
    )
    record_settings_change(area=area, actor=actor, reason=reason, item_id=saved.pk, preview=preview)
    return saved


def record_settings_change(
    *, area: str, actor: User, reason: str, item_id: int, preview: Preview
) -> HubSettingsChange:
    """Put a saved change to an agency, a person or a list item in the history of hub settings,
    as its check page showed it, numbered among that item's changes there."""
    earlier = HubSettingsChange.objects.filter(area=area, after__id=item_id).count()
    return clock_settings.record_change(
        area=area,
        actor=actor,
        reason=reason,
        version_before=earlier,
        version_after=earlier + 1,
        before={"id": item_id, **{d.label: d.before for d in preview.differences}},
        after={"id": item_id, **{d.label: d.after for d in preview.differences}},
        changes=[clock_settings.Change(d.label, d.before, d.after) for d in preview.differences],
        effect=" ".join(preview.effects),
    )
