"""The Google Ads API sandbox: gRPC method handlers built from the SDK's own proto-plus messages.

Order of checks for every call (each refusal is a Google Ads failure, see ``errors``):
1. ``developer-token`` metadata present (``RequestError.DEVELOPER_TOKEN_PARAMETER_MISSING``) and
   configured (``AuthenticationError.DEVELOPER_TOKEN_INVALID``, UNAUTHENTICATED);
2. ``authorization: Bearer <token>`` present (``AuthenticationError.AUTHENTICATION_ERROR``; any token is
   accepted: the sandbox never checks OAuth);
3. ``login-customer-id`` present (``RequestError.LOGIN_CUSTOMER_ID_PARAMETER_MISSING``) and accepted,
   and the request's customer configured (``AuthorizationError.USER_PERMISSION_DENIED``);
4. quota: ``requests_per_minute`` per developer token, else gRPC RESOURCE_EXHAUSTED
   (``QuotaError.RESOURCE_TEMPORARILY_EXHAUSTED``; the SDK raises ``api_core`` ``ResourceExhausted``);
5. fault latency, then scripted, then random faults (HTTP-like statuses mapped to gRPC, see ``faults``): a
   fault refuses the call, except a scripted ``answer_lost`` one (the call is performed, then answered
   with the fault's error) or ``job_fails`` one (the Run is performed, its job ends FAILED);
6. OfflineUserDataJobService with a developer token not allowlisted for Customer Match:
   ``NotAllowlistedError.CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE`` (PERMISSION_DENIED);
7. jobs due on the sandbox clock are finished, then the method runs under the store lock.
Logs carry method, customer id and error reason only: never identifiers, hashes or tokens.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc
from google.ads.googleads.v26.services.types import google_ads_service as gas
from google.ads.googleads.v26.services.types import offline_user_data_job_service as jobs_api
from google.ads.googleads.v26.services.types import user_list_service as lists_api
from google.longrunning import operations_pb2

from sandbox.common.faults import Fault, FaultInjector
from sandbox.common.persist import StateFile
from sandbox.common.ratelimit import SlidingWindowCounter
from sandbox.google_ads import jobs, search, user_lists
from sandbox.google_ads.config import GoogleAdsSandboxConfig
from sandbox.google_ads.errors import API_VERSION, AdsError, abort, ads_error
from sandbox.google_ads.faults import answer_lost, fault_error, job_fails, performs
from sandbox.google_ads.store import Store

logger = logging.getLogger(__name__)

SERVICES = f"google.ads.googleads.{API_VERSION}.services"
JOB_SERVICE = f"{SERVICES}.OfflineUserDataJobService"
_CUSTOMER_IN_NAME = re.compile(r"customers/(\d+)/")
_PERMISSION = grpc.StatusCode.PERMISSION_DENIED
_READ_ONLY = (f"/{SERVICES}.GoogleAdsService/", "/google.longrunning.Operations/")


@dataclass(frozen=True)
class Call:
    """One admitted call: its method path, request id, sandbox clock reading and the fault it runs under
    (``answer_lost`` / ``job_fails``; None for most calls)."""

    method: str
    request_id: str
    now: float
    fault: Fault | None = None


class GoogleAdsSandbox:
    """The sandbox application. Thread-safe; ``close`` flushes the state file, if any."""

    def __init__(
        self,
        config: GoogleAdsSandboxConfig,
        state_file: Path | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.store = Store()
        self.faults = FaultInjector(config.faults)
        self.clock = clock
        self._sleep = sleep
        self._minute = SlidingWindowCounter(60.0, clock)
        self._stats_lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._state = StateFile(state_file, self.store.load_json, self._document)

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        """The generic handlers to add to a ``grpc.Server``, one per service."""
        universe = self.config.matching
        methods: list[tuple[str, str, Callable[[Call, Any], Any], Callable[..., Any], Callable[..., Any]]] = [
            (
                f"{SERVICES}.UserListService",
                "MutateUserLists",
                lambda call, request: user_lists.mutate_user_lists(self.store, request),
                lists_api.MutateUserListsRequest.deserialize,
                lists_api.MutateUserListsResponse.serialize,
            ),
            (
                JOB_SERVICE,
                "CreateOfflineUserDataJob",
                lambda call, request: jobs.create_job(self._job_call(call), request),
                jobs_api.CreateOfflineUserDataJobRequest.deserialize,
                jobs_api.CreateOfflineUserDataJobResponse.serialize,
            ),
            (
                JOB_SERVICE,
                "AddOfflineUserDataJobOperations",
                lambda call, request: jobs.add_operations(self._job_call(call), request),
                jobs_api.AddOfflineUserDataJobOperationsRequest.deserialize,
                jobs_api.AddOfflineUserDataJobOperationsResponse.serialize,
            ),
            (
                JOB_SERVICE,
                "RunOfflineUserDataJob",
                lambda call, request: jobs.run_job(self._job_call(call), request),
                jobs_api.RunOfflineUserDataJobRequest.deserialize,
                operations_pb2.Operation.SerializeToString,
            ),
            (
                f"{SERVICES}.GoogleAdsService",
                "Search",
                lambda call, request: search.search(self.store, universe, request, _day(call.now)),
                gas.SearchGoogleAdsRequest.deserialize,
                gas.SearchGoogleAdsResponse.serialize,
            ),
            (
                f"{SERVICES}.GoogleAdsService",
                "SearchStream",
                lambda call, request: search.search_stream(
                    self.store, universe, request, call.request_id, _day(call.now)
                ),
                gas.SearchGoogleAdsStreamRequest.deserialize,
                gas.SearchGoogleAdsStreamResponse.serialize,
            ),
            (
                "google.longrunning.Operations",
                "GetOperation",
                lambda call, request: jobs.get_operation(self.store, request),
                operations_pb2.GetOperationRequest.FromString,
                operations_pb2.Operation.SerializeToString,
            ),
        ]
        table: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
        for service, name, method, deserialize, serialize in methods:
            handle = self._handler(f"/{service}/{name}", method)
            if name == "SearchStream":
                handler = grpc.unary_stream_rpc_method_handler(_streamed(handle), deserialize, serialize)
            else:
                handler = grpc.unary_unary_rpc_method_handler(handle, deserialize, serialize)
            table.setdefault(service, {})[name] = handler
        return [grpc.method_handlers_generic_handler(service, handlers) for service, handlers in table.items()]

    def settle(self) -> None:
        """Finish the jobs due on the sandbox clock."""
        with self.store.lock:
            if self.store.settle(self.clock(), self.config.processing_delay_seconds):
                self._state.mark_changed()

    def stats(self) -> dict[str, Any]:
        """Admitted calls by method name and refusals by reason (for ``/_sandbox/state``)."""
        with self._stats_lock:
            return {"calls": dict(self._calls), "errors": dict(self._errors)}

    def close(self) -> None:
        """Save pending state changes (idempotent)."""
        self._state.close()

    def _handler(self, path: str, method: Callable[[Call, Any], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            call = Call(path, uuid.uuid4().hex[:22], self.clock())
            try:
                call = replace(call, fault=self._admit(call, request, context))
                answer = self._perform(call, method, request)
                if answer_lost(call.fault):
                    raise fault_error(call.fault)
                return answer
            except AdsError as error:
                self._refuse(call, error, context)

        return handle

    def _perform(self, call: Call, method: Callable[[Call, Any], Any], request: Any) -> Any:
        """Runs ``method`` under the store lock after finishing due jobs; marks the state changed for writes."""
        self.settle()
        with self.store.lock:
            answer = method(call, request)
            if not call.method.startswith(_READ_ONLY):
                self._state.mark_changed()
            return answer

    def _admit(self, call: Call, request: Any, context: grpc.ServicerContext) -> Fault | None:
        """Checks credentials, customer, quota and faults (raises ``AdsError``); the fault the call still runs
        under (``faults.performs``), else None."""
        metadata = {key: value for key, value in context.invocation_metadata() if isinstance(value, str)}
        token = self._developer_token(metadata)
        self._check_customer(metadata, request)
        if not self._minute.try_acquire(token, self.config.requests_per_minute):
            message = f"too many requests: {self.config.requests_per_minute} a minute per developer token"
            raise ads_error(
                "quota_error", "RESOURCE_TEMPORARILY_EXHAUSTED", message, grpc.StatusCode.RESOURCE_EXHAUSTED
            )
        self._sleep(self.faults.latency_seconds())
        fault = self.faults.next_fault("POST", call.method)
        if fault is not None and not performs(fault):
            raise fault_error(fault)
        if call.method.startswith(f"/{JOB_SERVICE}/") and not self.config.developer_tokens[token]:
            message = "this developer token is not allowlisted for Customer Match: use the Data Manager API"
            raise ads_error("not_allowlisted_error", "CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE", message, _PERMISSION)
        with self._stats_lock:
            self._calls[call.method.rsplit("/", 1)[-1]] += 1
        return fault

    def _developer_token(self, metadata: Mapping[str, str]) -> str:
        token = metadata.get("developer-token", "")
        if not token:
            raise ads_error("request_error", "DEVELOPER_TOKEN_PARAMETER_MISSING", "developer-token is required")
        if token not in self.config.developer_tokens:
            unauthenticated = grpc.StatusCode.UNAUTHENTICATED
            raise ads_error(
                "authentication_error", "DEVELOPER_TOKEN_INVALID", "the developer token is not valid", unauthenticated
            )
        if not metadata.get("authorization", "").startswith("Bearer "):
            unauthenticated = grpc.StatusCode.UNAUTHENTICATED
            raise ads_error(
                "authentication_error", "AUTHENTICATION_ERROR", "an OAuth bearer token is required", unauthenticated
            )
        return token

    def _check_customer(self, metadata: Mapping[str, str], request: Any) -> None:
        login = metadata.get("login-customer-id", "")
        if not login:
            message = "login-customer-id is required (the manager or the customer id, digits only)"
            raise ads_error("request_error", "LOGIN_CUSTOMER_ID_PARAMETER_MISSING", message)
        customer = _customer_of(request)
        if not self.config.login_allowed(login) or customer not in self.config.customers:
            message = f"the caller has no access to customer {customer or '?'} through login customer {login}"
            raise ads_error("authorization_error", "USER_PERMISSION_DENIED", message, _PERMISSION)

    def _job_call(self, call: Call) -> jobs.JobCall:
        return jobs.JobCall(self.config, self.store, call.now, call.request_id, job_fails(call.fault))

    def _refuse(self, call: Call, error: AdsError, context: grpc.ServicerContext) -> None:
        with self._stats_lock:
            self._errors[f"{error.status.name} {error.reason}"] += 1
        logger.info("%s refused: %s %s", call.method.rsplit("/", 1)[-1], error.status.name, error.reason)
        abort(context, error, call.request_id)

    def _document(self) -> dict[str, Any]:
        with self.store.lock:
            return self.store.to_json()


def _streamed(
    handle: Callable[[Any, grpc.ServicerContext], Any],
) -> Callable[[Any, grpc.ServicerContext], Iterator[Any]]:
    def stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        yield from handle(request, context)

    return stream


def _day(now: float) -> dt.date:
    """The sandbox clock's date (UTC): the last day the reporting seed has metrics for."""
    return dt.datetime.fromtimestamp(now, dt.UTC).date()


def _customer_of(request: Any) -> str:
    customer_id = getattr(request, "customer_id", "")
    if customer_id:
        return str(customer_id)
    name = getattr(request, "resource_name", "") or getattr(request, "name", "")
    match = _CUSTOMER_IN_NAME.match(str(name))
    return match[1] if match else ""
