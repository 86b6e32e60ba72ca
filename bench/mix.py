"""The hub's mix of outcomes and referrers, as weights, shared by the benches that generate
enquiries (bench/import.py, bench/reports.py); csc_assessment, strategy_discussion and
adult_social_care lead to referral."""

OUTCOMES = [
    ("nfa", 40),
    ("advice", 15),
    ("early_help", 15),
    ("csc_assessment", 12),
    ("strategy_discussion", 5),
    ("adult_social_care", 3),
    ("other_agency", 7),
    ("marac", 3),
]

REFERRERS = [
    ("police", 30),
    ("school", 18),
    ("gp", 6),
    ("health_visitor", 6),
    ("hospital", 7),
    ("probation", 3),
    ("housing", 4),
    ("public", 6),
    ("family", 7),
    ("self", 2),
    ("anonymous", 5),
    ("other", 6),
]
