"""A hub's volumes beyond the demo, for the benches: information records and access-log entries
topped up to a total, in SQL.

`seed_demo` gives a few thousand enquiries information sharing, whatever the number of
enquiries. A hub at a million enquiries holds about three million records and, over two years,
some ten million access-log entries; the pages that read them (the agency inbox, the record
search, the person page, the auditor's search) are timed against those volumes.

Call either after `django.setup()` on a bench database that `seed_demo` has filled: each reads
the demo's agencies, people, users and record texts and writes plain `INSERT ... SELECT` over
`generate_series` and the tables already there, then `ANALYZE`s what it wrote. As PostgreSQL's
bulk-loading advice says, a table's secondary indexes and foreign keys are dropped for the
load and made again after it (built in one pass, each key checked in one join) rather than
kept up row by row (`core.bulk_load.indexes_set_aside`, partial indexes included); unique
indexes and the primary key stay, as the load relies on them, and so does the append-only
protection (its triggers refuse UPDATE and DELETE, never INSERT).

The access-log entries are not chained: each has an empty `hash` and `previous_hash`, so
`verify_access_log` reports the log broken at the first of them. No bench runs it.
"""

from __future__ import annotations

import time

# What a top-up writes per enquiry asked: two agencies, 1-2 records each (three on average).
REQUESTS_PER_ENQUIRY = 2
RECORDS_PER_ENQUIRY = 3
# Enquiries asked per statement: a few hundred thousand rows a transaction.
ENQUIRIES_PER_CHUNK = 100_000
ENTRIES_PER_CHUNK = 1_000_000
LOG_MONTHS = 24
QUESTION = "What do you hold about the people named in this enquiry?"
RELEASE_REASON = "Needed to decide the enquiry: the hub is weighing the risk to the child."
RELEASED_BECAUSE = "Necessary and proportionate to protect the child."
REFUSED_BECAUSE = "Disclosure would prejudice a live investigation."
CONDITIONS = "Not to be shared with the family."
SEARCHED_FOR = ["Brown", "Kowalski", "Smith", "Ahmed", "Nowak", "Jones", "Patel", "Wilson"]
# (action, channel, share in 100, what the entry is about: record, person, account or none)
LOG_MIX = [
    ("view_person", "page", 38, "person"),
    ("view", "page", 22, "record"),
    ("view", "api", 3, "record"),
    ("search", "search", 15, "none"),
    ("release_request", "page", 4, "record"),
    ("release", "page", 3, "record"),
    ("refuse", "page", 2, "record"),
    ("export", "export", 4, "none"),
    ("read_log", "page", 2, "none"),
    ("denied", "page", 3, "person"),
    ("correct_record", "page", 1, "record"),
    ("access_granted", "admin", 2, "account"),
    ("access_requested", "admin", 1, "account"),
]


