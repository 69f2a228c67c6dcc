"""``OfflineUserDataJobService``: create, add operations to and run Customer Match jobs; and the
long-running operation Run answers (``google.longrunning.Operations/GetOperation``).

Rules, in the order they are checked (each an ``AdsError`` with Google's code):
* create: type CUSTOMER_MATCH_USER_LIST (``INVALID_USER_LIST_TYPE`` otherwise), an existing list of the
  customer (``INVALID_USER_LIST_ID``), job-level consent ``ad_user_data`` not DENIED
  (``CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS``);
* add: the job exists and is PENDING (``JOB_ALREADY_STARTED``); at most ``max_identifiers_per_request``
  identifiers (``TOO_MANY_USER_IDENTIFIERS``); remove_all only as the job's first operation
  (``INVALID_OPERATION_ORDER``); never creates and removes in one job (``CONFLICTING_OPERATION``); a job
  adding members needs ``ad_user_data`` consent GRANTED (``FieldError.REQUIRED``, sandbox choice);
  then per operation (see ``userdata``): without ``enable_partial_failure`` any problem fails the
  request, with it the problems come back in ``partial_failure_error`` and the good operations are kept;
* run: the job exists and is PENDING (``JOB_ALREADY_STARTED`` otherwise, also for a second Run of the
  same job: Google's forum reports this code for it, no reference page says so); it becomes RUNNING and
  the answer is an unfinished ``Operation``;
  ``processing_delay_seconds`` later (sandbox clock) it is SUCCESS and GetOperation reports ``done`` with
  an ``Empty`` response, or, run under a ``job_fails`` fault, FAILED and ``done`` with an error.
Adding the same operations twice (a request retried after its answer was lost) is accepted: the job
queues them twice, applies them as a set, and counts each distinct member once for its match rate.
Callers hold the store lock and have settled due jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.ads.googleads.v26.enums.types.offline_user_data_job_status import OfflineUserDataJobStatusEnum
from google.ads.googleads.v26.errors.types.errors import GoogleAdsFailure
from google.ads.googleads.v26.resources.types.offline_user_data_job import (
    OfflineUserDataJob,
    OfflineUserDataJobMetadata,
)
from google.ads.googleads.v26.services.types.offline_user_data_job_service import (
    AddOfflineUserDataJobOperationsRequest,
    AddOfflineUserDataJobOperationsResponse,
    CreateOfflineUserDataJobRequest,
    CreateOfflineUserDataJobResponse,
    RunOfflineUserDataJobRequest,
)
from google.longrunning import operations_pb2
from google.protobuf import any_pb2, empty_pb2
from google.rpc import status_pb2

from sandbox.common.customer_match import is_matched
from sandbox.google_ads import userdata
from sandbox.google_ads.config import GoogleAdsSandboxConfig
from sandbox.google_ads.errors import AdsError, ads_error, failure
from sandbox.google_ads.store import CREATE, FAILED, PENDING, RUNNING, SUCCESS, Job, Store
from sandbox.google_ads.userdata import JOB_ERROR
from sandbox.google_data_manager.status import match_rate_range

CUSTOMER_MATCH_USER_LIST = 4  # OfflineUserDataJobType
GRANTED, DENIED = 2, 3  # ConsentStatus


@dataclass(frozen=True)
class JobCall:
    """What a job call needs: settings, store, the sandbox clock reading, the request id, and whether a job
    this call runs ends FAILED (a ``job_fails`` fault)."""

    config: GoogleAdsSandboxConfig
    store: Store
    now: float
    request_id: str
    job_fails: bool = False


def create_job(call: JobCall, request: CreateOfflineUserDataJobRequest) -> CreateOfflineUserDataJobResponse:
    """``CreateOfflineUserDataJob``: a PENDING job for one of the customer's CRM lists."""
    job = request.job
    if int(job.type_) != CUSTOMER_MATCH_USER_LIST:
        raise ads_error(JOB_ERROR, "INVALID_USER_LIST_TYPE", "the sandbox supports CUSTOMER_MATCH_USER_LIST jobs")
    metadata = job.customer_match_user_list_metadata
    user_list = call.store.user_lists.get(metadata.user_list)
    if user_list is None or user_list.customer_id != request.customer_id:
        raise ads_error(JOB_ERROR, "INVALID_USER_LIST_ID", "no CRM-based user list with this resource name")
    consent = {
        "ad_user_data": int(metadata.consent.ad_user_data),
        "ad_personalization": int(metadata.consent.ad_personalization),
    }
    if consent["ad_user_data"] == DENIED:
        message = "ad_user_data consent is DENIED: the customer data terms do not allow this upload"
        raise ads_error(JOB_ERROR, "CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS", message)
    new = Job(request.customer_id, call.store.new_id(), metadata.user_list, consent)
    if not request.validate_only:
        call.store.jobs[new.resource_name] = new
    return CreateOfflineUserDataJobResponse(resource_name=new.resource_name)


