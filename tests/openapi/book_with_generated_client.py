"""Book a stay with a client generated from Innkeep's OpenAPI document, and nothing else.

Usage: book_with_generated_client.py BASE_URL PROPERTY_ID CHECK_IN CHECK_OUT

`innkeep_client` is the package `openapi-python-client generate --meta none` made from
/api/v1/openapi.json (on PYTHONPATH). The property must have a bookable room type for two
adults. Run by crates/innkeep/tests/openapi.rs; exits non-zero on any failure.
"""

import datetime
import sys
import uuid

from innkeep_client import AuthenticatedClient, Client
from innkeep_client.api.accounts import me, register, sign_in
from innkeep_client.api.bookings import get_booking, place_booking
from innkeep_client.api.catalog import availability
from innkeep_client.models import (
    AvailabilityView,
    Booking,
    BookingBody,
    GuestBody,
    MeView,
    Problem,
    RegisterBody,
    SessionView,
    SignInBody,
    UserView,
)


def expect(condition, what):
    if not condition:
        sys.exit(f"FAILED: {what}")


def main():
    base, property_id, check_in, check_out = sys.argv[1:5]
    check_in = datetime.date.fromisoformat(check_in)
    check_out = datetime.date.fromisoformat(check_out)
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)

    # 1. an account and a session
    email = f"generated-{uuid.uuid4().hex[:12]}@example.com"
    password = "correct horse battery"
    created = register.sync_detailed(
        client=anonymous,
        body=RegisterBody(email=email, password=password, name="Generated Guest", role="guest"),
    )
    expect(created.status_code == 201, f"register answered {created.status_code}: {created.content!r}")
    expect(isinstance(created.parsed, UserView), f"register parsed as {created.parsed!r}")
    user = created.parsed
    session = sign_in.sync(client=anonymous, body=SignInBody(email=email, password=password))
    expect(isinstance(session, SessionView), f"sign in answered {session!r}")
    guest = AuthenticatedClient(base_url=base, token=session.token, raise_on_unexpected_status=True)
    who = me.sync(client=guest)
    expect(isinstance(who, MeView) and who.user_id == user.id, f"me answered {who!r}")

    # An error is a problem document the client reads as the Problem model.
    refused = me.sync(client=anonymous)
    expect(isinstance(refused, Problem) and refused.status == 401, f"me without a token answered {refused!r}")

    # 2. what the property offers for the stay
    offers = availability.sync(
        client=anonymous,
        property_id=uuid.UUID(property_id),
        check_in=check_in,
        check_out=check_out,
        adults=2,
    )
    expect(isinstance(offers, AvailabilityView), f"availability answered {offers!r}")
    expect(len(offers.offers) > 0, "the property has an offer for the stay")
    offer = offers.offers[0]
    expect(offer.units_left > 0, f"the offer has units left: {offer!r}")

    # 3. hold it, safely retried with the same Idempotency-Key
    body = BookingBody(
        room_type_id=offer.room_type.id,
        check_in=check_in,
        check_out=check_out,
        adults=2,
        children=0,
        guest=GuestBody(name="Generated Guest", email=email),
    )
    key = f"generated-{uuid.uuid4()}"
    placed = place_booking.sync_detailed(client=guest, body=body, idempotency_key=key)
    expect(placed.status_code == 201, f"booking answered {placed.status_code}: {placed.content!r}")
    booking = placed.parsed
    expect(isinstance(booking, Booking), f"booking parsed as {booking!r}")
    expect(booking.status == "held", f"a new booking is held, not {booking.status}")
    expect(booking.total.minor == offer.quote.total.minor, "the booking costs what the offer quoted")
    replay = place_booking.sync_detailed(client=guest, body=body, idempotency_key=key)
    expect(replay.status_code == 200, f"a replay answered {replay.status_code}: {replay.content!r}")
    expect(replay.parsed.id == booking.id, "a replay answers the same booking")

    # 4. read it back
    read = get_booking.sync(id=booking.id, client=guest)
    expect(isinstance(read, Booking), f"reading the booking answered {read!r}")
    expect(read.id == booking.id and read.room_type_id == offer.room_type.id, f"read back {read!r}")
    expect((read.check_in, read.check_out) == (check_in, check_out), f"the stay read back is {read!r}")
    print(f"booked {read.id} ({read.status}, {read.total.minor} {read.total.currency})")


if __name__ == "__main__":
    main()