def top_up_records(total: int) -> float:
    """Seconds taken to bring the information records to `total`: decided enquiries the demo
    did not ask about get answered requests to two agencies (with the subject named) and
    three records between them, in the agencies' own words (texts the demo wrote), a quarter
    sensitive; of those, about a third released (with the release request, decision and the
    grant to the hub's working roles the firewall reads) and a fifth refused. Open
    enquiries in research get open requests, so inboxes grow with the hub."""
    from django.db import connection, transaction

    from core.bulk_load import indexes_set_aside

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sharing_informationrecord")
        missing = total - cursor.fetchone()[0]
    if missing <= 0:
        return time.perf_counter() - started
    with indexes_set_aside(
        "sharing_informationrecord", "sharing_informationrequest", unique=False, partial=True
    ):
        with transaction.atomic(), connection.cursor() as cursor:
            _record_sources(cursor)
            _open_requests(cursor)
        after = 0
        while missing > 0:
            with transaction.atomic(), connection.cursor() as cursor:
                enquiries = min(ENQUIRIES_PER_CHUNK, -(-missing // RECORDS_PER_ENQUIRY))
                after, written = _answered_requests(cursor, after=after, enquiries=enquiries)
                if not written:
                    break  # every decided enquiry asked already
                missing -= _records(cursor, limit=missing)
    _analyse(
        "sharing_informationrequest",
        "sharing_informationrequest_people",
        "sharing_informationrecord",
        "sharing_releaserequest",
        "sharing_releasedecision",
        "sharing_recordgroupobjectpermission",
    )
    return time.perf_counter() - started


def top_up_access_log(total: int) -> float:
    """Seconds taken to bring the access log to `total` entries, spread evenly over the
    `LOG_MONTHS` months before now, among the demo's, across every
    signed-up person in their own agency and roles: views of people and records, searches,
    release decisions, exports, reads of the log, refusals and access changes in a hub's
    shares, each about a real enquiry, person or record. Unchained (see the module)."""
    from django.db import connection, transaction

    from core.bulk_load import indexes_set_aside

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), now() - make_interval(months => %s), now() "
            "FROM sharing_accesslogentry",
            [LOG_MONTHS],
        )
        count, start, end = cursor.fetchone()
    missing = total - count
    if missing <= 0:
        return time.perf_counter() - started
    with connection.cursor() as cursor:
        _months_for(cursor, start)
    with indexes_set_aside("sharing_accesslogentry", unique=False, partial=True):
        with transaction.atomic(), connection.cursor() as cursor:
            _log_sources(cursor)
        done = 0
        while done < missing:
            size = min(ENTRIES_PER_CHUNK, missing - done)
            with transaction.atomic(), connection.cursor() as cursor:
                _log_entries(cursor, first=done, size=size, of=missing, start=start, end=end)
            done += size
    _analyse("sharing_accesslogentry")
    return time.perf_counter() - started


# Records ---------------------------------------------------------------------------------------


def _record_sources(cursor) -> None:
    """Unlogged tables the chunks read: the agencies asked (those the demo asked that have
    someone to answer), their record texts, the researchers who ask and the working roles a
    release is granted to."""
    cursor.execute(
        """
        DROP TABLE IF EXISTS bench_agency, bench_text, bench_researcher, bench_grant;
        CREATE UNLOGGED TABLE bench_text AS
            SELECT agency_id, (row_number() OVER (PARTITION BY agency_id ORDER BY summary) - 1)
                       AS n, summary, detail, source_system
            FROM (SELECT DISTINCT ON (agency_id, summary) agency_id, summary, detail,
                         source_system
                  FROM sharing_informationrecord ORDER BY agency_id, summary, id) AS texts;
        CREATE UNLOGGED TABLE bench_agency AS
            SELECT row_number() OVER (ORDER BY a.id) - 1 AS n, a.id AS agency_id,
                   (SELECT min(u.id) FROM agencies_user u JOIN agencies_user_groups g
                        ON g.user_id = u.id JOIN auth_group r ON r.id = g.group_id
                    WHERE u.agency_id = a.id AND r.name = 'practitioner') AS author_id,
                   (SELECT count(*) FROM bench_text t WHERE t.agency_id = a.id) AS texts
            FROM agencies_agency a
            WHERE EXISTS (SELECT 1 FROM bench_text t WHERE t.agency_id = a.id)
              AND EXISTS (SELECT 1 FROM agencies_user_groups g JOIN agencies_user u
                              ON u.id = g.user_id JOIN auth_group r ON r.id = g.group_id
                          WHERE u.agency_id = a.id AND r.name = 'practitioner');
        CREATE UNLOGGED TABLE bench_researcher AS
            SELECT row_number() OVER (ORDER BY g.user_id) - 1 AS n, g.user_id
            FROM agencies_user_groups g JOIN auth_group r ON r.id = g.group_id
            WHERE r.name = 'researcher';
        CREATE UNLOGGED TABLE bench_grant AS
            SELECT DISTINCT group_id, permission_id FROM sharing_recordgroupobjectpermission;
        """
    )
    cursor.execute("SELECT count(*) FROM bench_agency")
    if cursor.fetchone()[0] < REQUESTS_PER_ENQUIRY:
        raise RuntimeError("top_up_records needs seed_demo's information sharing first")


