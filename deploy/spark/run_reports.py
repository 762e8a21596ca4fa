#!/usr/bin/env python3
"""Run the reports of reports.sql on Spark (local mode, or a cluster's spark-submit) over an
Innkeep analytics lake, and print each as JSON: {"report": {"columns": [...], "rows": [...]}}.

    python3 deploy/spark/run_reports.py LAKE [REPORT ...]

LAKE is a directory or an s3a:// URL (set the fs.s3a.* options for the endpoint and keys).
The tables are the ones lake.sql defines for a Hive metastore, registered here as
temporary views so that no metastore is needed."""
import json
import os
import re
import sys

from pyspark.sql import SparkSession

HERE = os.path.dirname(os.path.abspath(__file__))
BOOKING_KINDS = ("booking.held", "booking.confirmed", "booking.checked_in", "booking.completed",
                 "booking.expired", "booking.cancelled", "booking.no_show")


def reports():
    text = open(os.path.join(HERE, "reports.sql")).read()
    out = {}
    for block in re.split(r"^-- report: ", text, flags=re.M)[1:]:
        name, _, body = block.partition("\n")
        out[name.strip()] = body.strip().rstrip(";")
    return out


def lake_schema():
    """The lake table's columns as lake.sql declares them (partition columns last): read
    with this schema, a column no file of the lake holds yet reads as NULL."""
    ddl = open(os.path.join(HERE, "lake.sql")).read()
    body = ddl[ddl.index("CREATE EXTERNAL TABLE IF NOT EXISTS lake ("):]
    body = body[body.index("(") + 1:body.index("\n)")]
    columns = [l.strip().rstrip(",") for l in body.splitlines() if l.strip()]
    return ", ".join(columns + ["kind STRING", "`date` DATE"])


def views(spark, lake):
    base = lake.rstrip("/")
    spark.read.schema(lake_schema()).option("basePath", base).parquet(base + "/kind=*") \
        .createOrReplaceTempView("lake")
    spark.read.parquet(base + "/_innkeep/dims/properties.parquet").createOrReplaceTempView("properties")
    ddl = open(os.path.join(HERE, "lake.sql")).read()
    for stmt in ddl.split(";"):
        stmt = "\n".join(l for l in stmt.splitlines() if not l.strip().startswith("--")).strip()
        if stmt.startswith("CREATE OR REPLACE VIEW"):
            spark.sql(stmt.replace("CREATE OR REPLACE VIEW", "CREATE OR REPLACE TEMPORARY VIEW", 1))


def cell(v):
    if v is None or isinstance(v, (int, float, str, bool)):
        return v
    return str(v)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    lake, wanted = argv[1], argv[2:]
    spark = (SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[2]"))
             .appName("innkeep-reports")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.ui.enabled", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    views(spark, lake)
    all_reports = reports()
    out = {}
    for name in wanted or list(all_reports):
        df = spark.sql(all_reports[name])
        out[name] = {"columns": df.columns, "rows": [[cell(v) for v in r] for r in df.collect()]}
    print(json.dumps(out))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
