"""``GoogleAdsService.Search`` and ``SearchStream`` over the sandbox's user lists and jobs.

Rows hold only the selected fields plus ``resource_name`` (as Google answers). A user list's
``size_for_display`` / ``size_for_search`` are its members matched in the configured universe, and
``match_rate_percentage`` the matched share of its members (unset while it has none). Search answers
one page (``next_page_token`` empty); a query only sees the customer in the request.
Campaigns, ad groups, their user-list criteria and metrics come from the reporting seed (``reporting``).
Callers hold the store lock and have settled due jobs.
"""

from __future__ import annotations

import datetime as dt

from google.ads.googleads.v26.enums.types.access_reason import AccessReasonEnum
from google.ads.googleads.v26.enums.types.user_list_access_status import UserListAccessStatusEnum
from google.ads.googleads.v26.enums.types.user_list_crm_data_source_type import UserListCrmDataSourceTypeEnum
from google.ads.googleads.v26.enums.types.user_list_membership_status import UserListMembershipStatusEnum
from google.ads.googleads.v26.enums.types.user_list_type import UserListTypeEnum
from google.ads.googleads.v26.resources.types.user_list import UserList
from google.ads.googleads.v26.services.types.google_ads_service import (
    GoogleAdsRow,
    SearchGoogleAdsRequest,
    SearchGoogleAdsResponse,
    SearchGoogleAdsStreamRequest,
    SearchGoogleAdsStreamResponse,
)
from google.protobuf import field_mask_pb2
from google.protobuf.message import Message

from sandbox.common.universe import Universe
from sandbox.google_ads import gaql, reporting
from sandbox.google_ads.jobs import job_resource
from sandbox.google_ads.store import Store, UserListRecord

_STORED = frozenset({"user_list", "offline_user_data_job"})
SELECTABLE = {
    "user_list": frozenset({"user_list"}),
    "offline_user_data_job": frozenset({"offline_user_data_job"}),
    "customer": frozenset({"customer"}),
    "campaign": frozenset({"campaign", "metrics", "segments"}),
    "ad_group": frozenset({"ad_group", "campaign", "metrics", "segments"}),
    "campaign_criterion": frozenset({"campaign_criterion", "campaign"}),
    "ad_group_criterion": frozenset({"ad_group_criterion", "ad_group", "campaign"}),
}
_ROW = GoogleAdsRow.pb().DESCRIPTOR


def search(
    store: Store, universe: Universe, request: SearchGoogleAdsRequest, today: dt.date
) -> SearchGoogleAdsResponse:
    """One page holding every matching row (``page_size`` is ignored, as Google now does); ``today``: the
    sandbox's date, the last day with metrics."""
    query = gaql.parse(request.query, _ROW, SELECTABLE)
    rows = _rows(store, universe, request.customer_id, query, today)
    return SearchGoogleAdsResponse(results=rows, field_mask=_mask(query))


def search_stream(
    store: Store, universe: Universe, request: SearchGoogleAdsStreamRequest, request_id: str, today: dt.date
) -> list[SearchGoogleAdsStreamResponse]:
    """The stream's messages: one batch with every matching row."""
    query = gaql.parse(request.query, _ROW, SELECTABLE)
    rows = _rows(store, universe, request.customer_id, query, today)
    return [SearchGoogleAdsStreamResponse(results=rows, field_mask=_mask(query), request_id=request_id)]


def user_list_resource(record: UserListRecord, universe: Universe) -> UserList:
    """The full ``UserList`` resource of a sandbox list, sizes computed now."""
    members, matched = len(record.members), record.members.matched(universe)
    resource = UserList(
        resource_name=record.resource_name,
        id=record.list_id,
        name=record.name,
        description=record.description,
        type_=UserListTypeEnum.UserListType.CRM_BASED,
        membership_status=UserListMembershipStatusEnum.UserListMembershipStatus.OPEN,
        membership_life_span=record.membership_life_span,
        read_only=False,
        access_reason=AccessReasonEnum.AccessReason.OWNED,
        account_user_list_status=UserListAccessStatusEnum.UserListAccessStatus.ENABLED,
        eligible_for_search=True,
        eligible_for_display=True,
        size_for_display=matched,
        size_for_search=matched,
        crm_based_user_list={
            "upload_key_type": record.upload_key_type,
            "app_id": record.app_id,
            "data_source_type": UserListCrmDataSourceTypeEnum.UserListCrmDataSourceType.FIRST_PARTY,
        },
    )
    if members:
        resource.match_rate_percentage = round(100 * matched / members)
    return resource


def _rows(store: Store, universe: Universe, customer_id: str, query: gaql.Query, today: dt.date) -> list[GoogleAdsRow]:
    if query.resource in _STORED:
        candidates = [GoogleAdsRow.pb(row) for row in _stored_rows(store, universe, customer_id, query.resource)]
    else:
        candidates = [GoogleAdsRow.pb(row) for row in reporting.rows(store, customer_id, query, today)]
    kept = [GoogleAdsRow.wrap(_selected(row, query)) for row in candidates if gaql.matches(row, query)]
    return kept[: query.limit] if query.limit is not None else kept


def _stored_rows(store: Store, universe: Universe, customer_id: str, resource: str) -> list[GoogleAdsRow]:
    prefix = f"customers/{customer_id}/"
    if resource == "user_list":
        lists = (ul for name, ul in store.user_lists.items() if name.startswith(prefix))
        return [GoogleAdsRow(user_list=user_list_resource(ul, universe)) for ul in lists]
    jobs = (job for name, job in store.jobs.items() if name.startswith(prefix))
    return [GoogleAdsRow(offline_user_data_job=job_resource(job)) for job in jobs]


def _selected(row: Message, query: gaql.Query) -> Message:
    """The selected fields of ``row`` and the resource names of the resources they belong to."""
    resources = {query.resource, *(f.split(".", 1)[0] for f in query.fields)} - gaql.REPORTED
    selected = type(row)()
    paths = [*(f"{r}.resource_name" for r in sorted(resources)), *query.fields]
    field_mask_pb2.FieldMask(paths=paths).MergeMessage(row, selected)
    return selected


def _mask(query: gaql.Query) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=[gaql.gaql_name(f) for f in query.fields])
