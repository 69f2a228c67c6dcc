"""Google Ads API errors as the official client decodes them.

A refused call ends with a gRPC status and two trailing metadata entries: ``request-id`` and
``google.ads.googleads.v26.errors.googleadsfailure-bin`` (a serialized ``GoogleAdsFailure``). The SDK's
``ExceptionInterceptor`` turns them into ``google.ads.googleads.errors.GoogleAdsException`` whose
``failure.errors[i].error_code`` carries e.g. ``offline_user_data_job_error = CONFLICTING_OPERATION``;
for the statuses ``INTERNAL`` and ``RESOURCE_EXHAUSTED`` it re-raises the raw ``grpc.RpcError``
instead (``google.api_core.exceptions.ResourceExhausted`` after the client's wrapping).

An ``AdsError`` names each error by its ``ErrorCode`` field and enum value name, e.g.
``ErrorSpec("quota_error", "RESOURCE_EXHAUSTED", "...")``: a wrong name raises ``ValueError`` when the
failure is built, so a typo fails the sandbox's own tests rather than reaching a client.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import grpc
from google.ads.googleads.v26.errors.types.errors import ErrorCode, ErrorLocation, GoogleAdsError, GoogleAdsFailure

API_VERSION = "v26"
FAILURE_KEY = f"google.ads.googleads.{API_VERSION}.errors.googleadsfailure-bin"


@dataclass(frozen=True)
class ErrorSpec:
    """One ``GoogleAdsError``: ``kind`` is the ``ErrorCode`` field, ``code`` the enum value name.

    ``path`` is the location as (field name, index or None) pairs, e.g. ``(("operations", 3),)``.
    """

    kind: str
    code: str
    message: str
    path: tuple[tuple[str, int | None], ...] = ()


class AdsError(Exception):
    """A refused call: the gRPC status and the Google Ads errors explaining it."""

    def __init__(self, status: grpc.StatusCode, errors: Sequence[ErrorSpec]) -> None:
        super().__init__(errors[0].message if errors else status.name)
        self.status = status
        self.errors = tuple(errors)

    @property
    def reason(self) -> str:
        """``"<kind>.<code>"`` of the first error, for logs and counters."""
        return f"{self.errors[0].kind}.{self.errors[0].code}" if self.errors else self.status.name


def ads_error(
    kind: str,
    code: str,
    message: str,
    status: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT,
    path: tuple[tuple[str, int | None], ...] = (),
) -> AdsError:
    """An ``AdsError`` with a single error (INVALID_ARGUMENT unless told)."""
    return AdsError(status, [ErrorSpec(kind, code, message, path)])


def google_ads_error(spec: ErrorSpec) -> GoogleAdsError:
    """The ``GoogleAdsError`` message for ``spec``; ``ValueError`` for an unknown kind or code."""
    field = ErrorCode.meta.fields.get(spec.kind)
    enum_type = getattr(field, "enum", None)
    if enum_type is None or spec.code not in enum_type.__members__:
        raise ValueError(f"no Google Ads error code {spec.kind}.{spec.code}")
    elements = [
        ErrorLocation.FieldPathElement(field_name=name, **({} if index is None else {"index": index}))
        for name, index in spec.path
    ]
    return GoogleAdsError(
        error_code=ErrorCode(**{spec.kind: enum_type[spec.code]}),
        message=spec.message,
        location=ErrorLocation(field_path_elements=elements),
    )


def failure(errors: Sequence[ErrorSpec], request_id: str) -> GoogleAdsFailure:
    """A ``GoogleAdsFailure`` holding ``errors`` in order."""
    return GoogleAdsFailure(errors=[google_ads_error(spec) for spec in errors], request_id=request_id)


def abort(context: grpc.ServicerContext, error: AdsError, request_id: str) -> None:
    """End the call with ``error``: trailing metadata as Google sends it (the ``GoogleAdsFailure`` only when
    ``error`` has errors: a bare status reaches the SDK as a plain gRPC error), then the status. Never returns."""
    metadata: list[tuple[str, str | bytes]] = [("request-id", request_id)]
    if error.errors:
        metadata.insert(0, (FAILURE_KEY, GoogleAdsFailure.serialize(failure(error.errors, request_id))))
    context.set_trailing_metadata(tuple(metadata))
    context.abort(error.status, str(error))