def _open_requests(cursor) -> None:
    """Each enquiry in research the demo did not ask about asks two agencies, due three days
    after it arrived; nobody has answered yet."""
    cursor.execute(
        """
        WITH asked AS (
            SELECT e.id, e.subject_id, e.received_at,
                   row_number() OVER (ORDER BY e.id) AS n
            FROM enquiries_enquiry e
            WHERE e.state IN ('researching', 'awaiting_decision') AND e.subject_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM sharing_informationrequest r
                              WHERE r.enquiry_id = e.id)
        ), made AS (
            INSERT INTO sharing_informationrequest (
                question, status, requested_at, due_at, answered_at, response_minutes,
                last_chased_at, chase_count, version, agency_id, answered_by_id, enquiry_id,
                requested_by_id, withdrawal_reason, withdrawn_at, withdrawn_by_id,
                clock_version, policy_version)
            SELECT %(question)s, 'requested', a.received_at + interval '1 hour',
                   a.received_at + interval '3 days', NULL, NULL, NULL, 0, 1, g.agency_id,
                   NULL, a.id, r.user_id, '', NULL, NULL, 0, 0
            FROM asked a CROSS JOIN generate_series(0, 1) AS k
            JOIN bench_agency g ON g.n = (a.n + k * (1 + a.n %% (
                (SELECT count(*) FROM bench_agency) - 1))) %% (SELECT count(*) FROM bench_agency)
            JOIN bench_researcher r ON r.n = a.n %% (SELECT count(*) FROM bench_researcher)
            RETURNING id, enquiry_id
        )
        INSERT INTO sharing_informationrequest_people (informationrequest_id, person_id)
        SELECT made.id, e.subject_id FROM made JOIN enquiries_enquiry e ON e.id = made.enquiry_id
        """,
        {"question": QUESTION},
    )


def _answered_requests(cursor, *, after: int, enquiries: int) -> tuple[int, int]:
    """Up to `enquiries` decided enquiries after id `after`, not asked yet, each ask two
    agencies, who answer half-way to the decision. The last enquiry's id and how many."""
    cursor.execute(
        """
        DROP TABLE IF EXISTS bench_asked;
        CREATE UNLOGGED TABLE bench_asked AS
            SELECT e.id, e.subject_id, e.received_at, e.decided_at,
                   row_number() OVER (ORDER BY e.id) AS n
            FROM enquiries_enquiry e
            WHERE e.id > %(after)s AND e.decided_at IS NOT NULL AND e.subject_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM sharing_informationrequest r
                              WHERE r.enquiry_id = e.id)
            ORDER BY e.id LIMIT %(enquiries)s;
        DROP TABLE IF EXISTS bench_answered;
        CREATE UNLOGGED TABLE bench_answered (id bigint, enquiry_id bigint, agency_id bigint,
                                              author_id bigint, texts bigint);
        WITH made AS (
            INSERT INTO sharing_informationrequest (
                question, status, requested_at, due_at, answered_at, response_minutes,
                last_chased_at, chase_count, version, agency_id, answered_by_id, enquiry_id,
                requested_by_id, withdrawal_reason, withdrawn_at, withdrawn_by_id,
                clock_version, policy_version)
            SELECT %(question)s, 'answered',
                   a.received_at + (a.decided_at - a.received_at) * 0.1,
                   a.received_at + (a.decided_at - a.received_at) * 0.1 + interval '3 days',
                   a.received_at + (a.decided_at - a.received_at) * (0.3 + 0.1 * k),
                   greatest(1, extract(epoch FROM (a.decided_at - a.received_at))
                               * (0.2 + 0.1 * k) / 180)::int,
                   NULL, 0, 2, g.agency_id, g.author_id, a.id, r.user_id, '', NULL, NULL, 0, 0
            FROM bench_asked a CROSS JOIN generate_series(0, 1) AS k
            JOIN bench_agency g ON g.n = (a.n + k * (1 + a.n %% (
                (SELECT count(*) FROM bench_agency) - 1))) %% (SELECT count(*) FROM bench_agency)
            JOIN bench_researcher r ON r.n = a.n %% (SELECT count(*) FROM bench_researcher)
            RETURNING id, enquiry_id, agency_id, answered_by_id
        ), named AS (
            INSERT INTO sharing_informationrequest_people (informationrequest_id, person_id)
            SELECT made.id, a.subject_id FROM made JOIN bench_asked a ON a.id = made.enquiry_id
        )
        INSERT INTO bench_answered
        SELECT made.id, made.enquiry_id, made.agency_id, made.answered_by_id, g.texts
        FROM made JOIN bench_agency g ON g.agency_id = made.agency_id;
        SELECT coalesce(max(id), %(after)s), count(*) FROM bench_asked;
        """,
        {"after": after, "enquiries": enquiries, "question": QUESTION},
    )
    last, count = cursor.fetchone()
    return last, count