def add_operations(
    call: JobCall, request: AddOfflineUserDataJobOperationsRequest
) -> AddOfflineUserDataJobOperationsResponse:
    """``AddOfflineUserDataJobOperations``: queue checked operations on a PENDING job."""
    job = _pending_job(call.store, request.resource_name)
    operations = userdata.raw_operations(request)
    userdata.check_request(operations, call.config.max_identifiers_per_request, not (job.operations or job.remove_all))
    kind = userdata.job_kind(operations, job.kind)
    if kind == CREATE and job.consent["ad_user_data"] != GRANTED:
        message = "a job that adds members needs customer_match_user_list_metadata.consent.ad_user_data GRANTED"
        raise ads_error("field_error", "REQUIRED", message, path=(("consent", None),))
    checked = userdata.check_operations(
        operations, call.store.user_lists[job.user_list].upload_key_type, call.config.max_identifiers_per_user
    )
    if checked.problems and not request.enable_partial_failure:
        raise AdsError(grpc.StatusCode.INVALID_ARGUMENT, checked.problems)
    if not request.validate_only:
        job.kind, job.remove_all = kind, job.remove_all or checked.remove_all
        job.operations.extend(checked.operations)
    if not checked.problems:
        return AddOfflineUserDataJobOperationsResponse()
    detail = any_pb2.Any()
    detail.Pack(GoogleAdsFailure.pb(failure(checked.problems, call.request_id)))
    status = status_pb2.Status(
        code=grpc.StatusCode.INVALID_ARGUMENT.value[0], message="operations failed", details=[detail]
    )
    return AddOfflineUserDataJobOperationsResponse(partial_failure_error=status)


def run_job(call: JobCall, request: RunOfflineUserDataJobRequest) -> operations_pb2.Operation:
    """``RunOfflineUserDataJob``: the job becomes RUNNING; answers its unfinished long-running operation."""
    job = _pending_job(call.store, request.resource_name)
    if request.validate_only:
        return operations_pb2.Operation(name=job.operation_name)
    job.status, job.started_at, job.fails = RUNNING, call.now, call.job_fails
    universe = call.config.matching
    created = {member for kind, member in job.operations if kind == CREATE}
    job.uploaded, job.matched = len(created), sum(1 for member in created if is_matched(member, universe))
    return operation_of(job)


def get_operation(store: Store, request: operations_pb2.GetOperationRequest) -> operations_pb2.Operation:
    """``Operations/GetOperation`` for an operation Run answered; NOT_FOUND (plain gRPC) otherwise."""
    job = store.job_by_operation(request.name)
    if job is None:
        raise AdsError(grpc.StatusCode.NOT_FOUND, [])
    return operation_of(job)


def operation_of(job: Job) -> operations_pb2.Operation:
    """The long-running operation of a started job: metadata always; ``done`` with ``Empty`` once SUCCESS, with an
    INTERNAL error status once FAILED (sandbox choice: Google documents "failure information", not its code)."""
    operation = operations_pb2.Operation(name=job.operation_name, done=job.status in (SUCCESS, FAILED))
    metadata = OfflineUserDataJobMetadata()
    operation.metadata.Pack(OfflineUserDataJobMetadata.pb(metadata))
    if job.status == SUCCESS:
        operation.response.Pack(empty_pb2.Empty())
    elif job.status == FAILED:
        operation.error.CopyFrom(status_pb2.Status(code=grpc.StatusCode.INTERNAL.value[0], message="the job failed"))
    return operation


def job_resource(job: Job) -> OfflineUserDataJob:
    """The ``OfflineUserDataJob`` resource as Search returns it; a finished create job carries the
    match-rate range of its uploaded members (MatchRateRange values are the Data Manager API's)."""
    resource = OfflineUserDataJob(
        resource_name=job.resource_name,
        id=job.job_id,
        type_=CUSTOMER_MATCH_USER_LIST,
        status=getattr(OfflineUserDataJobStatusEnum.OfflineUserDataJobStatus, job.status),
        customer_match_user_list_metadata={"user_list": job.user_list, "consent": job.consent},
    )
    if job.status == SUCCESS and job.uploaded:
        range_ = match_rate_range(job.matched, job.uploaded)
        resource.operation_metadata = OfflineUserDataJobMetadata(match_rate_range=range_)
    return resource


def _pending_job(store: Store, resource_name: str) -> Job:
    job = store.jobs.get(resource_name)
    if job is None:
        raise ads_error("mutate_error", "RESOURCE_NOT_FOUND", "no offline user data job with this resource name")
    if job.status != PENDING:
        raise ads_error(JOB_ERROR, "JOB_ALREADY_STARTED", "the job was already run: create a new job")
    return job
