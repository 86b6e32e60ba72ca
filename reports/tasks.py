from dataclasses import asdict

from celery import shared_task

from .decisions import keep_summary
from .quality import draw_last_weeks_sample


@shared_task(acks_late=True)
def draw_nfa_sample() -> dict:
    """Each Monday (beat): last week's sample of no-further-action decisions for review. A
    second run, or a twin on another worker, draws nothing more."""
    draw = draw_last_weeks_sample()
    return {**asdict(draw), "week_start": draw.week_start.isoformat()}


@shared_task(acks_late=True)
def keep_decisions_by_day() -> dict:
    """Hourly (beat): the decisions by day rebuilt if the hub's zone has none, so that the
    dashboard, which counts from the enquiries meanwhile, is quick again within the hour."""
    return {"rebuilt": keep_summary()}
