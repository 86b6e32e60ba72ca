import django.db.models.deletion
from django.db import migrations, models

OPEN_STATES = "('received', 'screening', 'researching', 'awaiting_decision')"
NAMES = "enquiries_openenquiryname"
TRIGRAM_INDEX = "open_enquiry_name_trgm"
# The search's other half, a reference in any case, without upper-casing every open one.
REFERENCE_INDEX = "enquiry_open_reference_upper"

# Each function with its trigger. Adding people is one statement per COPY of a bulk load, so
# it is a statement trigger that joins the new rows at once; the rest touch a row or a few.
TRIGGERS = {
    "enquiries_open_names_added": (
        f"""
        INSERT INTO {NAMES} (involvement_id, enquiry_id, search_name)
        SELECT added.id, added.enquiry_id, person.search_name
        FROM added
        JOIN enquiries_enquiry enquiry ON enquiry.id = added.enquiry_id
        JOIN enquiries_person person ON person.id = added.person_id
        WHERE enquiry.state IN {OPEN_STATES};
        """,  # noqa: S608 - constants only
        "AFTER INSERT ON enquiries_enquiryperson REFERENCING NEW TABLE AS added FOR EACH STATEMENT",
    ),
    "enquiries_open_names_removed": (
        f"DELETE FROM {NAMES} WHERE involvement_id IN (SELECT id FROM removed);",  # noqa: S608 - constants only
        "AFTER DELETE ON enquiries_enquiryperson REFERENCING OLD TABLE AS removed "
        "FOR EACH STATEMENT",
    ),
    # A merge, or its undo, moves an enquiry's part from one person to another.
    "enquiries_open_names_relinked": (
        f"""
        DELETE FROM {NAMES} WHERE involvement_id = OLD.id;
        INSERT INTO {NAMES} (involvement_id, enquiry_id, search_name)
        SELECT NEW.id, NEW.enquiry_id, person.search_name
        FROM enquiries_person person, enquiries_enquiry enquiry
        WHERE person.id = NEW.person_id AND enquiry.id = NEW.enquiry_id
          AND enquiry.state IN {OPEN_STATES};
        """,  # noqa: S608 - constants only
        "AFTER UPDATE ON enquiries_enquiryperson FOR EACH ROW "
        "WHEN ((OLD.enquiry_id, OLD.person_id) IS DISTINCT FROM (NEW.enquiry_id, NEW.person_id))",
    ),
    "enquiries_open_names_renamed": (
        f"""
        UPDATE {NAMES} SET search_name = NEW.search_name
        WHERE involvement_id IN (
            SELECT id FROM enquiries_enquiryperson WHERE person_id = NEW.id
        );
        """,  # noqa: S608 - constants only
        "AFTER UPDATE ON enquiries_person FOR EACH ROW "
        "WHEN (OLD.search_name IS DISTINCT FROM NEW.search_name)",
    ),
    # Only when the enquiry opens or closes, not when it moves between open states.
    "enquiries_open_names_opened_or_closed": (
        f"""
        DELETE FROM {NAMES} WHERE enquiry_id = OLD.id;
        INSERT INTO {NAMES} (involvement_id, enquiry_id, search_name)
        SELECT involvement.id, involvement.enquiry_id, person.search_name
        FROM enquiries_enquiryperson involvement
        JOIN enquiries_person person ON person.id = involvement.person_id
        WHERE involvement.enquiry_id = NEW.id AND NEW.state IN {OPEN_STATES};
        """,  # noqa: S608 - constants only
        "AFTER UPDATE ON enquiries_enquiry FOR EACH ROW "
        f"WHEN ((OLD.state IN {OPEN_STATES}) IS DISTINCT FROM (NEW.state IN {OPEN_STATES}))",
    ),
}


def create_triggers(apps, schema_editor):
    """PostgreSQL only: the demo's SQLite database leaves the table empty (the model says
    why). The names of the enquiries open now are copied in, then the triggers keep them."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX {TRIGRAM_INDEX} ON {NAMES} USING gin (search_name gin_trgm_ops)"
    )
    schema_editor.execute(
        f"CREATE INDEX {REFERENCE_INDEX} ON enquiries_enquiry (upper(reference)) "
        f"WHERE state IN {OPEN_STATES}"
    )
    for function, (body, when) in TRIGGERS.items():
        schema_editor.execute(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{body}\nRETURN NULL;\nEND\n$$"
        )
        schema_editor.execute(f"CREATE TRIGGER {function} {when} EXECUTE FUNCTION {function}()")
    schema_editor.execute(
        f"""
        INSERT INTO {NAMES} (involvement_id, enquiry_id, search_name)
        SELECT involvement.id, involvement.enquiry_id, person.search_name
        FROM enquiries_enquiryperson involvement
        JOIN enquiries_enquiry enquiry ON enquiry.id = involvement.enquiry_id
        JOIN enquiries_person person ON person.id = involvement.person_id
        WHERE enquiry.state IN {OPEN_STATES}
        """  # noqa: S608 - constants only
    )
    schema_editor.execute(f"ANALYZE {NAMES}")


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for function, (_, when) in TRIGGERS.items():
        table = when.split(" ON ", 1)[1].split(" ", 1)[0]
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {function} ON {table}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")
    schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
    schema_editor.execute(f"DROP INDEX IF EXISTS {REFERENCE_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("enquiries", "0025_open_enquiries_by_filter"),
    ]

    operations = [
        migrations.CreateModel(
            name="OpenEnquiryName",
            fields=[
                (
                    "involvement",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="enquiries.enquiryperson",
                    ),
                ),
                ("search_name", models.CharField(max_length=201)),
                (
                    "enquiry",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="enquiries.enquiry",
                    ),
                ),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
