#!/usr/bin/env python3
"""Write the ECB's daily reference-rate XML (eurofxref-daily.xml's format) for the newest day of
the ECB's historical file (eurofxref-hist.csv, or the eurofxref-hist.zip the ECB publishes at
https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip).

    python3 from-ecb-hist.py eurofxref-hist.zip "where the file came from" > eurofxref.xml

Only figures from the ECB's file are written: currencies quoted "N/A" that day are left out.
"""
import csv
import io
import sys
import zipfile

path, source = sys.argv[1], sys.argv[2]
if path.endswith(".zip"):
    with zipfile.ZipFile(path) as z:
        text = z.read("eurofxref-hist.csv").decode("utf-8")
else:
    text = open(path, encoding="utf-8").read()
rows = list(csv.reader(io.StringIO(text)))
header, newest = rows[0], max(rows[1:], key=lambda r: r[0])
out = [
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
    "<!--",
    f"  The European Central Bank's euro foreign exchange reference rates of {newest[0]}, the newest",
    "  day of the ECB's historical file:",
    f"  {source};",
    "  written in the format of",
    "  https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml by from-ecb-hist.py beside",
    "  this file. Innkeep uses them only to show an approximate price in a guest's preferred",
    "  currency; every charge stays in the property's own currency. To update: put the ECB's",
    "  eurofxref-daily.xml of the day here (same format), or run the script on a newer",
    "  eurofxref-hist.zip, and rebuild.",
    "-->",
    "<gesmes:Envelope xmlns:gesmes=\"http://www.gesmes.org/xml/2002-08-01\" xmlns=\"http://www.ecb.int/vocabulary/2002-08-01/eurofxref\">",
    "\t<gesmes:subject>Reference rates</gesmes:subject>",
    "\t<gesmes:Sender>",
    "\t\t<gesmes:name>European Central Bank</gesmes:name>",
    "\t</gesmes:Sender>",
    "\t<Cube>",
    f"\t\t<Cube time='{newest[0]}'>",
]
for code, rate in zip(header[1:], newest[1:]):
    code, rate = code.strip(), rate.strip()
    if code and rate and rate != "N/A":
        out.append(f"\t\t\t<Cube currency='{code}' rate='{rate}'/>")
out += ["\t\t</Cube>", "\t</Cube>", "</gesmes:Envelope>"]
print("\n".join(out))
