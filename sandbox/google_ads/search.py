"""``GoogleAdsService.Search`` and ``SearchStream`` over the sandbox's user lists and jobs.

Rows hold only the selected fields plus ``resource_name`` (as Google answers). A user list's
``size_for_display`` / ``size_for_search`` are its members matched in the configured universe, and
``match_rate_percentage`` the matched share of its members (unset while it has none). Search answers
one page (``next_page_token`` empty); a query only sees the customer in the request.
Callers hold the store lock and have settled due jobs.
"""

from __future__ import annotations

from google.ads.googleads.v26.enums.types.access_reason import AccessReasonEnum
from google.ads.googleads.v26.enums.types.user_list_access_status import UserListAccessStatusEnum
from google.ads.googleads.v26.enums.types.user_list_crm_data_source_type import UserListCrmDataSourceTypeEnum
from google.ads.googleads.v26.enums.types.user_list_membership_status import UserListMembershipStatusEnum
from google.ads.googleads.v26.enums.types.user_list_type import UserListTypeEnum
from google.ads.googleads.v26.resources.types.offline_user_data_job import OfflineUserDataJob
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
from sandbox.google_ads import gaql
from sandbox.google_ads.jobs import job_resource
from sandbox.google_ads.store import Store, UserListRecord

_DESCRIPTORS = {
    "user_list": UserList.pb().DESCRIPTOR,
    "offline_user_data_job": OfflineUserDataJob.pb().DESCRIPTOR,
}


def search(store: Store, universe: Universe, request: SearchGoogleAdsRequest) -> SearchGoogleAdsResponse:
    """One page holding every matching row (``page_size`` is ignored, as Google now does)."""
    query = gaql.parse(request.query, _DESCRIPTORS)
    rows = _rows(store, universe, request.customer_id, query)
    return SearchGoogleAdsResponse(results=rows, field_mask=_mask(query))


def search_stream(
    store: Store, universe: Universe, request: SearchGoogleAdsStreamRequest, request_id: str
) -> list[SearchGoogleAdsStreamResponse]:
    """The stream's messages: one batch with every matching row."""
    query = gaql.parse(request.query, _DESCRIPTORS)
    rows = _rows(store, universe, request.customer_id, query)
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


def _rows(store: Store, universe: Universe, customer_id: str, query: gaql.Query) -> list[GoogleAdsRow]:
    prefix = f"customers/{customer_id}/"
    resources: list[Message]
    if query.resource == "user_list":
        lists = (ul for name, ul in store.user_lists.items() if name.startswith(prefix))
        resources = [UserList.pb(user_list_resource(ul, universe)) for ul in lists]
    else:
        jobs = (job for name, job in store.jobs.items() if name.startswith(prefix))
        resources = [OfflineUserDataJob.pb(job_resource(job)) for job in jobs]
    kept = [_selected(message, query) for message in resources if gaql.matches(message, query)]
    rows = [GoogleAdsRow(**{query.resource: message}) for message in kept]
    return rows[: query.limit] if query.limit is not None else rows


def _selected(message: Message, query: gaql.Query) -> Message:
    selected = type(message)()
    field_mask_pb2.FieldMask(paths=["resource_name", *query.fields]).MergeMessage(message, selected)
    return selected


def _mask(query: gaql.Query) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=[f"{query.resource}.{path}" for path in query.fields])
