#!/usr/bin/env python3
"""Read one received e-mail (a Maildir file) as a mail client would, with Python's own
`email` package, and its calendar attachments with the `icalendar` package; print what
the tests check as JSON."""
import json
import sys
from email import policy
from email.parser import BytesParser

import icalendar


def main(path):
    with open(path, "rb") as f:
        msg = BytesParser(policy=policy.default).parse(f)
    out = {
        "subject": str(msg["Subject"] or ""),
        "from": str(msg["From"] or ""),
        "to": str(msg["To"] or ""),
        "message_id": str(msg["Message-ID"] or ""),
        "list_unsubscribe": str(msg["List-Unsubscribe"] or "") or None,
        "content_type": msg.get_content_type(),
        "text": None,
        "html": None,
        "calendars": [],
    }
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    out["text"] = text.get_content() if text is not None else None
    out["html"] = html.get_content() if html is not None else None
    for part in msg.walk():
        if part.get_content_type() != "text/calendar":
            continue
        cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
        events = []
        for ev in cal.walk("VEVENT"):
            events.append(
                {
                    "uid": str(ev.get("UID")),
                    "summary": str(ev.get("SUMMARY")),
                    "location": str(ev.get("LOCATION")),
                    "start": ev.decoded("DTSTART").isoformat(),
                    "end": ev.decoded("DTEND").isoformat(),
                }
            )
        out["calendars"].append({"filename": part.get_filename(), "method": str(cal.get("METHOD")), "events": events})
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
