#!/usr/bin/env python3
"""Self test of the FAKE Stripe (fake_stripe.py), standard library only.

Starts the fake on port 0 in a subprocess, with a small webhook receiver in this process that
checks every delivery's Stripe-Signature, and exercises each behaviour. Exit status 1 on failure.
"""

import hashlib
import hmac
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
SK, SK2, WHSEC = "sk_test_x", "sk_test_other", "whsec_x"
WEBHOOK_PATH = "/api/v1/payments/webhooks/stripe"


class Receiver(BaseHTTPRequestHandler):
    """Stands in for Innkeep's webhook endpoint: records events, fails on request."""

    received, fail_next, lock = [], 0, threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        header = self.headers.get("Stripe-Signature", "")
        fields = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        expected = hmac.new(WHSEC.encode(), f"{fields.get('t')}.".encode() + raw, hashlib.sha256).hexdigest()
        ok = (hmac.compare_digest(expected, fields.get("v1", "")) and abs(int(fields["t"]) - time.time()) < 300
              and self.path == WEBHOOK_PATH and self.headers["Content-Type"].startswith("application/json"))
        with Receiver.lock:
            fail = Receiver.fail_next > 0
            Receiver.fail_next -= fail
            if not fail:
                Receiver.received.append({"event": json.loads(raw), "signature_ok": ok})
        status = 500 if fail else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def start_fake(*extra):
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_stripe.py"), "--port", "0",
                             "--secret-key", SK, "--secret-key", SK2, "--webhook-secret", WHSEC, *extra],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    assert line.startswith("listening on 127.0.0.1:"), line
    return proc, int(line.rsplit(":", 1)[1])


def form(params):
    """Encoded as Innkeep's adapter does: brackets literal, values percent-encoded."""
    return "&".join(f"{k}={urllib.parse.quote_plus(str(v))}" for k, v in params)


PORT = None


def call(method, path, params=(), key=SK, headers=None, raw=None):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    hdrs = dict(headers or {})
    if key is not None:
        hdrs["Authorization"] = f"Bearer {key}"
    body = raw if raw is not None else form(params) if method == "POST" else None
    if method == "POST":
        hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif params:
        path += "?" + form(params)
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    ctype = resp.getheader("Content-Type", "")
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(data) if "json" in ctype else data


def control(method, path, body=None):
    status, _, data = call(method, path, key=None, raw=json.dumps(body) if body is not None else None)
    assert status == 200, (path, status, data)
    return data


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def events_of(pi_id, type_=None):
    with Receiver.lock:
        return [r for r in Receiver.received
                if pi_id in (r["event"]["data"]["object"].get("id"), r["event"]["data"]["object"].get("payment_intent"))
                and (type_ is None or r["event"]["type"] == type_)]


def new_intent(amount=1000, extra=(), **kw):
    params = [("amount", amount), ("currency", "eur"), ("metadata[payment_id]", "p1"),
              ("metadata[booking_id]", "b1"), ("payment_method_types[]", "card"), *extra]
    status, headers, pi = call("POST", "/v1/payment_intents", params, **kw)
    assert status == 200, (status, pi)
    return pi


def test_auth_and_unknown_paths():
    assert call("POST", "/v1/payment_intents", [("amount", 1)], key=None)[0] == 401
    status, _, body = call("GET", "/v1/payment_intents/pi_x", key="sk_test_wrong")
    assert status == 401 and body["error"]["type"] == "invalid_request_error", body
    status, _, body = call("GET", "/v1/nothing")
    assert status == 404 and body["error"]["type"] == "invalid_request_error", body
    status, _, body = call("GET", "/v1/payment_intents/pi_unknown")
    assert status == 404 and body["error"]["code"] == "resource_missing", body
    assert call("GET", "/_fake/nothing", key=None)[0] == 404


