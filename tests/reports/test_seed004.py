"""Seed 004, the Oxfordshire MASH review: its tables come out of mash when its history is in.

The history (tests/reports/seed004.py, checked on its own in test_seed004_generator.py) goes
in through `manage.py import_enquiries`, as a hub's past would, and the figures come out of
`manage.py report`, the same selectors as the pages.
"""

import json

import pytest
from django.core.management import call_command

from .seed004 import EXPECTED, oxfordshire_history, write_csv

pytestmark = pytest.mark.django_db


def report(capsys, *arguments: str) -> dict:
    call_command("report", *arguments, "--format", "json")
    return json.loads(capsys.readouterr().out)


def test_the_reports_reproduce_the_oxfordshire_tables(tmp_path, capsys, agency):
    history = tmp_path / "oxfordshire.csv"
    write_csv(oxfordshire_history(), history)
    call_command("import_enquiries", str(history))
    capsys.readouterr()

    volumes = report(capsys, "volumes", "--start", "2015-04-01", "--end", "2016-04-01")
    assert {row["measure"]: row["enquiries"] for row in volumes["rows"]} == {
        "New enquiries": 20_062,
        "Enquiries completed": 20_786,
        "Family enquiries completed": 11_296,
        "Enquiries leading to referral": 6_597,
        "Enquiries open at end of period": 634,
        "Onward referrals sent": 0,
        "Onward referrals accepted": 0,
        "Onward referrals returned": 0,
    }

    timeliness = report(capsys, "timeliness", "--start", "2015-10-01", "--end", "2016-04-01")
    rows = {row["rag"]: row for row in timeliness["rows"]}
    seed = {"Red": 75, "Amber": 17, "Green": 8, "No RAG": 61, "Overall": 42}
    assert {rag: round(row["on_time_percent"]) for rag, row in rows.items()} == seed
    assert {rag: row["allocated_minutes"] for rag, row in rows.items()} == {
        "Red": [240],
        "Amber": [480],
        "Green": [1440],
        "No RAG": [1440],
        "Overall": None,
    }
    counts = EXPECTED["timeliness_counts"]
    assert (rows["Red"]["enquiries"], rows["Red"]["on_time"]) == counts["red"]
    assert (rows["Overall"]["enquiries"], rows["Overall"]["on_time"]) == counts["overall"]

    comparison = report(
        capsys,
        "comparison",
        "--start=2015-04-01",
        "--end=2016-04-01",
        "--compare-start=2014-04-01",
        "--compare-end=2015-04-01",
    )
    rows = {row["measure"]: row for row in comparison["rows"]}
    assert (rows["Contacts"]["compared_with"], rows["Contacts"]["period"]) == (18_803, 20_062)
    assert round(rows["Contacts"]["change_percent"]) == 7
    assert (rows["Referrals"]["compared_with"], rows["Referrals"]["period"]) == (5_769, 6_597)
    assert round(rows["Referrals"]["change_percent"]) == 14
    # England and Wales: 253 working days in 2014-15, 252 in 2015-16, which has two Easters
    # (April 2015 and March 2016).
    assert (rows["Working days"]["compared_with"], rows["Working days"]["period"]) == (253, 252)
    assert rows["Contacts"]["period_per_working_day"] == 79.6  # 20,062 / 252
