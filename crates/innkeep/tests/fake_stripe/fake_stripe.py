#!/usr/bin/env python3
"""FAKE card payment provider for Innkeep's integration tests. This is NOT Stripe.

It speaks the part of Stripe's published HTTP API (https://docs.stripe.com/api) that Innkeep
uses, so the Stripe adapter can be tested where no card network and no stripe-mock can be
reached. It never moves money and holds everything in memory (optionally in a JSON file).

Followed from Stripe's contract:
  * `Authorization: Bearer <secret key>` (or HTTP Basic with the key as user); 401 otherwise.
  * Form-encoded bodies with bracket keys (`metadata[k]=v`, `payment_method_types[]=card`,
    `payment_method_types[0]=card`); unknown parameters refused (`parameter_unknown`).
  * JSON responses, errors as `{"error": {"type", "code", "message", "param", ...}}`,
    a `Request-Id` header; the `Stripe-Version` header is recorded and echoed.
  * Idempotency keys per secret key: same key, path and parameters replay the first result
    with `Idempotent-Replayed: true`; other parameters -> 400 `idempotency_error`; a key in
    use by a running request -> 409 `idempotency_key_in_use`. As at Stripe, a request that
    fails parameter validation stores no result.
  * PaymentIntents: create (optionally `confirm=true`), retrieve, confirm, cancel. Confirm
    and retrieve also take a publishable key (`pk_...`) or no key plus the `client_secret`,
    as Stripe.js does. Test payment methods `pm_card_visa` (succeeds) and
    `pm_card_chargeDeclined` & co (402 `card_error`), see TEST_CARDS.
  * Refunds: create (full or partial, never beyond what was received) and retrieve.
  * Webhooks: Event objects POSTed after the API response, signed
    `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, retried with
    backoff while the receiver fails. Events: payment_intent.created / .succeeded /
    .payment_failed / .canceled, charge.succeeded / .failed / .refunded, refund.created.

Not followed: everything else (customers, capture_method=manual, 3-D Secure, lists, search,
`expand[]` is accepted but ignored), live mode, rate limits, key expiry after 24 hours.

Control endpoints under /_fake/ (no auth) inspect and steer it; see README.md.
"""

import argparse
import base64
import hashlib
import heapq
import hmac
import html
import http.client
import itertools
import json
import os
import re
import secrets
import string
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_API_VERSION = "2024-06-20"
BACKOFF = [0.2, 0.5, 1, 2, 5, 5, 5, 5, 5]  # seconds before attempts 2..10
# Deliveries at once: each waits for Innkeep to commit what the event says, so a handful
# of threads would cap the paid rate of a benchmark below what the server can take.
WEBHOOK_THREADS = 32
ALNUM = string.ascii_letters + string.digits
ZERO_DECIMAL = set("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
THREE_DECIMAL = set("bhd jod kwd omr tnd".split())
# payment method -> None (succeeds) or (code, decline_code, message), as in Stripe's testing docs.
_DECLINED = ("card_declined", "generic_decline", "Your card was declined.")
_NO_FUNDS = ("card_declined", "insufficient_funds", "Your card has insufficient funds.")
TEST_CARDS = {
    "pm_card_visa": None, "pm_card_visa_debit": None, "pm_card_mastercard": None, "pm_card_amex": None,
    "pm_card_chargeDeclined": _DECLINED, "pm_card_visa_chargeDeclined": _DECLINED,
    "pm_card_chargeDeclinedInsufficientFunds": _NO_FUNDS, "pm_card_visa_chargeDeclinedInsufficientFunds": _NO_FUNDS,
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "expired_card", "Your card has expired."),
    "pm_card_chargeDeclinedIncorrectCvc": ("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
}
CREATE_PARAMS = {"amount", "currency", "payment_method_types", "automatic_payment_methods", "description", "metadata",
                 "confirm", "payment_method", "return_url", "expand", "capture_method", "receipt_email",
                 "statement_descriptor", "statement_descriptor_suffix"}
CONFIRM_PARAMS = {"payment_method", "return_url", "client_secret", "expand", "receipt_email"}
CANCEL_PARAMS = {"cancellation_reason", "expand"}
REFUND_PARAMS = {"payment_intent", "charge", "amount", "reason", "metadata", "expand"}
CANCEL_REASONS = {"duplicate", "fraudulent", "requested_by_customer", "abandoned"}
REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}
CHECKOUT_TITLE = "Fake card provider — test only"