def test_create_validation():
    cases = [([("currency", "eur")], "amount", "parameter_missing"),
             ([("amount", "ten"), ("currency", "eur")], "amount", "parameter_invalid_integer"),
             ([("amount", "0"), ("currency", "eur")], "amount", "parameter_invalid_integer"),
             ([("amount", "100")], "currency", "parameter_missing"),
             ([("amount", "100"), ("currency", "EUR")], "currency", None),
             ([("amount", "125"), ("currency", "kwd")], "amount", None),
             ([("amount", "100"), ("currency", "eur"), ("colour", "red")], "colour", "parameter_unknown"),
             ([("amount", "100"), ("currency", "eur"), ("confirm", "true")], "payment_method", "parameter_missing")]
    before = len(control("GET", "/_fake/intents"))
    for params, param, code in cases:
        status, _, body = call("POST", "/v1/payment_intents", params, headers={"Idempotency-Key": "v-" + param})
        assert status == 400 and body["error"]["param"] == param, (params, status, body)
        assert body["error"]["type"] == "invalid_request_error" and (code is None or body["error"]["code"] == code)
    assert len(control("GET", "/_fake/intents")) == before
    # a validation failure stores no idempotent result: the same key then works
    status, _, _ = call("POST", "/v1/payment_intents", [("amount", 100), ("currency", "eur")],
                        headers={"Idempotency-Key": "v-amount"})
    assert status == 200