def _records(cursor, *, limit: int) -> int:
    """One or two records per answered request, at most `limit`; then the release requests,
    decisions and grants of those released or refused. How many records."""
    cursor.execute(
        """
        DROP TABLE IF EXISTS bench_record;
        CREATE UNLOGGED TABLE bench_record AS
            SELECT r.id AS request_id, r.enquiry_id, r.agency_id, r.author_id, j,
                   abs(hashint8(r.id * 4 + j)) %% 100 AS chance,
                   abs(hashint8(r.id * 4 + j + 2)) %% 100 AS release_chance,
                   abs(hashint8(r.id * 4 + j + 1)) %% r.texts AS text
            FROM bench_answered r CROSS JOIN LATERAL generate_series(1, 1 + r.id %% 2) AS j
            LIMIT %(limit)s;
        DROP TABLE IF EXISTS bench_written;
        CREATE UNLOGGED TABLE bench_written (id bigint, enquiry_id bigint, agency_id bigint,
                                             author_id bigint, release_status text,
                                             recorded_at timestamptz);
        WITH written AS (
            INSERT INTO sharing_informationrecord (
                summary, detail, source_system, information_date, sensitivity, release_status,
                conditions, recorded_at, version, agency_id, enquiry_id, person_id,
                recorded_by_id, request_id, added_after_withdrawal, first_read_at,
                withdrawal_reason, withdrawn_at, withdrawn_by_id)
            SELECT t.summary, t.detail, t.source_system,
                   (q.answered_at - make_interval(days => 3 + b.chance * 12))::date,
                   CASE WHEN b.chance < 25 THEN 'sensitive' ELSE 'non_sensitive' END,
                   CASE WHEN b.chance >= 25 OR b.release_chance < 45 THEN 'not_requested'
                        WHEN b.release_chance < 80 THEN 'released' ELSE 'refused' END,
                   CASE WHEN b.chance < 25 AND b.release_chance BETWEEN 45 AND 79
                        THEN %(conditions)s ELSE '' END,
                   q.answered_at,
                   CASE WHEN b.chance < 25 AND b.release_chance >= 45 THEN 3 ELSE 1 END,
                   b.agency_id, b.enquiry_id, e.subject_id, b.author_id, b.request_id, false,
                   NULL, '', NULL, NULL
            FROM bench_record b
            JOIN sharing_informationrequest q ON q.id = b.request_id
            JOIN enquiries_enquiry e ON e.id = b.enquiry_id
            JOIN bench_text t ON t.agency_id = b.agency_id AND t.n = b.text
            RETURNING id, enquiry_id, agency_id, recorded_by_id, release_status, recorded_at
        )
        INSERT INTO bench_written SELECT * FROM written;

        DROP TABLE IF EXISTS bench_release;
        CREATE UNLOGGED TABLE bench_release (id bigint, record_id bigint, requested_at
                                             timestamptz);
        WITH decided AS (
            SELECT w.*, e.decided_at FROM bench_written w
            JOIN enquiries_enquiry e ON e.id = w.enquiry_id
            WHERE w.release_status IN ('released', 'refused')
        ), asked AS (
            INSERT INTO sharing_releaserequest (requested_at, reason, record_id, requested_by_id)
            SELECT d.recorded_at + (d.decided_at - d.recorded_at) * 0.2, %(asked_because)s,
                   d.id, r.user_id
            FROM decided d
            JOIN bench_researcher r ON r.n = d.id %% (SELECT count(*) FROM bench_researcher)
            RETURNING id, record_id, requested_at
        )
        INSERT INTO bench_release SELECT * FROM asked;

        INSERT INTO sharing_releasedecision (
            decision, decided_at, reason, necessary_and_proportionate, lawful_basis, conditions,
            decided_by_id, record_id, release_request_id)
        SELECT w.release_status, r.requested_at + (e.decided_at - r.requested_at) * 0.5,
               CASE WHEN w.release_status = 'released' THEN %(released_because)s
                    ELSE %(refused_because)s END,
               w.release_status = 'released',
               CASE WHEN w.release_status = 'released' THEN 'public_task_safeguarding'
                    ELSE '' END,
               CASE WHEN w.release_status = 'released' THEN %(conditions)s ELSE '' END,
               w.author_id, w.id, r.id
        FROM bench_release r JOIN bench_written w ON w.id = r.record_id
        JOIN enquiries_enquiry e ON e.id = w.enquiry_id;

        INSERT INTO sharing_recordgroupobjectpermission (content_object_id, group_id,
                                                         permission_id)
        SELECT w.id, g.group_id, g.permission_id
        FROM bench_written w CROSS JOIN bench_grant g WHERE w.release_status = 'released';

        SELECT count(*) FROM bench_written;
        """,
        {
            "limit": limit,
            "conditions": CONDITIONS,
            "asked_because": RELEASE_REASON,
            "released_because": RELEASED_BECAUSE,
            "refused_because": REFUSED_BECAUSE,
        },
    )
    return cursor.fetchone()[0]