def new_id(prefix, n=24):
    return prefix + "_" + "".join(secrets.choice(ALNUM) for _ in range(n))


def now():
    return int(time.time())


def copy(obj):
    return json.loads(json.dumps(obj))


class ApiError(Exception):
    """A Stripe error response. `store=False`: a validation failure, kept out of idempotency."""

    def __init__(self, status, type_, message, code=None, param=None, store=True, **extra):
        super().__init__(message)
        self.status, self.store = status, store
        self.error = {"type": type_, "message": message, **({"code": code} if code else {}),
                      **({"param": param} if param else {}), **extra}

    def body(self):
        return {"error": self.error}


def invalid(message, param=None, code=None, status=400, store=False, **extra):
    return ApiError(status, "invalid_request_error", message, code=code, param=param, store=store, **extra)


def missing(kind, id_, param=None):
    return invalid(f"No such {kind}: '{id_}'", param=param, code="resource_missing", status=404, store=True)


def unexpected_state(pi, action):
    return invalid(f"You cannot {action} this PaymentIntent because it has a status of {pi['status']}.",
                   code="payment_intent_unexpected_state", store=True, payment_intent=copy(pi))


def decode_params(pairs):
    """Stripe's bracket form, one level deep: a=1, m[k]=v -> dict, l[]=x / l[0]=x -> list."""
    out = {}
    for key, value in pairs:
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\[\]]*)\])?", key)
        if not m:
            raise invalid(f"Received unknown parameter: {key}", param=key, code="parameter_unknown")
        name, sub = m.group(1), m.group(2)
        kind = str if sub is None else list if (sub == "" or sub.isdigit()) else dict
        if name in out and not isinstance(out[name], kind):
            raise invalid(f"Invalid value for {name}: mixed forms", param=name, code="parameter_invalid_string")
        if kind is str:
            out[name] = value
        elif kind is list:
            out.setdefault(name, []).append(value)
        else:
            out.setdefault(name, {})[sub] = value
    return out


def check_known(params, allowed):
    for name in params:
        if name not in allowed:
            raise invalid(f"Received unknown parameter: {name}", param=name, code="parameter_unknown")


def int_param(params, name, required=False):
    value = params.get(name)
    if value is None:
        if required:
            raise invalid(f"Missing required param: {name}.", param=name, code="parameter_missing")
        return None
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise invalid(f"Invalid integer: {value}", param=name, code="parameter_invalid_integer")
    number = int(value)
    if number < 1:
        raise invalid("This value must be greater than or equal to 1.", param=name, code="parameter_invalid_integer")
    if number > 99999999:
        raise invalid("Amount must be no more than 999,999.99", param=name, code="amount_too_large")
    return number


def bool_param(params, name):
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise invalid(f"Invalid boolean: {value}", param=name, code="parameter_invalid_boolean")
    return value == "true"


def metadata_param(params):
    meta = params.get("metadata", {})
    if not isinstance(meta, dict):
        raise invalid("Invalid object", param="metadata", code="parameter_invalid_string")
    for key, value in meta.items():
        if len(key) > 40 or len(value) > 500:
            raise invalid("Metadata keys are at most 40 and values at most 500 characters.", param=f"metadata[{key}]")
    if len(meta) > 50:
        raise invalid("Metadata has at most 50 keys.", param="metadata")
    return dict(meta)


def format_amount(amount, currency):
    digits = 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2
    return f"{amount / 10 ** digits:.{digits}f} {currency.upper()}"


