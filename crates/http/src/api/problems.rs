//! The error answers as the OpenAPI document declares them: one response per error status,
//! each an `application/problem+json` `Problem`, so an operation lists what it can answer
//! as `(status = 404, response = inline(NotFound))`.

use crate::error::PROBLEM_JSON;
use utoipa::ToResponse;
use utoipa::openapi::{ContentBuilder, HeaderBuilder, ObjectBuilder, Ref, RefOr, Response, ResponseBuilder, Type};

fn problem(description: &str) -> ResponseBuilder {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    ResponseBuilder::new().description(description).content(PROBLEM_JSON, content)
}

fn header(schema_type: Type, description: &str) -> utoipa::openapi::Header {
    HeaderBuilder::new().schema(ObjectBuilder::new().schema_type(schema_type)).description(Some(description)).build()
}

fn retry_after(r: ResponseBuilder) -> ResponseBuilder {
    r.header("Retry-After", header(Type::Integer, "seconds to wait before sending the request again"))
}

macro_rules! problem_response {
    ($(#[doc = $doc:literal])* $name:ident, $description:literal $(, $extra:expr)?) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                let r = problem($description);
                $(let r = $extra(r);)?
                (stringify!($name), r.build().into())
            }
        }
    };
}

problem_response!(
    /// 400: a body, query or path id that does not parse or breaks a rule.
    BadRequest,
    "bad input; `code` says what is wrong and `field` where"
);
problem_response!(
    /// 401: no bearer token, or one that is not valid.
    Unauthorized,
    "no valid bearer token (`code`: unauthenticated) or wrong credentials (bad_credentials)",
    |r: ResponseBuilder| r.header("WWW-Authenticate", header(Type::String, "always `Bearer`"))
);
problem_response!(
    /// 403: signed in, but the role may not do this.
    Forbidden,
    "the signed-in user's role may not do this"
);
problem_response!(
    /// 404: no such thing, or not the caller's (so ids do not leak).
    NotFound,
    "no such resource, or not one the caller may see"
);
problem_response!(
    /// 409: the state of things refuses the request.
    Conflict,
    "refused by the current state (`code`: sold_out with `night`, invalid_transition, concurrent_change, conflict, email_taken)"
);
problem_response!(
    /// 413: the body is too large.
    PayloadTooLarge,
    "the body is larger than the limit"
);
problem_response!(
    /// 415: the body's format is not the one expected.
    UnsupportedMediaType,
    "the body is not in a format this operation takes"
);
problem_response!(
    /// 422: an Idempotency-Key sent again with another body.
    UnprocessableEntity,
    "the Idempotency-Key was used before with another body (`code`: idempotency_key_reused)"
);
problem_response!(
    /// 429: too many requests; `Retry-After` says when to try again.
    TooManyRequests,
    "too many requests; send again after `Retry-After` seconds",
    retry_after
);
problem_response!(
    /// 503: the database is briefly unavailable, or the request took too long; `Retry-After`
    /// says when to send it again.
    ServiceUnavailable,
    "briefly unavailable; send again after `Retry-After` seconds (a booking with the same Idempotency-Key, so it is placed once)",
    retry_after
);