# The access log --------------------------------------------------------------------------------


def _log_sources(cursor) -> None:
    """Unlogged, numbered tables the entries pick from: who acted (everyone with a role, in
    their agency, with their roles as the log writes them), the actions in their shares, the
    records and the enquiries with a subject."""
    cursor.execute(
        """
        DROP TABLE IF EXISTS bench_actor, bench_action, bench_log_record, bench_log_enquiry;
        CREATE UNLOGGED TABLE bench_actor AS
            SELECT row_number() OVER (ORDER BY u.id) - 1 AS n, u.id AS user_id, u.agency_id,
                   string_agg(r.name, ',' ORDER BY r.name) AS role
            FROM agencies_user u JOIN agencies_user_groups g ON g.user_id = u.id
            JOIN auth_group r ON r.id = g.group_id
            GROUP BY u.id;
        CREATE UNLOGGED TABLE bench_action (low int, high int, action text, channel text,
                                            about text);
        CREATE UNLOGGED TABLE bench_log_record AS
            SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, enquiry_id, person_id
            FROM sharing_informationrecord;
        CREATE UNLOGGED TABLE bench_log_enquiry AS
            SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, subject_id
            FROM enquiries_enquiry WHERE subject_id IS NOT NULL;
        CREATE INDEX ON bench_log_record (n);
        CREATE INDEX ON bench_log_enquiry (n);
        """
    )
    low = 0
    for action, channel, share, about in LOG_MIX:
        cursor.execute(
            "INSERT INTO bench_action VALUES (%s, %s, %s, %s, %s)",
            [low, low + share, action, channel, about],
        )
        low += share
    cursor.execute("ANALYZE bench_actor, bench_action, bench_log_record, bench_log_enquiry")


