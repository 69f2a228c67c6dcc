"""``UserListService.MutateUserLists``: create and remove CRM-based (Customer Match) user lists.

Create needs a name unique in the customer (``UserListError.NAME_ALREADY_USED``), a
``crm_based_user_list`` with an upload key type (``UserListError.CONCRETE_TYPE_REQUIRED`` otherwise;
``APP_ID_NOT_SET`` for mobile ids without ``app_id``) and ``membership_life_span`` within 0..540
(``RangeError.TOO_HIGH``; unset means 540). Update is not supported (``MUTATE_NOT_SUPPORTED``).
Operations are all-or-nothing unless ``partial_failure``; with ``validate_only`` nothing is stored.
Callers hold the store lock.
"""

from __future__ import annotations

import grpc
from google.ads.googleads.v26.resources.types.user_list import UserList
from google.ads.googleads.v26.services.types.user_list_service import (
    MutateUserListResult,
    MutateUserListsRequest,
    MutateUserListsResponse,
    UserListOperation,
)

from sandbox.google_ads.errors import AdsError, ErrorSpec, ads_error
from sandbox.google_ads.store import Store, UserListRecord
from sandbox.google_ads.userdata import MOBILE_ADVERTISING_ID

MAX_LIFE_SPAN_DAYS = 540
LIST_ERROR = "user_list_error"


def mutate_user_lists(store: Store, request: MutateUserListsRequest) -> MutateUserListsResponse:
    """Apply the operations in order; raises ``AdsError`` listing every failed operation (no partial failure)."""
    results: list[MutateUserListResult] = []
    problems: list[ErrorSpec] = []
    for index, operation in enumerate(request.operations):
        try:
            name = _apply(store, request.customer_id, operation, request.validate_only)
        except AdsError as error:
            problems.extend(_at(spec, index) for spec in error.errors)
            results.append(MutateUserListResult())
        else:
            results.append(MutateUserListResult(resource_name=name))
    if problems:
        raise AdsError(grpc.StatusCode.INVALID_ARGUMENT, problems)
    return MutateUserListsResponse(results=results)


def _apply(store: Store, customer_id: str, operation: UserListOperation, validate_only: bool) -> str:
    which = UserListOperation.pb(operation).WhichOneof("operation")
    if which == "create":
        record = _new_list(store, customer_id, operation.create)
        if not validate_only:
            store.user_lists[record.resource_name] = record
        return record.resource_name
    if which == "remove":
        if operation.remove not in store.user_lists or not operation.remove.startswith(f"customers/{customer_id}/"):
            raise ads_error("mutate_error", "RESOURCE_NOT_FOUND", "no user list with this resource name")
        if not validate_only:
            del store.user_lists[operation.remove]
        return operation.remove
    raise ads_error(LIST_ERROR, "USER_LIST_MUTATE_NOT_SUPPORTED", "the sandbox supports create and remove only")


def _new_list(store: Store, customer_id: str, user_list: UserList) -> UserListRecord:
    if not user_list.name.strip():
        raise ads_error(LIST_ERROR, "INVALID_NAME", "a user list needs a name", path=(("name", None),))
    if any(ul.customer_id == customer_id and ul.name == user_list.name for ul in store.user_lists.values()):
        raise ads_error(LIST_ERROR, "NAME_ALREADY_USED", "a user list with this name exists", path=(("name", None),))
    if not UserList.pb(user_list).HasField("crm_based_user_list") or not user_list.crm_based_user_list.upload_key_type:
        message = "the sandbox creates CRM-based lists: crm_based_user_list.upload_key_type is required"
        raise ads_error(LIST_ERROR, "CONCRETE_TYPE_REQUIRED", message)
    crm = user_list.crm_based_user_list
    if int(crm.upload_key_type) == MOBILE_ADVERTISING_ID and not crm.app_id:
        raise ads_error(LIST_ERROR, "APP_ID_NOT_SET", "mobile advertising id lists need crm_based_user_list.app_id")
    span = user_list.membership_life_span if UserList.pb(user_list).HasField("membership_life_span") else 540
    if not 0 <= span <= MAX_LIFE_SPAN_DAYS:
        message = f"membership_life_span must be between 0 and {MAX_LIFE_SPAN_DAYS} days"
        raise ads_error("range_error", "TOO_HIGH", message, path=(("membership_life_span", None),))
    return UserListRecord(
        customer_id=customer_id,
        list_id=store.new_id(),
        name=user_list.name,
        description=user_list.description,
        upload_key_type=int(crm.upload_key_type),
        membership_life_span=span,
        app_id=crm.app_id,
    )


def _at(spec: ErrorSpec, index: int) -> ErrorSpec:
    return ErrorSpec(spec.kind, spec.code, spec.message, (("operations", index), *spec.path))
