from dataclasses import asdict

from celery import shared_task

from .quality import draw_last_weeks_sample


@shared_task(acks_late=True)
def draw_nfa_sample() -> dict:
    """Each Monday (beat): last week's sample of no-further-action decisions for review. A
    second run, or a twin on another worker, draws nothing more."""
    draw = draw_last_weeks_sample()
    return {**asdict(draw), "week_start": draw.week_start.isoformat()}
