"""needle for PySpark: the DataFrame forms of needle's full-text filter.

The session needs the connector jar (``make spark`` builds spark/target/needle-spark-bundle.jar)
and needle's SQL extension::

    spark = (SparkSession.builder
             .config("spark.jars", "/path/to/needle-spark-bundle.jar")
             .config("spark.sql.extensions", "io.needle.spark.sql.NeedleSparkSessionExtensions")
             .getOrCreate())
    logs = spark.read.format("needle").load("/data/logs")
    logs.where(needle_match("message", '"failed password" AND root')).select("_score", "message")

SQL needs nothing from here: ``WHERE message indexquery 'query'``, ``_indexall indexquery 'query'``
or ``needle_match(message, 'query')``.
"""
from pyspark.sql import Column
from pyspark.sql import functions as F

__all__ = ["EXTENSIONS", "needle_match", "needle_match_all"]

#: The value for ``spark.sql.extensions``.
EXTENSIONS = "io.needle.spark.sql.NeedleSparkSessionExtensions"


def needle_match(col, query: str) -> Column:
    """True for the rows of a needle table that the full-text ``query`` matches, with ``col`` (a
    column name or Column) as the query's default field. Only as a filter of a needle table;
    ``_score`` is the query's BM25 score."""
    if not isinstance(query, str):
        raise TypeError(f"needle_match: the query must be a str, not {type(query).__name__}")
    column = F.col(col) if isinstance(col, str) else col
    return F.call_function("needle_match", column, F.lit(query))


def needle_match_all(query: str) -> Column:
    """``needle_match`` over every text column of the table (``_indexall indexquery 'query'``)."""
    return needle_match("_indexall", query)
