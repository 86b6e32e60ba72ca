from django.urls import path

from . import agencies, lists, people, views

app_name = "hub-settings"

urlpatterns = [
    path("", views.index, name="index"),
    path("opening-hours/", views.opening_hours, name="opening-hours"),
    path("closure-days/", views.closure_days, name="closure-days"),
    path("closure-days/add/", views.add_closure_day, name="add-closure-day"),
    path("closure-days/remove/", views.remove_closure_day, name="remove-closure-day"),
    path("bank-holidays/", views.bank_holidays, name="bank-holidays"),
    path("allowances/", views.allowances, name="allowances"),
    path("escalation/", views.escalation, name="escalation"),
    path("sharing/", views.sharing_policy, name="sharing"),
    path("history/", views.history, name="history"),
    # Agencies, people and roles, outcomes and referrer types (their own views) below.
    path("agencies/", agencies.agency_list, name="agencies"),
    path("agencies/add/", agencies.agency_add, name="agency-add"),
    path("agencies/<int:agency_id>/", agencies.agency_change, name="agency-change"),
    path("people/", people.people_list, name="people"),
    path("people/add/", people.person_add, name="person-add"),
    path("people/<int:person_id>/", people.person_change, name="person-change"),
    path("people/<int:person_id>/reset/<slug:kind>/", people.person_reset, name="person-reset"),
    path("people/<int:person_id>/api-tokens/", people.person_tokens, name="person-tokens"),
    path("access-requests/", people.access_change_list, name="access-changes"),
    path(
        "access-requests/<int:change_id>/",
        people.access_change_decide,
        name="access-change",
    ),
    path("outcomes/", lists.list_items, {"list_name": "outcomes"}, name="outcomes"),
    path("outcomes/add/", lists.list_item_add, {"list_name": "outcomes"}, name="outcome-add"),
    path(
        "outcomes/<int:item_id>/",
        lists.list_item_change,
        {"list_name": "outcomes"},
        name="outcome-change",
    ),
    path(
        "referrer-types/",
        lists.list_items,
        {"list_name": "referrer-types"},
        name="referrer-types",
    ),
    path(
        "referrer-types/add/",
        lists.list_item_add,
        {"list_name": "referrer-types"},
        name="referrer-type-add",
    ),
    path(
        "referrer-types/<int:item_id>/",
        lists.list_item_change,
        {"list_name": "referrer-types"},
        name="referrer-type-change",
    ),
]
