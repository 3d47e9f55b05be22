"""PySpark against the connector jar: write, read, needle_match, indexquery, _score, errors.

Run by `make test-pyspark` (NEEDLE_SPARK_JAR: the bundle jar; PYTHONPATH: python/)."""
import os
import re
import shutil
import tempfile

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from needle_spark import EXTENSIONS, needle_match, needle_match_all

WORDS = ["disk", "login", "timeout", "backup", "kernel", "panic"]


@pytest.fixture(scope="module")
def spark():
    jar = os.environ.get("NEEDLE_SPARK_JAR", "")
    assert jar and os.path.exists(jar), f"NEEDLE_SPARK_JAR={jar!r}: build it with `make spark`"
    s = (SparkSession.builder.master("local[2]").appName("needle-pyspark-test")
         .config("spark.jars", jar)
         .config("spark.sql.extensions", EXTENSIONS)
         .config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2")
         .config("spark.sql.session.timeZone", "UTC")
         .getOrCreate())
    yield s
    s.stop()


@pytest.fixture(scope="module")
def table(spark):
    root = tempfile.mkdtemp(prefix="needle-pyspark-")
    words = "array(" + ", ".join(f"'{w}'" for w in WORDS) + ")"
    rows = (spark.range(0, 3000, 1, 3)
            .selectExpr("id",
                        f"concat_ws(' ', element_at({words}, cast(pmod(id, 6) + 1 as int)), "
                        f"element_at({words}, cast(pmod(id * 5, 4) + 1 as int)), "
                        "if(pmod(id, 50) = 0, 'user''s \"special\" path C:\\\\tmp', 'ok')) AS msg",
                        "concat('host-', cast(pmod(id, 5) as string)) AS host",
                        "timestamp_seconds(1700000000 + id) AS ts"))
    path = os.path.join(root, "events")
    rows.write.format("needle").option("needle.field.msg.type", "text").save(path)
    rows.createOrReplaceTempView("events_spark")
    yield path, rows
    shutil.rmtree(root, ignore_errors=True)


def has(word):
    """Spark's own test for: msg has the token `word` (the default tokenizer, lower-cased)."""
    return f"array_contains(split(lower(msg), '[^a-z0-9]+'), '{word}')"


def ids(df):
    return sorted(r["id"] for r in df.select("id").collect())


def test_write_and_read_back(spark, table):
    path, rows = table
    t = spark.read.format("needle").load(path)
    assert t.count() == 3000
    assert sorted(t.columns) == ["host", "id", "msg", "ts"]
    got = {r["id"]: (r["msg"], r["host"], r["ts"]) for r in t.where("id < 100").collect()}
    want = {r["id"]: (r["msg"], r["host"], r["ts"]) for r in rows.where("id < 100").collect()}
    assert got == want
    assert ids(t.where("host = 'host-3' AND id < 40")) == ids(rows.where("host = 'host-3' AND id < 40"))


def test_needle_match_and_indexquery(spark, table):
    path, rows = table
    t = spark.read.format("needle").load(path)
    t.createOrReplaceTempView("events")
    want = ids(spark.sql(f"SELECT id FROM events_spark WHERE {has('disk')} AND {has('timeout')} AND host = 'host-2'"))
    assert want
    assert ids(t.where(needle_match("msg", "disk AND timeout")).where("host = 'host-2'")) == want
    assert ids(t.where(needle_match(F.col("msg"), "disk AND timeout") & (F.col("host") == "host-2"))) == want
    assert ids(t.where(F.expr("needle_match(msg, 'disk AND timeout')")).where("host = 'host-2'")) == want
    assert ids(t.where("msg indexquery 'disk AND timeout' AND host = 'host-2'")) == want
    assert ids(spark.sql("SELECT id FROM events WHERE msg indexquery 'disk AND timeout' AND host = 'host-2'")) == want
    assert ids(spark.sql("SELECT id FROM events WHERE _indexall indexquery 'disk AND timeout' AND host = 'host-2'")) == want
    assert ids(t.where(needle_match_all("disk AND timeout")).where("host = 'host-2'")) == want
    # Quotes and backslashes, escaped as SQL escapes them; the same query from Python is the same.
    special = ids(spark.sql("SELECT id FROM events_spark WHERE msg LIKE '%user''s \"special\"%'"))
    assert special
    assert ids(spark.sql("""SELECT id FROM events WHERE msg indexquery '"user\\'s special" AND C\\\\:\\\\\\\\tmp'""")) == special
    assert ids(t.where(needle_match("msg", '"user\'s special" AND C\\:\\\\tmp'))) == special


def test_score(spark, table):
    path, _ = table
    t = spark.read.format("needle").load(path)
    scored = {r["id"]: r["_score"] for r in t.where(needle_match("msg", "kernel OR panic")).select("id", "_score").collect()}
    assert scored and all(s > 0 for s in scored.values())
    # An exact filter next to it keeps each row's score; without a full-text filter _score is 0.
    for r in t.where(needle_match("msg", "kernel OR panic") & (F.col("host") == "host-1")).select("id", "_score").collect():
        assert r["_score"] == scored[r["id"]]
    assert {r["_score"] for r in t.where("id < 10").select("_score").collect()} == {0.0}
    best = t.where(needle_match("msg", "kernel OR panic")).orderBy(F.col("_score").desc()).limit(5).select("_score").collect()
    assert [r["_score"] for r in best] == sorted(scored.values(), reverse=True)[:5]


def test_errors(spark, table):
    path, rows = table
    t = spark.read.format("needle").load(path)
    with pytest.raises(Exception) as bad:
        t.where(needle_match("msg", "timeout AND (backup")).collect()
    text = str(bad.value)
    assert "NEEDLE_INVALID_QUERY" in text and "'timeout AND (backup'" in text, text
    assert re.search(r"position \d+", text), text
    print("\nbad query error:", next(l for l in text.splitlines() if "NEEDLE_INVALID_QUERY" in l)[:500])
    with pytest.raises(Exception) as not_needle:
        rows.where(needle_match("msg", "timeout")).collect()
    assert "NEEDLE_MATCH_NOT_PUSHED" in str(not_needle.value), str(not_needle.value)
    # The session still works.
    assert t.where("id = 7").count() == 1