class FakeStripe:
    """All state, under one lock (`self.lock`, a Condition the webhook sender waits on)."""

    def __init__(self, secret_keys, webhook_url, webhook_secret, state_file):
        self.secret_keys, self.webhook_secret, self.state_file = set(secret_keys), webhook_secret, state_file
        self.lock = threading.Condition()
        self.intents, self.charges, self.refunds, self.events, self.idem, self.versions = {}, {}, {}, {}, {}, {}
        self.calls, self.queue, self.seq = [], [], itertools.count()
        self.config = {"delay_ms": 0, "fail_next": 0, "fail_status": 500, "webhooks": True, "webhook_url": webhook_url,
                       "enabled_events": ["*"]}
        if state_file and os.path.exists(state_file):
            with open(state_file, encoding="utf-8") as f:
                saved = json.load(f)
            for name in ("intents", "charges", "refunds", "events", "idem", "versions"):
                getattr(self, name).update(saved.get(name, {}))
        # Stripe delivers events concurrently and in no promised order: so do several threads here.
        for n in range(WEBHOOK_THREADS):
            threading.Thread(target=self._deliver_loop, name=f"fake-stripe-webhooks-{n}", daemon=True).start()

    def save(self):  # caller holds the lock
        if not self.state_file:
            return
        data = {name: getattr(self, name) for name in ("intents", "charges", "refunds", "events", "versions")}
        data["idem"] = {k: v for k, v in self.idem.items() if not v.get("in_flight")}
        tmp = self.state_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, self.state_file)

    # --- events and webhooks -------------------------------------------------------------------

    def emit(self, ctx, type_, obj, pi_id):  # caller holds the lock; delivery starts after the response
        event = {"id": new_id("evt"), "object": "event", "api_version": self.versions.get(pi_id, DEFAULT_API_VERSION),
                 "created": now(), "data": {"object": copy(obj)}, "livemode": False,
                 "pending_webhooks": 1 if self.subscribed(type_) else 0,
                 "request": {"id": ctx.get("request_id"), "idempotency_key": ctx.get("idempotency_key")},
                 "type": type_}
        payload = json.dumps(event, indent=2, ensure_ascii=False)
        self.events[event["id"]] = {"event": event, "payload": payload, "attempts": [], "delivered": False}
        if self.subscribed(type_):
            ctx.setdefault("events", []).append(event["id"])

    def subscribed(self, type_):  # caller holds the lock
        """Whether the endpoint takes this event: a URL is set and the type is one of its
        `enabled_events` (`*` for all), as for Stripe's webhook endpoints."""
        enabled = self.config["enabled_events"]
        return bool(self.config["webhook_url"]) and ("*" in enabled or type_ in enabled)

    def schedule(self, event_ids):
        with self.lock:
            for evt_id in event_ids:
                heapq.heappush(self.queue, (time.time(), next(self.seq), evt_id, 1))
            self.lock.notify_all()

    def _deliver_loop(self):
        while True:
            with self.lock:
                while not (self.config["webhooks"] and self.queue and self.queue[0][0] <= time.time()):
                    wait = self.queue[0][0] - time.time() if self.config["webhooks"] and self.queue else None
                    self.lock.wait(None if wait is None else max(wait, 0.01))
                _, _, evt_id, attempt = heapq.heappop(self.queue)
                url, payload = self.config["webhook_url"], self.events[evt_id]["payload"]
            if not url:
                continue
            status, error, answer = self._post(url, payload.encode("utf-8"))
            with self.lock:
                record = self.events[evt_id]
                record["attempts"].append({"attempt": attempt, "at": time.time(), "url": url,
                                           "status": status, "error": error, "answer": answer})
                if status is not None and 200 <= status < 300:
                    record["delivered"] = True
                elif attempt <= len(BACKOFF):
                    heapq.heappush(self.queue, (time.time() + BACKOFF[attempt - 1], next(self.seq), evt_id, attempt + 1))
                self.save()

    def _post(self, url, body):
        t = now()
        signature = hmac.new(self.webhook_secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        parts = urllib.parse.urlsplit(url)
        conn_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        try:
            conn = conn_class(parts.hostname, parts.port, timeout=10)
            conn.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=body,
                         headers={"Content-Type": "application/json; charset=utf-8",
                                  "Stripe-Signature": f"t={t},v1={signature}",
                                  "User-Agent": "fake-stripe/1.0 (Innkeep tests; not Stripe)"})
            response = conn.getresponse()
            answer = response.read()[:500].decode("utf-8", "replace")
            conn.close()
            return response.status, None, answer
        except (OSError, http.client.HTTPException) as e:
            return None, repr(e), None

    # --- the API -------------------------------------------------------------------------------

    def create_intent(self, params, ctx):
        check_known(params, CREATE_PARAMS)
        amount = int_param(params, "amount", required=True)
        currency = params.get("currency")
        if currency is None:
            raise invalid("Missing required param: currency.", param="currency", code="parameter_missing")
        if not isinstance(currency, str) or not re.fullmatch(r"[a-z]{3}", currency):
            raise invalid(f"Invalid currency: {currency}", param="currency", code="parameter_invalid_string")
        if currency in THREE_DECIMAL and amount % 10:
            raise invalid(f"Amounts in {currency} must end in 0.", param="amount", code="parameter_invalid_integer")
        if currency == "isk" and amount % 100:
            raise invalid("Amounts in isk must be divisible by 100.", param="amount", code="parameter_invalid_integer")
        types = params.get("payment_method_types", ["card"])
        if not isinstance(types, list) or any(t != "card" for t in types):
            raise invalid("The fake supports only payment_method_types[]=card.", param="payment_method_types")
        auto = params.get("automatic_payment_methods")
        if auto is not None and (not isinstance(auto, dict) or set(auto) - {"enabled", "allow_redirects"}):
            raise invalid("Invalid automatic_payment_methods", param="automatic_payment_methods")
        if params.get("capture_method", "automatic") not in ("automatic", "automatic_async"):
            raise invalid("The fake supports only capture_method=automatic.", param="capture_method")
        confirm, pm = bool_param(params, "confirm"), params.get("payment_method")
        if confirm:
            self.check_confirmable(pm, params.get("return_url"), auto)
        pi = {"id": new_id("pi"), "object": "payment_intent", "amount": amount, "amount_received": 0,
              "automatic_payment_methods": {"enabled": auto.get("enabled") == "true"} if auto else None,
              "canceled_at": None, "cancellation_reason": None, "capture_method": "automatic",
              "client_secret": None, "confirmation_method": "automatic", "created": now(), "currency": currency,
              "description": params.get("description"), "last_payment_error": None, "latest_charge": None,
              "livemode": False, "metadata": metadata_param(params), "next_action": None, "payment_method": None,
              "payment_method_types": types, "receipt_email": params.get("receipt_email"), "status":
              "requires_payment_method"}
        pi["client_secret"] = pi["id"] + "_secret_" + "".join(secrets.choice(ALNUM) for _ in range(25))
        self.intents[pi["id"]] = pi
        self.versions[pi["id"]] = ctx.get("stripe_version") or DEFAULT_API_VERSION
        self.emit(ctx, "payment_intent.created", pi, pi["id"])
        if confirm:
            return self.confirm(pi, pm, ctx)
        return 200, pi

    def check_confirmable(self, pm, return_url, auto):
        if not pm:
            raise invalid("You cannot confirm this PaymentIntent because it's missing a payment method.",
                          param="payment_method", code="parameter_missing")
        if pm not in TEST_CARDS:
            raise invalid(f"No such PaymentMethod: '{pm}'", param="payment_method", code="resource_missing",
                          status=404)
        if auto and auto.get("enabled") == "true" and auto.get("allow_redirects") != "never" and not return_url:
            raise invalid("A return_url is required to confirm with automatic_payment_methods that may redirect.",
                          param="return_url", code="parameter_missing")

    def confirm(self, pi, pm, ctx):
        if pi["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            raise unexpected_state(pi, "confirm")
        outcome = TEST_CARDS[pm]
        charge = {"id": new_id("ch"), "object": "charge", "amount": pi["amount"], "amount_captured": 0,
                  "amount_refunded": 0, "captured": False, "created": now(), "currency": pi["currency"],
                  "failure_code": None, "failure_message": None, "livemode": False, "metadata": dict(pi["metadata"]),
                  "paid": False, "payment_intent": pi["id"], "payment_method": pm, "refunded": False,
                  "status": "failed"}
        self.charges[charge["id"]] = charge
        pi["latest_charge"] = charge["id"]
        if outcome is None:
            charge.update(amount_captured=pi["amount"], captured=True, paid=True, status="succeeded")
            pi.update(status="succeeded", amount_received=pi["amount"], payment_method=pm, last_payment_error=None)
            self.emit(ctx, "payment_intent.succeeded", pi, pi["id"])
            self.emit(ctx, "charge.succeeded", charge, pi["id"])
            return 200, pi
        code, decline_code, message = outcome
        charge.update(failure_code=code, failure_message=message)
        error = {"type": "card_error", "code": code, "decline_code": decline_code, "message": message,
                 "charge": charge["id"], "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"}
        pi.update(status="requires_payment_method", payment_method=None, last_payment_error=dict(error))
        self.emit(ctx, "payment_intent.payment_failed", pi, pi["id"])
        self.emit(ctx, "charge.failed", charge, pi["id"])
        return 402, {"error": {**error, "payment_intent": copy(pi)}}

    def intent_for(self, pi_id, params, ctx):
        pi = self.intents.get(pi_id)
        if pi is None:
            raise missing("payment_intent", pi_id)
        if ctx["key_kind"] != "secret":  # publishable key or none: the client secret stands in
            secret = params.get("client_secret")
            if secret is None:
                raise ApiError(401, "invalid_request_error", "You did not provide an API key.", store=False)
            if not hmac.compare_digest(str(secret).encode(), pi["client_secret"].encode()):
                raise invalid("The client_secret provided does not match the client_secret associated with the "
                              "PaymentIntent.", param="client_secret", code="payment_intent_invalid_parameter")
        return pi

    def confirm_intent(self, pi_id, params, ctx):
        check_known(params, CONFIRM_PARAMS)
        pi = self.intent_for(pi_id, params, ctx)
        if pi["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            raise unexpected_state(pi, "confirm")
        pm = params.get("payment_method") or pi["payment_method"]
        self.check_confirmable(pm, params.get("return_url"),
                               {"enabled": "true"} if (pi["automatic_payment_methods"] or {}).get("enabled") else None)
        return self.confirm(pi, pm, ctx)

    def cancel_intent(self, pi_id, params, ctx):
        check_known(params, CANCEL_PARAMS)
        pi = self.intent_for(pi_id, params, ctx)
        reason = params.get("cancellation_reason")
        if reason is not None and reason not in CANCEL_REASONS:
            raise invalid(f"Invalid cancellation_reason: must be one of {sorted(CANCEL_REASONS)}",
                          param="cancellation_reason", code="parameter_invalid_string")
        if pi["status"] in ("succeeded", "canceled"):
            raise unexpected_state(pi, "cancel")
        pi.update(status="canceled", canceled_at=now(), cancellation_reason=reason)
        self.emit(ctx, "payment_intent.canceled", pi, pi["id"])
        return 200, pi

    def create_refund(self, params, ctx):
        check_known(params, REFUND_PARAMS)
        amount = int_param(params, "amount")
        reason = params.get("reason")
        if reason is not None and reason not in REFUND_REASONS:
            raise invalid(f"Invalid reason: must be one of {sorted(REFUND_REASONS)}", param="reason",
                          code="parameter_invalid_string")
        meta = metadata_param(params)
        if params.get("payment_intent"):
            pi = self.intents.get(params["payment_intent"])
            if pi is None:
                raise missing("payment_intent", params["payment_intent"], param="payment_intent")
        elif params.get("charge"):
            charge = self.charges.get(params["charge"])
            if charge is None:
                raise missing("charge", params["charge"], param="charge")
            pi = self.intents[charge["payment_intent"]]
        else:
            raise invalid("One of the following params should be provided for this request: payment_intent or "
                          "charge.", param="payment_intent", code="parameter_missing")
        if pi["status"] != "succeeded":
            raise invalid(f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                          param="payment_intent", code="payment_intent_unexpected_state", store=True)
        charge = self.charges[pi["latest_charge"]]
        left = charge["amount_captured"] - charge["amount_refunded"]
        if left <= 0:
            raise invalid(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded",
                          store=True)
        if amount is None:
            amount = left
        if amount > left:
            raise invalid(f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                          param="amount", code="amount_too_large", store=True)
        refund = {"id": new_id("re"), "object": "refund", "amount": amount, "charge": charge["id"],
                  "created": now(), "currency": pi["currency"], "metadata": meta, "payment_intent": pi["id"],
                  "reason": reason, "status": "succeeded"}
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        self.emit(ctx, "refund.created", refund, pi["id"])
        self.emit(ctx, "charge.refunded", charge, pi["id"])
        return 200, refund

    def retrieve(self, kind, table, id_, params, ctx):
        check_known(params, {"expand", "client_secret"})
        if kind == "payment_intent":
            return 200, self.intent_for(id_, params, ctx)
        if ctx["key_kind"] != "secret":
            raise ApiError(401, "invalid_request_error", "You did not provide an API key.", store=False)
        if id_ not in table:
            raise missing(kind, id_)
        return 200, table[id_]

    def route(self, method, path):
        """(handler(params, ctx), whether a publishable key + client_secret may call it) or None."""
        routes = [
            ("POST", r"/v1/payment_intents", lambda p, c: self.create_intent(p, c), False),
            ("GET", r"/v1/payment_intents/(pi_\w+)", lambda p, c, i: self.retrieve("payment_intent", None, i, p, c), True),
            ("POST", r"/v1/payment_intents/(pi_\w+)/confirm", lambda p, c, i: self.confirm_intent(i, p, c), True),
            ("POST", r"/v1/payment_intents/(pi_\w+)/cancel", lambda p, c, i: self.cancel_intent(i, p, c), False),
            ("POST", r"/v1/refunds", lambda p, c: self.create_refund(p, c), False),
            ("GET", r"/v1/refunds/(re_\w+)", lambda p, c, i: self.retrieve("refund", self.refunds, i, p, c), False),
        ]
        for route_method, pattern, handler, public in routes:
            m = re.fullmatch(pattern, path)
            if m and route_method == method:
                return (lambda p, c: handler(p, c, *m.groups())), public
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's algorithm and the
    # client's delayed ACK hold each answer back by about 40 ms.
    disable_nagle_algorithm = True
    server_version = "fake-stripe/1.0"
    timeout = 120

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fake-stripe: " + (fmt % args) + "\n")

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            pass

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def send(self, status, body, headers=(), content_type="application/json"):
        """Write a response; False when the client has gone (the work is done and recorded anyway)."""
        if not isinstance(body, bytes):
            body = (body if isinstance(body, str) else json.dumps(body, indent=2)).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type + "; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            return True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True
            return False

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"x", 16) if line.strip() else None
                if size is None:
                    return None
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
                if len(chunks[-1]) < size:
                    return None
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            return None
        raw = self.rfile.read(int(length)) if int(length) else b""
        return raw if len(raw) == int(length) else None

    def dispatch(self):
        st = self.server.fake
        raw = self.read_body()
        if raw is None:  # the client left before sending its whole body, or sent nonsense: nothing to do
            self.close_connection = True
            return
        url = urllib.parse.urlsplit(self.path)
        try:
            text = raw.decode("utf-8")
            pairs = urllib.parse.parse_qsl(url.query, keep_blank_values=True) + \
                (urllib.parse.parse_qsl(text, keep_blank_values=True) if self.command == "POST" else [])
        except UnicodeDecodeError:
            return self.send(400, ApiError(400, "invalid_request_error", "Body is not UTF-8.").body())
        if url.path.startswith("/_fake/"):
            return self.control(st, url.path, pairs, text)
        ctx = {"events": []}
        call = {"method": self.command, "path": url.path, "idempotency_key": self.headers.get("Idempotency-Key"),
                "stripe_version": self.headers.get("Stripe-Version"), "params": {}, "status": None,
                "replayed": False, "response_sent": None, "at": time.time()}
        for key, value in pairs:  # flat, as sent; a repeated key becomes a list
            if key not in call["params"]:
                call["params"][key] = value
            elif isinstance(call["params"][key], list):
                call["params"][key].append(value)
            else:
                call["params"][key] = [call["params"][key], value]
        with st.lock:
            st.calls.append(call)
        try:
            status, body, headers = self.api(st, url.path, pairs, call, ctx)
        except Exception:  # a bug in the fake: say so the way Stripe would
            traceback.print_exc()
            status, body, headers = 500, json.dumps(ApiError(500, "api_error", "Fake internal error.").body()), []
        with st.lock:
            call["status"] = status
        sent = self.send(status, body, headers)
        with st.lock:
            call["response_sent"] = sent
        if ctx["events"]:
            st.schedule(ctx["events"])

    def api(self, st, path, pairs, call, ctx):
        request_id = new_id("req", 14)
        headers = [("Request-Id", request_id)]

        def error(e):
            return e.status, json.dumps(e.body(), indent=2), headers

        with st.lock:
            if st.config["fail_next"] > 0:
                st.config["fail_next"] -= 1
                return error(ApiError(st.config["fail_status"], "api_error",
                                      "An unknown error occurred (injected by the fake)."))
        auth, key = self.headers.get("Authorization", ""), None
        if auth.startswith("Bearer "):
            key = auth[7:].strip()
        elif auth.startswith("Basic "):
            try:
                key = base64.b64decode(auth[6:]).decode().split(":")[0]
            except Exception:
                key = ""
        kind = "secret" if key in st.secret_keys else "publishable" if key and key.startswith("pk_") else \
            None if not key else "invalid"
        if kind == "invalid":
            return error(ApiError(401, "invalid_request_error", f"Invalid API Key provided: {key[:8]}***"))
        route = st.route(self.command, path)
        if route is None:
            return error(invalid(f"Unrecognized request URL ({self.command}: {path}).", status=404))
        handler, public = route
        if kind != "secret" and not public:
            return error(ApiError(401, "invalid_request_error", "You did not provide an API key. You need to provide "
                                  "your API key in the Authorization header, using Bearer auth."))
        version = call["stripe_version"]  # "2024-06-20", "2024-09-30.acacia", "...; some_beta=v1"
        if version is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}(\.[a-z]+)?(;.*)?", version):
            return error(invalid(f"Invalid Stripe API version: {version}", code="api_version_invalid"))
        headers.append(("Stripe-Version", version or DEFAULT_API_VERSION))
        try:
            params = decode_params(pairs)
        except ApiError as e:
            return error(e)
        idem_key = call["idempotency_key"] if self.command == "POST" else None
        ctx.update(request_id=request_id, idempotency_key=idem_key, key_kind=kind,
                   stripe_version=version.split(";")[0].strip() if version else None)
        slot, fingerprint = f"{key or ''}\n{idem_key}", json.dumps([path, params], sort_keys=True)
        replay = None
        if idem_key is not None:
            if len(idem_key) > 255:
                return error(invalid("Idempotency-Key is at most 255 characters.", code="idempotency_key_too_long"))
            with st.lock:
                record = st.idem.get(slot)
                if record is None:
                    st.idem[slot] = {"in_flight": True}
                elif record.get("in_flight"):
                    return error(ApiError(409, "idempotency_error", "There is currently another in-progress request "
                                          "using this Idempotent Key (that probably means you submitted twice, and "
                                          "the other request is still going through): " + idem_key + ". Please try "
                                          "again later.", code="idempotency_key_in_use"))
                elif record["fingerprint"] != fingerprint:
                    return error(ApiError(400, "idempotency_error", "Keys for idempotent requests can only be used "
                                          "with the same parameters they were first used with. Try using a key other "
                                          "than '" + idem_key + "' if you meant to execute a different request."))
                else:
                    replay = record
        with st.lock:
            delay = st.config["delay_ms"] / 1000
        if delay:
            time.sleep(delay)
        if replay is not None:
            with st.lock:
                call["replayed"] = True
            return replay["status"], replay["body"], replay["headers"] + [["Idempotent-Replayed", "true"]]
        with st.lock:
            try:
                status, obj = handler(params, ctx)
                store, body = True, json.dumps(obj, indent=2)
            except ApiError as e:
                status, body, store = e.status, json.dumps(e.body(), indent=2), e.store
            except Exception:
                store = False
                raise
            finally:
                if idem_key is not None:
                    if store:
                        st.idem[slot] = {"fingerprint": fingerprint, "status": status, "body": body,
                                         "headers": headers}
                    else:
                        del st.idem[slot]
                st.save()
        return status, body, headers

    # --- control endpoints (not Stripe) ---------------------------------------------------------

    def control(self, st, path, pairs, text):
        """Answers are worked out under the lock and written after it is released."""
        listing = {"/_fake/calls": "calls", "/_fake/intents": "intents", "/_fake/refunds": "refunds",
                   "/_fake/charges": "charges"}
        answer = None
        with st.lock:
            if self.command == "GET" and path in listing:
                data = getattr(st, listing[path])
                answer = 200, json.dumps(data if isinstance(data, list) else list(data.values()), indent=2)
            elif self.command == "GET" and path == "/_fake/events":
                answer = 200, json.dumps([{**r["event"], "delivery_attempts": r["attempts"],
                                           "delivered": r["delivered"]} for r in st.events.values()], indent=2)
            elif path == "/_fake/config" and self.command in ("GET", "POST"):
                answer = self.configure(st, text) if self.command == "POST" else (200, json.dumps(st.config))
        if answer:
            return self.send(*answer)
        m = re.fullmatch(r"/_fake/events/(evt_\w+)/resend", path)
        if self.command == "POST" and m:
            with st.lock:
                known = m.group(1) in st.events and st.config["webhook_url"]
            if not known:
                return self.send(404, {"error": "unknown event or no webhook_url"})
            st.schedule([m.group(1)])
            return self.send(200, {"resent": m.group(1)})
        m = re.fullmatch(r"/_fake/checkout/(pi_\w+)", path)
        if m and self.command in ("GET", "POST"):
            return self.checkout(st, m.group(1), dict(pairs))
        return self.send(404, {"error": f"no fake control endpoint {self.command} {path}"})

    @staticmethod
    def configure(st, text):  # caller holds the lock
        kinds = {"delay_ms": int, "fail_next": int, "fail_status": int, "webhooks": bool, "webhook_url": str,
                 "enabled_events": list}
        try:
            update = json.loads(text or "{}")
            for name, value in update.items():
                if name not in kinds or not (isinstance(value, kinds[name]) or (name == "webhook_url" and value is None))\
                        or (kinds[name] is int and isinstance(value, bool))\
                        or (kinds[name] is list and not (value and all(isinstance(v, str) for v in value))):
                    raise ValueError(f"bad config field {name!r}: {value!r}")
        except ValueError as e:
            return 400, json.dumps({"error": str(e)})
        for name, value in update.items():
            st.config[name] = (value or None) if name == "webhook_url" else value
        st.lock.notify_all()
        return 200, json.dumps(st.config)

    @staticmethod
    def page(status, body_html, headers=()):
        doc = (f"<!doctype html><html lang=en><head><meta charset=utf-8><link rel=icon href='data:,'><title>{html.escape(CHECKOUT_TITLE)}</title>"
               "</head><body><p><strong>FAKE card provider for Innkeep's tests. Not Stripe; no money moves.</strong>"
               f"</p>{body_html}</body></html>")
        return status, doc, headers, "text/html"

    def checkout(self, st, pi_id, form):
        """Stands in for Stripe.js card entry: a browser test picks a test card and pays."""
        ctx = {"events": [], "request_id": None, "idempotency_key": None, "key_kind": "publishable"}
        with st.lock:
            call = None
            if self.command == "POST":
                call = {"method": "POST", "path": self.path, "idempotency_key": None, "stripe_version": None,
                        "params": form, "status": None, "replayed": False, "response_sent": None, "at": time.time()}
                st.calls.append(call)
            status, doc, headers, ctype = self.checkout_answer(st, pi_id, form, ctx)
            if call:
                call["status"] = status
        sent = self.send(status, doc, headers, ctype)
        if call:
            with st.lock:
                call["response_sent"] = sent
        if ctx["events"]:
            st.schedule(ctx["events"])

    def checkout_answer(self, st, pi_id, form, ctx):  # caller holds the lock
        esc, return_url = html.escape, form.get("return_url", "")
        pi = st.intents.get(pi_id)
        if pi is None:
            return self.page(404, "<h1>Unknown payment</h1>")
        if not hmac.compare_digest(form.get("client_secret", "").encode(), pi["client_secret"].encode()):
            return self.page(400, "<h1>Wrong client secret</h1>")
        if return_url and urllib.parse.urlsplit(return_url).scheme not in ("http", "https"):
            return self.page(400, "<h1>return_url must be an http(s) URL</h1>")
        if self.command == "GET":
            if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
                return self.page(200, f"<h1>This payment is {esc(pi['status'])}</h1>")
            hidden = "".join(f'<input type=hidden name="{n}" value="{esc(form.get(n, ""))}">'
                             for n in ("client_secret", "return_url"))
            return self.page(200, (
                f"<h1>{esc(CHECKOUT_TITLE)}</h1><p>{esc(pi.get('description') or '')}</p>"
                f'<form method=post action="/_fake/checkout/{esc(pi_id)}">{hidden}'
                '<label><input type=radio name=payment_method value=pm_card_visa checked> Visa 4242 (succeeds)</label>'
                '<br><label><input type=radio name=payment_method value=pm_card_chargeDeclined> Declined card</label>'
                f'<br><button type=submit>Pay {esc(format_amount(pi["amount"], pi["currency"]))}</button></form>'))
        pm = form.get("payment_method", "")
        try:
            if pm not in TEST_CARDS:
                raise invalid(f"No such PaymentMethod: '{pm}'")
            st.confirm(pi, pm, ctx)
        except ApiError as e:
            if pi["status"] != "succeeded":  # a second submit of a paid page just goes back
                return self.page(400, f"<h1>{esc(e.error['message'])}</h1>")
        st.save()
        redirect = "succeeded" if pi["status"] == "succeeded" else "failed"
        if not return_url:
            return self.page(200, f"<h1>Payment {redirect}</h1>")
        parts = urllib.parse.urlsplit(return_url)
        extra = urllib.parse.urlencode({"payment_intent": pi_id, "payment_intent_client_secret": pi["client_secret"],
                                        "redirect_status": redirect})
        location = parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra).geturl()
        return self.page(303, f'<a href="{esc(location)}">Continue</a>', [("Location", location)])

def main():
    parser = argparse.ArgumentParser(description="FAKE Stripe PaymentIntents/Refunds API for Innkeep's tests.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret-key", action="append", required=True, help="accepted secret key (repeatable)")
    parser.add_argument("--webhook-url")
    parser.add_argument("--webhook-secret", default="whsec_fake")
    parser.add_argument("--state-file")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.fake = FakeStripe(args.secret_key, args.webhook_url, args.webhook_secret, args.state_file)
    server.verbose = args.verbose
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
