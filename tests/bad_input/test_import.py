"""`manage.py import_enquiries` reports a control character in a reference on its line and
column, like any other problem, rather than stopping with PostgreSQL's error about a NUL."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from enquiries.models import Enquiry
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db

HEADER = "reference,family_reference,received_at,rag,decided_at,outcome,referrer_type"


@pytest.mark.parametrize("column", ["reference", "family_reference"])
@pytest.mark.parametrize("char", ["\x00", "\x07"], ids=["NUL", "BEL"])
def test_a_control_character_in_a_reference_is_a_problem_on_its_line(tmp_path, column, char):
    AgencyFactory(name="Children's Social Care", kind="childrens_social_care")
    reference, family = ("OLD\x001", "OLD-F-1") if column == "reference" else ("OLD-1", "OLD\x001")
    reference, family = reference.replace("\x00", char), family.replace("\x00", char)
    path = tmp_path / "enquiries.csv"
    rows = [HEADER, f"{reference},{family},2025-03-07T16:00+00:00,red,,,police"]
    path.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    err = StringIO()

    with pytest.raises(CommandError) as refused:
        call_command("import_enquiries", str(path), stdout=StringIO(), stderr=err)

    assert str(refused.value) == "1 bad row; nothing was loaded."
    assert err.getvalue().splitlines() == [
        f"line 2, {column}: Remove the invisible control character (U+{ord(char):04X}) at "
        "character 4: text may hold tabs and line breaks, but no other control characters."
    ]
    assert not Enquiry.objects.exists()