def _months_for(cursor, start) -> None:
    """Where the access log is a table a month (audit.partitions), the months from `start`
    made first, as the log's own function makes them: entries for a month with no table
    would all go to the DEFAULT partition, and stay there."""
    cursor.execute("SELECT to_regprocedure('access_log_months_ahead(date, integer)')")
    if cursor.fetchone()[0] is not None:
        cursor.execute("SELECT access_log_months_ahead(%s::date, %s)", [start, LOG_MONTHS])


def _log_entries(cursor, *, first: int, size: int, of: int, start, end) -> None:
    """Entries `first` to `first + size` of `of`, evenly spaced from `start` to `end`."""
    shares = sum(share for _, _, share, _ in LOG_MIX)
    cursor.execute(
        """
        WITH numbered AS (
            SELECT g,
                   abs(hashint8(g)) %% %(shares)s AS pick,
                   abs(hashint8(g + 1000000007)) AS chance
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
        ), chosen AS (
            SELECT n.g, n.chance, a.action, a.channel, a.about,
                   u.user_id, u.agency_id, u.role
            FROM numbered n
            JOIN bench_action a ON n.pick >= a.low AND n.pick < a.high
            JOIN bench_actor u ON u.n = n.chance %% (SELECT count(*) FROM bench_actor)
        )
        INSERT INTO sharing_accesslogentry (
            at, action, channel, reason, agency_id, enquiry_id, user_id, record_id, account_id,
            address, hash, person_id, previous_hash, request_id, role, terms)
        SELECT %(start)s::timestamptz + (%(end)s::timestamptz - %(start)s::timestamptz)
                   * (c.g::float8 / %(of)s),
               c.action, c.channel,
               CASE WHEN c.about IN ('record', 'person') THEN 'Researching the enquiry.'
                    ELSE '' END,
               c.agency_id,
               coalesce(r.enquiry_id, e.id), c.user_id, r.id,
               CASE WHEN c.about = 'account'
                    THEN (SELECT user_id FROM bench_actor
                          WHERE n = c.chance / 7 %% (SELECT count(*) FROM bench_actor)) END,
               ('10.0.' || (c.chance %% 200) || '.' || (c.chance / 200 %% 250 + 1))::inet,
               '', coalesce(r.person_id, e.subject_id), '', '', c.role,
               CASE c.action
                   WHEN 'search' THEN (%(searched)s::text[])[1 + c.chance %% %(searches)s]
                   WHEN 'export' THEN 'report=volumes&months=12'
                   WHEN 'read_log' THEN 'person=' || (c.chance %% 1000)
                   ELSE '' END
        FROM chosen c
        LEFT JOIN bench_log_record r ON c.about = 'record'
            AND r.n = c.chance %% (SELECT count(*) FROM bench_log_record)
        LEFT JOIN bench_log_enquiry e ON c.about = 'person'
            AND e.n = c.chance %% (SELECT count(*) FROM bench_log_enquiry)
        ORDER BY c.g
        """,
        {
            "shares": shares,
            "first": first,
            "last": first + size - 1,
            "of": of,
            "start": start,
            "end": end,
            "searched": SEARCHED_FOR,
            "searches": len(SEARCHED_FOR),
        },
    )


def _analyse(*tables: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TABLE IF EXISTS bench_agency, bench_text, bench_researcher, bench_grant, "
            "bench_asked, bench_answered, bench_record, bench_written, bench_release, "
            "bench_actor, bench_action, bench_log_record, bench_log_enquiry"
        )
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
