"""How each sandbox keys what it stores when several people share an identifier, as the real vendor does.

Each test drives a sandbox through its real wire API (official SDK, or HTTP for CleverTap, which has no SDK)
and reads the outcome back through the sandbox's inspection API:

- HubSpot: one contact per e-mail (case-insensitive, stored lower case); list membership per contact id;
  property values per contact.
- CleverTap: one profile per identity, profile uploads merge into it; events are never deduplicated.
- Meta: an audience holds rows; an identical row is stored once; a removal row deletes every row identical
  to it or sharing a strong key (EMAIL, PHONE, MADID, EXTERN_ID) value with it.
- Google (Ads API and Data Manager API): members are stored as uploaded (an identical one once, members
  sharing an identifier apart); a removal drops every stored member sharing any identifier with it. Both
  sandboxes follow the same script step by step.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from google.ads import datamanager_v1 as dm
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectId,
)

from tests.sandbox.test_clevertap_sandbox import answer, event, profile
from tests.sandbox.test_google_ads_sandbox import create_list as create_ads_list
from tests.sandbox.test_google_ads_sandbox import operation, sync
from tests.sandbox.test_google_data_manager_sandbox import create_list as create_dm_list
from tests.sandbox.test_google_data_manager_sandbox import destination, ingest_request, member, stored
from tests.sandbox.test_hubspot_sandbox import api_error, body_of, create_list, upsert
from tests.support.clevertap_harness import CT_ACCOUNT, CleverTapHarness
from tests.support.google_ads_harness import GoogleAdsHarness, google_ads_starter
from tests.support.google_dm_harness import GDM_DELAY, GoogleDataManagerHarness
from tests.support.hubspot_harness import HubSpotHarness
from tests.support.meta_harness import MetaHarness, sha

ENTERED, EXITED = "Behavior Entered", "Behavior Exited"
HEX = dm.Encoding.HEX


# --- HubSpot -----------------------------------------------------------------------------------------------


def test_hubspot_upserts_of_one_email_in_any_case_keep_one_lower_case_contact(hubspot_sandbox: HubSpotHarness) -> None:
    hs = hubspot_sandbox
    first, _, _ = upsert(hs, {"Shared.Person@Example.COM": {"firstname": "Ana"}})
    second, _, _ = upsert(hs, {"shared.person@example.com": {"lastname": "Lima"}})
    third, _, _ = upsert(hs, {"SHARED.PERSON@EXAMPLE.COM": {"firstname": "Ana Maria"}})
    read = BatchReadInputSimplePublicObjectId(
        inputs=[SimplePublicObjectId(id="Shared.Person@example.com")], id_property="email", properties=["email"]
    )
    found = hs.client().crm.contacts.batch_api.read(read)

    contact_id = first.results[0].id
    assert [first.results[0].new, second.results[0].new, third.results[0].new] == [True, False, False]
    assert second.results[0].id == third.results[0].id == found.results[0].id == contact_id
    contacts = hs.get("contacts", email="SHARED.person@example.com")["contacts"]
    assert [(c["id"], c["email"]) for c in contacts] == [(contact_id, "shared.person@example.com")]
    assert contacts[0]["properties"] == {
        "email": "shared.person@example.com",
        "firstname": "Ana Maria",
        "lastname": "Lima",
    }


def test_hubspot_creating_a_contact_whose_email_exists_in_another_case_names_the_existing_contact(
    hubspot_sandbox: HubSpotHarness,
) -> None:
    hs = hubspot_sandbox
    existing, _, _ = upsert(hs, {"taken@example.com": {"firstname": "First"}})
    batch = BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=[
            SimplePublicObjectBatchInputForCreate(
                properties={"email": "Taken@Example.com", "firstname": "Second"}, associations=[]
            )
        ]
    )

    conflict = api_error(hs.client().crm.contacts.batch_api.create, batch)

    assert conflict.status == 409 and body_of(conflict)["category"] == "CONFLICT"
    assert f"Existing ID: {existing.results[0].id}" in body_of(conflict)["message"]
    assert hs.get("contacts", email="taken@example.com")["contacts"][0]["properties"]["firstname"] == "First"
    assert hs.get("contacts", email="taken@example.com")["count"] == 1


def test_hubspot_list_membership_is_per_contact_id_so_repeats_and_non_members_are_no_ops(
    hubspot_sandbox: HubSpotHarness,
) -> None:
    hs = hubspot_sandbox
    created, _, _ = upsert(hs, {"one@example.com": {}, "two@example.com": {}})
    shared, other = (r.id for r in created.results)
    list_id = create_list(hs)
    memberships = hs.client().crm.lists.memberships_api

    first = memberships.add(list_id, [shared, shared])  # two of our members resolved to one contact
    again = memberships.add(list_id, [shared])
    not_member = memberships.remove(list_id, [other])

    assert first.records_ids_added == [shared] and again.records_ids_added == []
    assert not_member.record_ids_removed == [] and not_member.record_ids_missing == []
    assert hs.members(list_id) == [shared]
    removed = memberships.remove(list_id, [shared])
    removed_again = memberships.remove(list_id, [shared])
    assert removed.record_ids_removed == [shared] and removed_again.record_ids_removed == []
    assert hs.members(list_id) == []


def test_hubspot_property_values_belong_to_each_contact(hubspot_sandbox: HubSpotHarness) -> None:
    hs = hubspot_sandbox
    created, _, _ = upsert(hs, {"ana@example.com": {"city": "Lisbon"}, "bo@example.com": {"city": "Porto"}})
    ana = created.results[0].id
    update = BatchInputSimplePublicObjectBatchInput(
        inputs=[SimplePublicObjectBatchInput(id=ana, properties={"city": "Faro"})]
    )
    hs.client().crm.contacts.batch_api.update(update)
    upsert(hs, {"BO@example.com": {"company": "Bo Ltd"}})

    contacts = hs.contacts()
    assert contacts["ana@example.com"] == {"email": "ana@example.com", "city": "Faro"}
    assert contacts["bo@example.com"] == {"email": "bo@example.com", "city": "Porto", "company": "Bo Ltd"}


# --- CleverTap ---------------------------------------------------------------------------------------------


def test_clevertap_profile_uploads_for_one_identity_merge_into_one_profile(
    clevertap_sandbox: CleverTapHarness,
) -> None:
    ct = clevertap_sandbox
    answer(ct.upload([profile("cust-1", Tier="gold", Email="ana@example.com"), profile("cust-2", Tier="silver")]))
    answer(ct.upload([profile("cust-1", Tier="platinum", Orders=3)]))
    guid = ct.profile("cust-1")["guid"]
    answer(ct.upload([profile("cust-1", Name="Ana")]))

    assert ct.get("profiles", account=CT_ACCOUNT)["count"] == 2
    assert ct.profile("cust-1") == {
        "guid": guid,
        "ids": {"identity": "cust-1"},
        "properties": {"Tier": "platinum", "Email": "ana@example.com", "Orders": 3, "Name": "Ana"},
    }
    assert ct.profiles()["cust-2"] == {"Tier": "silver"}


def test_clevertap_every_accepted_event_is_stored_and_counted_per_identity_and_name(
    clevertap_sandbox: CleverTapHarness,
) -> None:
    ct = clevertap_sandbox
    twice = [event("cust-1", ENTERED, behavior="value_hunters")] * 2  # one event sent twice in one call
    assert answer(ct.upload([*twice, event("cust-2", ENTERED)]))["processed"] == 3
    again = ct.upload([event("cust-1", ENTERED, behavior="value_hunters"), event("cust-1", EXITED)])
    assert answer(again)["processed"] == 2

    counts = {
        (identity, name): ct.get("events", account=CT_ACCOUNT, identity=identity, evtName=name)["count"]
        for identity in ("cust-1", "cust-2")
        for name in (ENTERED, EXITED)
    }
    assert counts == {("cust-1", ENTERED): 3, ("cust-1", EXITED): 1, ("cust-2", ENTERED): 1, ("cust-2", EXITED): 0}
    assert [e["call"] for e in ct.events(identity="cust-1", evtName=ENTERED)] == [1, 1, 2]
    assert ct.get("events", account=CT_ACCOUNT, identity="cust-1")["count"] == 4
    assert sorted(ct.profiles()) == ["cust-1", "cust-2"]  # events never add a second profile per identity


# --- Meta --------------------------------------------------------------------------------------------------

EMAIL_PHONE = ["EMAIL", "PHONE"]


def madid(i: int) -> str:
    return str(uuid.UUID(int=i))


def test_meta_an_identical_row_is_stored_once_whatever_the_schema_order(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    audience = meta.audience(audience_id)
    audience.add_users(EMAIL_PHONE, [[sha("a@x.com"), sha("111")]], is_raw=True, pre_hashed=True)
    audience.add_users(["PHONE", "EMAIL"], [[sha("111"), sha("a@x.com")]], is_raw=True, pre_hashed=True)
    audience.add_users(EMAIL_PHONE, [[sha("a@x.com"), sha("111")]] * 2, is_raw=True, pre_hashed=True)
    audience.add_users("EMAIL_SHA256", [sha("a@x.com")], pre_hashed=True)  # another row: rows are not merged

    assert sorted(meta.members(audience_id), key=len) == [
        {"EMAIL": sha("a@x.com")},
        {"EMAIL": sha("a@x.com"), "PHONE": sha("111")},
    ]


def test_meta_a_removal_row_deletes_every_row_sharing_a_strong_key_even_with_another_phone(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    audience = meta.audience(audience_id)
    schema = ["EMAIL", "PHONE", "FN"]
    rows = [
        [sha("a@x.com"), sha("111"), sha("ana")],  # the shared e-mail, with phone 111
        [sha("a@x.com"), sha("222"), ""],  # the shared e-mail, with phone 222
        [sha("b@x.com"), sha("333"), sha("bo")],  # shares phone 333 with the second removal row
        [sha("c@x.com"), "", sha("ana")],  # shares only a weak key (FN) with the first row
        [sha("d@x.com"), sha("444"), ""],  # shares nothing
    ]
    audience.add_users(schema, rows, is_raw=True, pre_hashed=True)

    by_email = audience.remove_users(EMAIL_PHONE, [[sha("a@x.com"), sha("999")]], is_raw=True, pre_hashed=True)
    after_email = sorted(m["EMAIL"] for m in meta.members(audience_id))
    audience.remove_users(EMAIL_PHONE, [[sha("z@x.com"), sha("333")]], is_raw=True, pre_hashed=True)
    after_phone = sorted(m["EMAIL"] for m in meta.members(audience_id))
    audience.remove_users(["FN"], [[sha("ana")]], is_raw=True, pre_hashed=True)  # weak keys alone match nothing

    assert by_email.json()["num_received"] == 1 and by_email.json()["num_invalid_entries"] == 0
    assert after_email == sorted([sha("b@x.com"), sha("c@x.com"), sha("d@x.com")])
    assert after_phone == sorted([sha("c@x.com"), sha("d@x.com")])
    assert sorted(m["EMAIL"] for m in meta.members(audience_id)) == after_phone
    read = audience.api_get(fields=["approximate_count_lower_bound"])
    assert read["approximate_count_lower_bound"] == 2


def test_meta_removal_by_madid_or_extern_id_deletes_rows_sharing_that_value(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    audience = meta.audience(audience_id)
    schema = ["EMAIL", "EXTERN_ID", "MADID"]
    rows = [
        [sha("a@x.com"), "cust-1", madid(1)],
        [sha("b@x.com"), "cust-2", madid(2)],
        [sha("c@x.com"), "cust-3", madid(3)],
        [sha("d@x.com"), "", madid(2)],  # shares the advertising id of cust-2
    ]
    audience.add_users(schema, rows, is_raw=True, pre_hashed=True)

    audience.remove_users(["EXTERN_ID"], [["cust-1"]], is_raw=True, pre_hashed=True)
    audience.remove_users("MOBILE_ADVERTISER_ID", [madid(2)])

    assert meta.members(audience_id) == [{"EMAIL": sha("c@x.com"), "EXTERN_ID": "cust-3", "MADID": madid(3)}]


# --- Google: one script, both sandboxes ------------------------------------------------------------------

Person = tuple[str, ...]  # "a@x.com" style e-mails and "+1..." phones
Step = tuple[str, list[Person], list[Person]]  # (add|remove, members sent in order, people stored after)
SCRIPT: list[Step] = [
    (
        "add",
        [("a@x.com",), ("+1555",), ("c@x.com",), ("d@x.com",)],
        [("a@x.com",), ("+1555",), ("c@x.com",), ("d@x.com",)],
    ),
    (  # shares an identifier with two members: stored as a member of its own
        "add",
        [("a@x.com", "+1555")],
        [("a@x.com",), ("+1555",), ("a@x.com", "+1555"), ("c@x.com",), ("d@x.com",)],
    ),
    (  # the same member again: stored once
        "add",
        [("a@x.com",)],
        [("a@x.com",), ("+1555",), ("a@x.com", "+1555"), ("c@x.com",), ("d@x.com",)],
    ),
    (
        "add",
        [("c@x.com", "e@x.com")],
        [("a@x.com",), ("+1555",), ("a@x.com", "+1555"), ("c@x.com",), ("c@x.com", "e@x.com"), ("d@x.com",)],
    ),
    (  # unknown: nothing
        "remove",
        [("z@x.com",)],
        [("a@x.com",), ("+1555",), ("a@x.com", "+1555"), ("c@x.com",), ("c@x.com", "e@x.com"), ("d@x.com",)],
    ),
    (  # one shared identifier drops every member holding it, not the members those share others with
        "remove",
        [("a@x.com",)],
        [("+1555",), ("c@x.com",), ("c@x.com", "e@x.com"), ("d@x.com",)],
    ),
    ("remove", [("e@x.com",)], [("+1555",), ("c@x.com",), ("d@x.com",)]),
    ("remove", [("d@x.com", "+1555")], [("c@x.com",)]),  # one removal sharing identifiers with two members
]


def identifiers(person: Person) -> list[str]:
    return sorted(f"phone:{sha(v)}" if v.startswith("+") else f"email:{sha(v)}" for v in person)


def expected(people: list[Person]) -> list[list[str]]:
    return sorted(identifiers(p) for p in people)


def split(person: Person) -> tuple[list[str], str | None]:
    phones = [v for v in person if v.startswith("+")]
    assert len(phones) <= 1
    return [v for v in person if not v.startswith("+")], next(iter(phones), None)


def dm_member(person: Person) -> Any:
    emails, phone = split(person)
    return member(*emails, phone=phone)


@pytest.fixture
def gads() -> Iterator[GoogleAdsHarness]:
    with google_ads_starter() as start:
        yield start()


def test_google_ads_keeps_members_apart_and_removes_every_member_sharing_an_identifier_with_a_removal(
    gads: GoogleAdsHarness,
) -> None:
    user_list = create_ads_list(gads)
    list_id = int(user_list.rsplit("/", 1)[1])
    for kind, people, after in SCRIPT:
        ops = [operation(gads, "create" if kind == "add" else "remove", *split(p)) for p in people]
        sync(gads, user_list, ops)
        assert gads.members(list_id) == expected(after), (kind, people)


def test_google_data_manager_keeps_members_apart_and_removes_every_member_sharing_an_identifier_with_a_removal(
    google_data_manager: GoogleDataManagerHarness,
) -> None:
    gdm = google_data_manager
    user_list = create_dm_list(gdm)
    dests = [destination(user_list)]
    for kind, people, after in SCRIPT:
        members = [dm_member(p) for p in people]
        if kind == "add":
            gdm.ingestion().ingest_audience_members(request=ingest_request(dests, members))
        else:
            remove = dm.RemoveAudienceMembersRequest(destinations=dests, audience_members=members, encoding=HEX)
            gdm.ingestion().remove_audience_members(request=remove)
        gdm.clock.advance(GDM_DELAY)
        assert stored(gdm, user_list) == expected(after), (kind, people)
