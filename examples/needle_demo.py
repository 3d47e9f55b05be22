#!/usr/bin/env python3
"""needle demo: index a table of log rows with Spark, then search it with SQL and DataFrames.

Runs in Spark local mode on local disk; nothing to set up. `make demo` builds the connector,
installs PySpark into build/pyspark-venv and runs this script. By hand, with the jars that
`make spark` builds:

    build/pyspark-venv/bin/python examples/needle_demo.py \
        --jars "$(make -s print-spark-jar)" [--rows 300000] [--work /tmp/needle-demo]

What it does:
  1. generates ROWS realistic log rows (timestamp, level, service, host, message), the same
     rows on every run (every value is a hash of the row number);
  2. writes them as a needle table (message full-text indexed, the other strings exact);
  3. runs full-text, exact, range and combined queries through SQL and the DataFrame API,
     printing rows and timings;
  4. runs the selective full-text query again over the same rows stored as Parquet and
     filtered with `rlike`, for comparison.
"""
import argparse
import os
import shutil
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

# needle's Python helpers (python/needle_spark), from this checkout.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from needle_spark import EXTENSIONS, needle_match  # noqa: E402

# Row generator: Spark SQL expressions over spark.range(n), so generation is parallel, fast and
# deterministic (hash() is Murmur3 with a fixed seed).
SERVICES = ["auth", "payments", "search", "checkout", "inventory", "gateway", "mailer", "scheduler"]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
         "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoe"]
PATHS = ["orders", "users", "carts", "payments", "invoices", "products", "sessions", "reports"]


def sql_array(values):
    return "array(" + ", ".join("'" + v + "'" for v in values) + ")"


def pick(values, salt):
    return f"element_at({sql_array(values)}, cast(pmod(hash(id, {salt}), {len(values)}) + 1 as int))"


def num(salt, mod, plus=0):
    return f"(pmod(hash(id, {salt}), {mod}) + {plus})"


def log_rows(spark, rows):
    user = pick(USERS, 11)
    ip = f"concat_ws('.', '10', {num(12, 4)}, {num(13, 256)}, {num(14, 256)})"
    token = "substr(sha2(cast(id as string), 256), 1, 24)"
    # (percent bound, level, message expression)
    templates = [
        (40, "INFO", f"format_string('GET /api/v1/%s/%d returned %d in %d ms', {pick(PATHS, 21)}, {num(22, 100000)}, "
                     f"element_at(array(200, 200, 200, 201, 204, 304), cast({num(23, 6, 1)} as int)), {num(24, 900, 3)})"),
        (55, "INFO", f"format_string('user %s logged in from %s', {user}, {ip})"),
        (68, "DEBUG", f"format_string('cache miss for key order:%d, fetching from origin', {num(25, 1000000)})"),
        (78, "INFO", f"format_string('scheduled job %s finished in %d ms, %d records processed', "
                     f"{pick(['reindex', 'cleanup', 'billing', 'digest', 'export'], 26)}, {num(27, 60000, 10)}, {num(28, 50000)})"),
        (86, "WARN", f"format_string('Failed password for user %s from %s port %d ssh2', {user}, {ip}, {num(29, 60000, 1024)})"),
        (92, "ERROR", f"format_string('Connection timeout to db-%02d.prod.example.net:5432 after %d ms', "
                      f"{num(30, 16)}, {num(31, 9000, 1000)})"),
        (96, "WARN", f"format_string('process powershell.exe started by %s with args -nop -enc %s', {user}, {token})"),
        (100, "ERROR", f"format_string('java.lang.OutOfMemoryError: Java heap space in thread pool-%d-thread-%d', "
                       f"{num(32, 8, 1)}, {num(33, 32, 1)})"),
    ]
    choice = num(20, 100)
    level = "CASE " + " ".join(f"WHEN {choice} < {b} THEN '{lv}'" for b, lv, _ in templates) + " END"
    message = "CASE " + " ".join(f"WHEN {choice} < {b} THEN {m}" for b, _, m in templates) + " END"
    service = pick(SERVICES, 3)
    return (spark.range(0, rows, 1, numPartitions=4)
            .selectExpr(
                "id",
                # one row every ~0.3 s from 2026-01-01T00:00:00Z
                "timestamp_millis(1767225600000 + id * 300 + pmod(hash(id, 1), 300)) AS ts",
                f"{level} AS level",
                f"{service} AS service",
                f"concat({service}, '-', lpad(cast({num(4, 24)} as string), 2, '0'), '.prod.example.net') AS host",
                f"{message} AS message")
            .drop("id"))


