#!/usr/bin/env python3
"""The Spark side of `innkeep bench analytics`: pyspark in local mode over the same lake,
running deploy/spark/reports.sql (Spark's dialect of the same reports) over the views of
deploy/spark/lake.sql, through deploy/spark/run_reports.py's own functions.

    python3 spark_reports.py SPARK_DIR LAKE RUNS NAME...

Prints JSON: {"name": {"ms": [each run], "columns": [...], "rows": [[...], ...]}}; the time
of a run is the query's, from submitting it to having collected its rows."""
import json
import sys
import time


def main(argv):
    spark_dir, lake, runs, names = argv[1], argv[2], int(argv[3]), argv[4:]
    sys.path.insert(0, spark_dir)
    import run_reports  # deploy/spark/run_reports.py
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[*]").appName("innkeep-bench")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.ui.enabled", "false")
             .config("spark.driver.memory", "4g")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    run_reports.views(spark, lake)
    sql = run_reports.reports()
    out = {}
    for name in names:
        times, rows, columns = [], [], []
        for _ in range(runs):
            t = time.perf_counter()
            df = spark.sql(sql[name])
            rows = df.collect()
            times.append((time.perf_counter() - t) * 1000)
            columns = df.columns
        out[name] = {"ms": times, "columns": columns,
                     "rows": [[run_reports.cell(v) for v in r] for r in rows]}
    print(json.dumps(out))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
