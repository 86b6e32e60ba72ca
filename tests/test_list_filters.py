"""Each list's filters are one FilterSet (core.filters), read by its page, its CSV and the API:
it narrows only the list it is handed, and reads a page's ticked box and the API's true and
false alike."""

import pytest
from django.core.exceptions import ValidationError

from core.filters import YesNoField
from enquiries.filters import EnquiryFilter
from sharing.filters import AuditFilter, RecordFilter, RequestFilter


@pytest.mark.parametrize("filterset", [EnquiryFilter, RequestFilter, RecordFilter, AuditFilter])
def test_a_filterset_without_the_list_it_narrows_refuses_rather_than_read_a_whole_table(
    filterset,
):
    with pytest.raises(TypeError, match="narrows the list it is given"):
        filterset({"q": "smith"})


@pytest.mark.parametrize(
    ("sent", "read"),
    [("on", True), ("true", True), ("True", True), ("1", True), ("yes", True)]
    + [("false", False), ("0", False), ("off", False), ("", False), (None, False)],
)
def test_a_yes_or_no_reads_the_pages_ticked_box_and_the_apis_words(sent, read):
    assert YesNoField(required=False).clean(sent) is read


def test_a_yes_or_no_refuses_anything_else_and_a_page_shows_it_unticked():
    field = YesNoField(required=False)

    with pytest.raises(ValidationError, match="Must be a valid boolean."):
        field.clean("perhaps")
    assert field.prepare_value("perhaps") is False
    assert field.prepare_value("false") is False