class Timer:
    def __init__(self):
        self.rows = []

    def run(self, label, fn, repeat=3):
        """Runs fn() `repeat` times; reports the first (cold) and the best time."""
        times, result = [], None
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
        self.rows.append((label, times[0], min(times)))
        return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jars", default=os.environ.get("NEEDLE_SPARK_JARS", ""),
                    help="the connector jar, spark/target/needle-spark-bundle.jar (make -s print-spark-jar)")
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--work", default="/tmp/needle-demo", help="folder for the tables (replaced)")
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    table = os.path.join(args.work, "logs")
    parquet = os.path.join(args.work, "logs.parquet")

    builder = (SparkSession.builder.master(args.master).appName("needle-demo")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.warehouse.dir", os.path.join(args.work, "warehouse"))
               .config("spark.sql.extensions", EXTENSIONS))
    if args.jars:
        builder = builder.config("spark.jars", args.jars)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    timer = Timer()

    # ---- 1 + 2: generate and write -------------------------------------------------------------
    rows = log_rows(spark, args.rows).cache()
    n = rows.count()
    raw_bytes = rows.selectExpr(
        "sum(8 + octet_length(level) + octet_length(service) + octet_length(host) + octet_length(message))"
    ).first()[0]
    print(f"\nneedle demo: {n:,} log rows, {raw_bytes / 1e6:.1f} MB of values (timestamps as 8 bytes)")
    rows.show(5, truncate=False)

    t0 = time.perf_counter()
    (rows.write.format("needle")
         .option("needle.field.message.type", "text")
         .mode("overwrite")
         .save(table))
    write_s = time.perf_counter() - t0
    print(f"write: {write_s:.1f} s, {n / write_s:,.0f} rows/s, {raw_bytes / 1e6 / write_s:.1f} MB/s "
          f"(table {table})")

    # A catalog table over the folder, so that SQL sees its metadata column _score (a temporary
    # view would hide it); spark.read.format("needle").load(table) is the same table.
    spark.sql("DROP TABLE IF EXISTS logs")
    spark.sql(f"CREATE TABLE logs USING needle LOCATION '{table}'")

    # ---- 3: queries ------------------------------------------------------------------------------
    def show(title, df_fn, n_show=5):
        print(f"\n-- {title}")
        rows_out = timer.run(title, lambda: df_fn().collect())
        for r in rows_out[:n_show]:
            print("   ", r)
        print(f"   ({len(rows_out)} rows)")

    show("full text, SQL: message indexquery '\"failed password\" AND alice'",
         lambda: spark.sql("SELECT ts, host, message FROM logs "
                           "WHERE message indexquery '\"failed password\" AND alice' ORDER BY ts"))
    show("full text, DataFrame: needle_match(message, 'powershell AND enc') on host auth-07",
         lambda: spark.table("logs")
         .where(needle_match("message", "powershell AND enc"))
         .where(F.col("host") == "auth-07.prod.example.net")
         .select("ts", "level", "message").orderBy("ts"))
    show("exact, SQL: errors of the payments service, per host",
         lambda: spark.sql("SELECT host, count(*) AS errors FROM logs "
                           "WHERE service = 'payments' AND level = 'ERROR' GROUP BY host ORDER BY errors DESC"))
    show("range, DataFrame: rows in one minute",
         lambda: spark.table("logs")
         .where((F.col("ts") >= F.lit("2026-01-01 12:00:00").cast("timestamp")) &
                (F.col("ts") < F.lit("2026-01-01 12:01:00").cast("timestamp")))
         .select("ts", "service", "message").orderBy("ts"))
    show("combined, SQL: timeouts to db-07 from checkout in the first hour, best BM25 first",
         lambda: spark.sql("SELECT _score, ts, host, message FROM logs "
                           "WHERE needle_match(message, 'timeout AND \"db-07\"') AND service = 'checkout' "
                           "AND ts < timestamp'2026-01-01 01:00:00' ORDER BY _score DESC, ts LIMIT 10"))

    # ---- 4: the same selective query over Parquet with rlike -------------------------------------
    rows.write.mode("overwrite").parquet(parquet)
    spark.read.parquet(parquet).createOrReplaceTempView("logs_parquet")
    needle_q = ("SELECT count(*) FROM logs WHERE message indexquery "
                "'\"failed password\" AND alice AND \"10.3.17\"'")
    parquet_q = ("SELECT count(*) FROM logs_parquet WHERE message rlike '(?i)failed password' "
                 "AND message rlike '(?i)\\\\balice\\\\b' AND message rlike '\\\\b10\\\\.3\\\\.17\\\\b'")
    c1 = timer.run("selective full text, needle", lambda: spark.sql(needle_q).first()[0])
    c2 = timer.run("selective full text, Parquet + rlike", lambda: spark.sql(parquet_q).first()[0])
    print(f"\n-- selective full text: needle {c1} rows, Parquet + rlike {c2} rows")
    if c1 != c2:
        print("   the counts differ: the tokenized query and the regular expressions disagree", file=sys.stderr)

    # ---- timings ---------------------------------------------------------------------------------
    print("\n| query | first run (s) | best of 3 (s) |\n|---|---|---|")
    for label, first, best in timer.rows:
        print(f"| {label} | {first:.3f} | {best:.3f} |")
    spark.stop()


if __name__ == "__main__":
    main()