def test_create_and_retrieve():
    pi = new_intent(1234, extra=[("description", "Room 7 <b>")], headers={"Stripe-Version": "2024-06-20"})
    assert pi["id"].startswith("pi_") and len(pi["id"]) == 27 and pi["id"][3:].isalnum(), pi["id"]
    assert pi["object"] == "payment_intent" and pi["status"] == "requires_payment_method"
    assert (pi["amount"], pi["amount_received"], pi["currency"]) == (1234, 0, "eur")
    assert pi["client_secret"].startswith(pi["id"] + "_secret_")
    assert pi["metadata"] == {"payment_id": "p1", "booking_id": "b1"} and pi["payment_method_types"] == ["card"]
    assert pi["livemode"] is False and pi["latest_charge"] is None and pi["last_payment_error"] is None
    assert pi["next_action"] is None and isinstance(pi["created"], int) and pi["description"] == "Room 7 <b>"
    status, _, got = call("GET", f"/v1/payment_intents/{pi['id']}")
    assert status == 200 and got == pi
    # indexed list form and percent-encoded brackets are the same thing
    status, _, pi2 = call("POST", "/v1/payment_intents", raw="amount=5&currency=usd&payment_method_types%5B0%5D=card"
                          "&metadata%5Bk%5D=a+b%26c")
    assert status == 200 and pi2["payment_method_types"] == ["card"] and pi2["metadata"] == {"k": "a b&c"}, pi2
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)  # a chunked body
    conn.request("POST", "/v1/payment_intents", body=iter([b"amount=6&", b"currency=usd"]), encode_chunked=True,
                 headers={"Authorization": f"Bearer {SK}", "Transfer-Encoding": "chunked",
                          "Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["amount"] == 6
    conn.close()
    status, _, body = call("GET", f"/v1/payment_intents/{pi['id']}", headers={"Stripe-Version": "latest"})
    assert status == 400 and body["error"]["type"] == "invalid_request_error", body
    calls = control("GET", "/_fake/calls")
    mine = [c for c in calls if c["params"].get("amount") == "1234"][0]
    assert mine["stripe_version"] == "2024-06-20" and mine["status"] == 200 and mine["replayed"] is False
    assert mine["params"]["metadata[payment_id]"] == "p1" and mine["method"] == "POST"
    wait_for(lambda: events_of(pi["id"], "payment_intent.created"), what="payment_intent.created")


def test_idempotency():
    params = [("amount", 700), ("currency", "eur"), ("metadata[payment_id]", "idem")]
    s1, h1, b1 = call("POST", "/v1/payment_intents", params, headers={"Idempotency-Key": "k1"})
    n = len(control("GET", "/_fake/intents"))
    s2, h2, b2 = call("POST", "/v1/payment_intents", params, headers={"Idempotency-Key": "k1"})
    assert (s1, s2) == (200, 200) and b1 == b2 and h2.get("idempotent-replayed") == "true", h2
    assert "idempotent-replayed" not in h1 and len(control("GET", "/_fake/intents")) == n
    assert control("GET", "/_fake/calls")[-1]["replayed"] is True
    s3, _, b3 = call("POST", "/v1/payment_intents", params[:2] + [("amount", 701)], headers={"Idempotency-Key": "k1"})
    assert s3 == 400 and b3["error"]["type"] == "idempotency_error", b3
    s4, _, b4 = call("POST", "/v1/payment_intents", params, headers={"Idempotency-Key": "k1"}, key=SK2)
    assert s4 == 200 and b4["id"] != b1["id"], "keys are scoped per secret key"
    # errors from a running endpoint are replayed too (a decline)
    p = [("amount", 300), ("currency", "eur"), ("confirm", "true"), ("payment_method", "pm_card_chargeDeclined")]
    s5, _, b5 = call("POST", "/v1/payment_intents", p, headers={"Idempotency-Key": "k-decl"})
    s6, h6, b6 = call("POST", "/v1/payment_intents", p, headers={"Idempotency-Key": "k-decl"})
    assert (s5, s6) == (402, 402) and b5 == b6 and h6.get("idempotent-replayed") == "true"


def test_in_flight_key_and_slow_provider():
    control("POST", "/_fake/config", {"delay_ms": 800})
    result = {}
    t = threading.Thread(target=lambda: result.update(
        first=call("POST", "/v1/payment_intents", [("amount", 900), ("currency", "eur")],
                   headers={"Idempotency-Key": "k-slow"})))
    t.start()
    time.sleep(0.3)
    inflight = [c for c in control("GET", "/_fake/calls") if c["idempotency_key"] == "k-slow"]
    assert len(inflight) == 1 and inflight[0]["status"] is None, inflight
    control("POST", "/_fake/config", {"delay_ms": 0})
    status, _, body = call("POST", "/v1/payment_intents", [("amount", 900), ("currency", "eur")],
                           headers={"Idempotency-Key": "k-slow"})
    assert status == 409 and body["error"]["type"] == "idempotency_error", body
    assert body["error"]["code"] == "idempotency_key_in_use"
    t.join()
    assert result["first"][0] == 200
    assert [c["status"] for c in control("GET", "/_fake/calls") if c["idempotency_key"] == "k-slow"] == [200, 409]


def test_concurrent_same_key():
    n = len(control("GET", "/_fake/intents"))
    results = []

    def go():
        results.append(call("POST", "/v1/payment_intents", [("amount", 50), ("currency", "eur")],
                            headers={"Idempotency-Key": "k-race"}))
    threads = [threading.Thread(target=go) for _ in range(12)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(control("GET", "/_fake/intents")) == n + 1
    ids = {r[2]["id"] for r in results if r[0] == 200}
    assert len(ids) == 1 and all(r[0] in (200, 409) for r in results), [r[0] for r in results]


def test_confirm_success_and_webhooks():
    pi = new_intent(2500)
    status, _, got = call("POST", f"/v1/payment_intents/{pi['id']}/confirm", [("payment_method", "pm_card_visa")])
    assert status == 200 and got["status"] == "succeeded" and got["amount_received"] == 2500, got
    assert got["latest_charge"].startswith("ch_")
    succeeded = wait_for(lambda: events_of(pi["id"], "payment_intent.succeeded"), what="succeeded webhook")
    wait_for(lambda: events_of(pi["id"], "charge.succeeded"), what="charge.succeeded")
    ev = succeeded[0]["event"]
    assert succeeded[0]["signature_ok"] and ev["id"].startswith("evt_") and ev["object"] == "event"
    assert ev["livemode"] is False and ev["api_version"] == "2024-06-20" and ev["pending_webhooks"] == 1
    assert ev["data"]["object"]["status"] == "succeeded" and ev["data"]["object"]["amount_received"] == 2500
    assert set(ev["request"]) == {"id", "idempotency_key"}
    status, _, body = call("POST", f"/v1/payment_intents/{pi['id']}/confirm", [("payment_method", "pm_card_visa")])
    assert status == 400 and body["error"]["code"] == "payment_intent_unexpected_state", body
    status, _, body = call("POST", f"/v1/payment_intents/{pi['id']}/cancel")
    assert status == 400 and body["error"]["code"] == "payment_intent_unexpected_state", body
    # create with confirm=true; the events carry the API version the intent was made with
    pi2 = new_intent(3000, extra=[("confirm", "true"), ("payment_method", "pm_card_visa")],
                     headers={"Stripe-Version": "2023-10-16"})
    assert pi2["status"] == "succeeded" and pi2["amount_received"] == 3000
    e2 = wait_for(lambda: events_of(pi2["id"], "payment_intent.succeeded"), what="webhook for confirm=true")
    assert e2[0]["event"]["api_version"] == "2023-10-16"


def test_decline():
    pi = new_intent(4000)
    status, _, body = call("POST", f"/v1/payment_intents/{pi['id']}/confirm",
                           [("payment_method", "pm_card_chargeDeclined")])
    assert status == 402, (status, body)
    err = body["error"]
    assert (err["type"], err["code"], err["decline_code"]) == ("card_error", "card_declined", "generic_decline")
    assert err["message"] == "Your card was declined." and err["payment_intent"]["id"] == pi["id"]
    _, _, got = call("GET", f"/v1/payment_intents/{pi['id']}")
    assert got["status"] == "requires_payment_method" and got["amount_received"] == 0
    lpe = got["last_payment_error"]
    assert (lpe["type"], lpe["code"], lpe["decline_code"]) == ("card_error", "card_declined", "generic_decline")
    failed = wait_for(lambda: events_of(pi["id"], "payment_intent.payment_failed"), what="payment_failed webhook")
    assert failed[0]["signature_ok"] and failed[0]["event"]["data"]["object"]["last_payment_error"]["code"]
    assert not events_of(pi["id"], "payment_intent.succeeded")
    # a declined intent can be paid with another card
    status, _, got = call("POST", f"/v1/payment_intents/{pi['id']}/confirm", [("payment_method", "pm_card_visa")])
    assert status == 200 and got["status"] == "succeeded" and got["last_payment_error"] is None
    status, _, body = call("POST", f"/v1/payment_intents/{new_intent()['id']}/confirm",
                           [("payment_method", "pm_nonsense")])
    assert status == 404 and body["error"]["param"] == "payment_method"


def test_client_secret_confirm():
    pi = new_intent(1500)
    path = f"/v1/payment_intents/{pi['id']}/confirm"
    assert call("POST", path, [("payment_method", "pm_card_visa")], key="pk_test_x")[0] == 401
    status, _, body = call("POST", path, [("payment_method", "pm_card_visa"), ("client_secret", "wrong")], key=None)
    assert status == 400 and body["error"]["param"] == "client_secret", body
    status, _, body = call("POST", path, [("payment_method", "pm_card_visa"), ("client_secret", "é")], key=None)
    assert status == 400 and body["error"]["param"] == "client_secret", body
    status, _, got = call("GET", f"/v1/payment_intents/{pi['id']}", [("client_secret", pi["client_secret"])],
                          key="pk_test_x")
    assert status == 200 and got["id"] == pi["id"]
    assert call("POST", f"/v1/payment_intents/{pi['id']}/cancel", key="pk_test_x")[0] == 401
    status, _, got = call("POST", path, [("payment_method", "pm_card_visa"), ("client_secret", pi["client_secret"])],
                          key="pk_test_x")
    assert status == 200 and got["status"] == "succeeded"
    pi2 = new_intent(1600)
    status, _, got = call("POST", f"/v1/payment_intents/{pi2['id']}/confirm",
                          [("payment_method", "pm_card_visa"), ("client_secret", pi2["client_secret"])], key=None)
    assert status == 200 and got["status"] == "succeeded"


def test_cancel():
    pi = new_intent(800)
    status, _, got = call("POST", f"/v1/payment_intents/{pi['id']}/cancel", [("cancellation_reason", "abandoned")])
    assert status == 200 and got["status"] == "canceled" and got["cancellation_reason"] == "abandoned"
    ev = wait_for(lambda: events_of(pi["id"], "payment_intent.canceled"), what="canceled webhook")
    assert ev[0]["signature_ok"]
    status, _, body = call("POST", f"/v1/payment_intents/{pi['id']}/confirm", [("payment_method", "pm_card_visa")])
    assert status == 400 and body["error"]["code"] == "payment_intent_unexpected_state"


def test_refunds():
    pi = new_intent(1000)
    status, _, body = call("POST", "/v1/refunds", [("payment_intent", pi["id"])])
    assert status == 400, "refunding an unpaid intent"
    assert call("POST", "/v1/refunds", [("payment_intent", "pi_nope")])[0] == 404
    assert call("POST", "/v1/refunds", [])[2]["error"]["param"] == "payment_intent"
    call("POST", f"/v1/payment_intents/{pi['id']}/confirm", [("payment_method", "pm_card_visa")])
    status, _, r1 = call("POST", "/v1/refunds", [("payment_intent", pi["id"]), ("amount", 300),
                                                 ("reason", "requested_by_customer"), ("metadata[why]", "late")])
    assert status == 200 and r1["id"].startswith("re_") and r1["object"] == "refund", r1
    assert (r1["amount"], r1["currency"], r1["status"], r1["payment_intent"]) == (300, "eur", "succeeded", pi["id"])
    assert r1["metadata"] == {"why": "late"} and r1["charge"].startswith("ch_")
    status, _, body = call("POST", "/v1/refunds", [("payment_intent", pi["id"]), ("amount", 800)])
    assert status == 400 and body["error"]["code"] == "amount_too_large", body
    status, _, r2 = call("POST", "/v1/refunds", [("payment_intent", pi["id"])])
    assert status == 200 and r2["amount"] == 700
    status, _, body = call("POST", "/v1/refunds", [("payment_intent", pi["id"]), ("amount", 1)])
    assert status == 400 and body["error"]["code"] == "charge_already_refunded", body
    status, _, got = call("GET", f"/v1/refunds/{r1['id']}")
    assert status == 200 and got == r1
    assert call("GET", "/v1/refunds/re_missing")[2]["error"]["code"] == "resource_missing"
    refunded = wait_for(lambda: len(events_of(pi["id"], "charge.refunded")) == 2 and events_of(pi["id"]),
                        what="refund webhooks")
    types = [r["event"]["type"] for r in refunded if r["event"]["type"] in ("refund.created", "charge.refunded")]
    # Delivered by several threads in no promised order (as Stripe): compare as a multiset.
    assert sorted(types) == sorted(["refund.created", "charge.refunded"] * 2), types
    charges = [r["event"]["data"]["object"] for r in refunded if r["event"]["type"] == "charge.refunded"]
    assert [(c["amount_refunded"], c["refunded"], c["payment_intent"]) for c in charges] == \
        [(300, False, pi["id"]), (1000, True, pi["id"])], charges
    assert len(control("GET", "/_fake/refunds")) >= 2


def test_fail_next():
    for bad in ({"fail_next": True}, {"delay_ms": "5"}, {"colour": 1}):
        assert call("POST", "/_fake/config", key=None, raw=json.dumps(bad))[0] == 400, bad
    n = len(control("GET", "/_fake/intents"))
    control("POST", "/_fake/config", {"fail_next": 2, "fail_status": 503})
    p = [("amount", 100), ("currency", "eur")]
    for _ in range(2):
        status, _, body = call("POST", "/v1/payment_intents", p, headers={"Idempotency-Key": "k-fail"})
        assert status == 503 and body["error"]["type"] == "api_error", body
    assert len(control("GET", "/_fake/intents")) == n
    status, headers, _ = call("POST", "/v1/payment_intents", p, headers={"Idempotency-Key": "k-fail"})
    assert status == 200 and "idempotent-replayed" not in headers
    control("POST", "/_fake/config", {"fail_next": 1})
    assert call("GET", "/v1/payment_intents/pi_x")[0] == 503  # fail_status stays until changed
    control("POST", "/_fake/config", {"fail_next": 1, "fail_status": 500})
    assert call("POST", "/v1/refunds", [("payment_intent", "pi_x")])[0] == 500


def test_webhook_retries_hold_and_resend():
    wait_for(lambda: all(e["delivered"] for e in control("GET", "/_fake/events")), what="earlier deliveries")
    Receiver.fail_next = 2
    pi = new_intent(100)  # one event: payment_intent.created
    wait_for(lambda: events_of(pi["id"], "payment_intent.created"), what="delivery after retries")
    ev = [e for e in control("GET", "/_fake/events") if e["data"]["object"].get("id") == pi["id"]
          and e["type"] == "payment_intent.created"][0]
    assert [a["status"] for a in ev["delivery_attempts"]] == [500, 500, 200] and ev["delivered"], ev
    # unreachable receiver: attempts recorded with no status
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    dead.close()
    url = control("GET", "/_fake/config")["webhook_url"]
    control("POST", "/_fake/config", {"webhook_url": f"http://127.0.0.1:{dead_port}/x"})
    pi_dead = new_intent(101)
    wait_for(lambda: [e for e in control("GET", "/_fake/events") if e["data"]["object"].get("id") == pi_dead["id"]
                      and len(e["delivery_attempts"]) >= 2], what="retries to an unreachable receiver")
    control("POST", "/_fake/config", {"webhook_url": url})
    wait_for(lambda: events_of(pi_dead["id"]), what="delivery once the receiver is back")
    # held deliveries
    control("POST", "/_fake/config", {"webhooks": False})
    pi2 = new_intent(200, extra=[("confirm", "true"), ("payment_method", "pm_card_visa")])
    time.sleep(0.6)
    assert not events_of(pi2["id"]), "delivered while held"
    control("POST", "/_fake/config", {"webhooks": True})
    got = wait_for(lambda: events_of(pi2["id"], "payment_intent.succeeded"), what="held delivery")
    evt_id = got[0]["event"]["id"]
    assert control("POST", f"/_fake/events/{evt_id}/resend", {})["resent"] == evt_id
    wait_for(lambda: len([r for r in events_of(pi2["id"]) if r["event"]["id"] == evt_id]) == 2, what="resend")
    assert all(r["signature_ok"] for r in Receiver.received)


def test_enabled_events():
    for bad in ({"enabled_events": []}, {"enabled_events": "payment_intent.succeeded"}, {"enabled_events": [1]}):
        assert call("POST", "/_fake/config", key=None, raw=json.dumps(bad))[0] == 400, bad
    control("POST", "/_fake/config", {"enabled_events": ["payment_intent.succeeded"]})
    try:
        pi = new_intent(700, extra=[("confirm", "true"), ("payment_method", "pm_card_visa")])
        wait_for(lambda: events_of(pi["id"], "payment_intent.succeeded"), what="the subscribed event")
        time.sleep(0.3)
        assert [r["event"]["type"] for r in events_of(pi["id"])] == ["payment_intent.succeeded"], events_of(pi["id"])
        recorded = [e for e in control("GET", "/_fake/events") if e["data"]["object"].get("id") == pi["id"]
                    and e["type"] == "payment_intent.created"]
        assert recorded and recorded[0]["pending_webhooks"] == 0 and not recorded[0]["delivery_attempts"], recorded
    finally:
        control("POST", "/_fake/config", {"enabled_events": ["*"]})


def test_client_disconnects_mid_request():
    control("POST", "/_fake/config", {"delay_ms": 500})
    n = len(control("GET", "/_fake/intents"))
    body = "amount=4321&currency=eur"
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall((f"POST /v1/payment_intents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {SK}\r\n"
               f"Idempotency-Key: k-gone\r\nContent-Type: application/x-www-form-urlencoded\r\n"
               f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
    time.sleep(0.1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close
    s.close()
    wait_for(lambda: len(control("GET", "/_fake/intents")) == n + 1, what="work done after the client left")
    control("POST", "/_fake/config", {"delay_ms": 0})
    gone = wait_for(lambda: [c for c in control("GET", "/_fake/calls") if c["idempotency_key"] == "k-gone"
                             and c["response_sent"] is not None], what="call recorded")
    assert gone[0]["status"] == 200 and gone[0]["response_sent"] is False, gone
    status, headers, pi = call("POST", "/v1/payment_intents", raw=body, headers={"Idempotency-Key": "k-gone"})
    assert status == 200 and headers.get("idempotent-replayed") == "true" and pi["amount"] == 4321


def test_checkout_page():
    pi = new_intent(12050)
    bad = 'http://127.0.0.1:1/back?x=1&q="><script>alert(1)</script>'
    qs = urllib.parse.urlencode({"client_secret": pi["client_secret"], "return_url": bad})
    status, headers, page = call("GET", f"/_fake/checkout/{pi['id']}?{qs}", key=None)
    page = page.decode()
    assert status == 200 and "text/html" in headers["content-type"]
    assert "<title>Fake card provider — test only</title>" in page and "Pay 120.50 EUR" in page, page
    assert "pm_card_visa" in page and "pm_card_chargeDeclined" in page and "<script>" not in page
    assert call("GET", f"/_fake/checkout/{pi['id']}?client_secret=nope", key=None)[0] == 400
    path = f"/_fake/checkout/{pi['id']}"
    f = {"client_secret": "nope", "payment_method": "pm_card_visa", "return_url": "http://127.0.0.1:1/back"}
    assert call("POST", path, raw=urllib.parse.urlencode(f), key=None)[0] == 400
    f["client_secret"] = pi["client_secret"]
    status, headers, _ = call("POST", path, raw=urllib.parse.urlencode({**f, "payment_method": "pm_card_chargeDeclined"}),
                              key=None)
    loc = urllib.parse.urlsplit(headers["location"])
    assert status == 303 and urllib.parse.parse_qs(loc.query)["redirect_status"] == ["failed"], headers
    wait_for(lambda: events_of(pi["id"], "payment_intent.payment_failed"), what="failed webhook via checkout")
    f["return_url"] = "http://127.0.0.1:1/back?booking=b1"
    status, headers, _ = call("POST", path, raw=urllib.parse.urlencode(f), key=None)
    loc = urllib.parse.urlsplit(headers["location"])
    q = urllib.parse.parse_qs(loc.query)
    assert status == 303 and loc.path == "/back" and q["booking"] == ["b1"] and q["payment_intent"] == [pi["id"]]
    assert q["redirect_status"] == ["succeeded"] and "?booking=b1&" in headers["location"]
    assert call("GET", f"/v1/payment_intents/{pi['id']}")[2]["status"] == "succeeded"
    wait_for(lambda: events_of(pi["id"], "payment_intent.succeeded"), what="succeeded webhook via checkout")


def test_state_file_and_late_webhook_url(webhook_url):
    global PORT
    saved_port = PORT
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "state.json")
        proc, PORT = start_fake("--state-file", state)
        try:
            pi = new_intent(999, headers={"Idempotency-Key": "k-persist"})
            control("POST", "/_fake/config", {"webhook_url": webhook_url})
            call("POST", f"/v1/payment_intents/{pi['id']}/confirm", [("payment_method", "pm_card_visa")])
            wait_for(lambda: events_of(pi["id"], "payment_intent.succeeded"), what="webhook after config")
            assert not events_of(pi["id"], "payment_intent.created"), "no endpoint when it was created"
        finally:
            proc.kill()
            proc.wait()
        proc, PORT = start_fake("--state-file", state)
        try:
            status, _, got = call("GET", f"/v1/payment_intents/{pi['id']}")
            assert status == 200 and got["status"] == "succeeded"
            status, headers, again = call("POST", "/v1/payment_intents", [
                ("amount", 999), ("currency", "eur"), ("metadata[payment_id]", "p1"), ("metadata[booking_id]", "b1"),
                ("payment_method_types[]", "card")], headers={"Idempotency-Key": "k-persist"})
            assert status == 200 and again["id"] == pi["id"] and headers.get("idempotent-replayed") == "true"
        finally:
            proc.kill()
            proc.wait()
            PORT = saved_port


def main():
    global PORT
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    webhook_url = f"http://127.0.0.1:{receiver.server_address[1]}{WEBHOOK_PATH}"
    proc, PORT = start_fake("--webhook-url", webhook_url)
    tests = [v for k, v in globals().items() if k.startswith("test_") and k != "test_state_file_and_late_webhook_url"]
    failures = 0
    try:
        for test in tests + [lambda: test_state_file_and_late_webhook_url(webhook_url)]:
            name = getattr(test, "__name__", "test")
            name = "test_state_file_and_late_webhook_url" if name == "<lambda>" else name
            try:
                test()
                print(f"ok   {name}")
            except Exception as e:  # report and go on
                failures += 1
                import traceback
                traceback.print_exc()
                print(f"FAIL {name}: {e!r}")
            finally:
                control("POST", "/_fake/config", {"delay_ms": 0, "fail_next": 0, "webhooks": True,
                                                  "webhook_url": webhook_url})
        alive = proc.poll() is None
        if not alive:
            failures += 1
            print("FAIL the fake exited")
    finally:
        proc.kill()
        proc.wait()
    print(f"{len(tests) + 1 - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
