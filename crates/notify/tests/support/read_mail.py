"""Print one Maildir message as JSON: its headers, its parts in order, and each calendar
part as icalendar reads it."""
import json
import sys
from email import message_from_binary_file, policy

import icalendar

with open(sys.argv[1], "rb") as f:
    msg = message_from_binary_file(f, policy=policy.default)
parts = []
for part in msg.walk():
    entry = {
        "content_type": part.get_content_type(),
        "header": str(part.get("Content-Type", "")),
        "params": {k.lower(): v for k, v in part.get_params() or []},
        "filename": part.get_filename(),
    }
    if not part.is_multipart():
        body = part.get_content()
        entry["body"] = body if isinstance(body, str) else body.decode("utf-8")
        if part.get_content_type() == "text/calendar":
            cal = icalendar.Calendar.from_ical(entry["body"])
            entry["calendar"] = {
                "method": str(cal.get("METHOD", "")),
                "events": [
                    {"uid": str(e.get("UID", "")), "summary": str(e.get("SUMMARY", ""))}
                    for e in cal.walk("VEVENT")
                ],
            }
    parts.append(entry)
print(json.dumps({"headers": {k.lower(): str(v) for k, v in msg.items()}, "parts": parts}))
