package io.needle.spark.connector

import org.apache.spark.sql.Row
import org.scalatest.funsuite.AnyFunSuite

/** needle tables through the session catalog: CREATE TABLE ... USING needle, INSERT INTO,
  * CREATE TABLE AS SELECT, with and without LOCATION. */
class SqlSuite extends AnyFunSuite with NeedleSparkSuite {

  private def sorted(sql: String): Seq[Row] = spark.sql(sql).collect().toSeq.sortBy(_.toString)

  test("CREATE TABLE USING needle (managed), INSERT INTO, SELECT with filters") {
    spark.sql("DROP TABLE IF EXISTS sql_managed")
    spark.sql("CREATE TABLE sql_managed (id BIGINT, host STRING, body STRING) USING needle " +
      "TBLPROPERTIES ('needle.field.body.type' = 'text')")
    spark.sql("INSERT INTO sql_managed VALUES (1, 'web-1', 'powershell.exe started'), (2, 'web-2', NULL)")
    spark.sql("INSERT INTO sql_managed SELECT id + 10, host, body FROM sql_managed")
    assert(sorted("SELECT id, host, body FROM sql_managed") == Seq(
      Row(1L, "web-1", "powershell.exe started"), Row(11L, "web-1", "powershell.exe started"),
      Row(12L, "web-2", null), Row(2L, "web-2", null)))
    assert(sorted("SELECT id FROM sql_managed WHERE host = 'web-2' AND id > 5") == Seq(Row(12L)))
    assert(sorted("SELECT id FROM sql_managed WHERE body IS NULL") == Seq(Row(12L), Row(2L)))
    // The table's folder is a needle table: the log has the per-column options from TBLPROPERTIES.
    val location = spark.sql("DESCRIBE TABLE EXTENDED sql_managed").collect()
      .find(_.getString(0) == "Location").map(_.getString(1)).get
    val snap = snapshotOf(new java.net.URI(location).getPath)
    assert(snap.version == 1 || snap.version == 2, snap.version)
    assert(snap.metadata.fieldOptions("body").fieldType.contains("text"))
    assert(snap.numRecords == 4)
    spark.sql("DROP TABLE sql_managed")
  }

  test("CREATE TABLE USING needle LOCATION, partitioned; the folder is readable by path") {
    val path = newTablePath("sql-location")
    spark.sql("DROP TABLE IF EXISTS sql_located")
    spark.sql(s"CREATE TABLE sql_located (id INT, day DATE, msg STRING) USING needle " +
      s"PARTITIONED BY (day) LOCATION '$path'")
    spark.sql("INSERT INTO sql_located VALUES (1, DATE'2024-05-01', 'a'), (2, DATE'2024-05-02', 'b'), " +
      "(3, DATE'2024-05-01', NULL), (4, NULL, 'd')")
    assert(sorted("SELECT id FROM sql_located WHERE day = DATE'2024-05-01'") == Seq(Row(1), Row(3)))
    assert(sorted("SELECT id FROM sql_located WHERE day IS NULL") == Seq(Row(4)))
    val snap = snapshotOf(path)
    assert(snap.metadata.partitionColumns == Seq("day"))
    assert(snap.files.map(_.path.split("/").head).toSet ==
      Set("day=2024-05-01", "day=2024-05-02", "day=__HIVE_DEFAULT_PARTITION__"))
    // The same rows by path (schema and partitioning from the log).
    val byPath = readNeedle(path)
    assert(byPath.schema.fieldNames.toSeq == Seq("id", "msg", "day") || byPath.schema.fieldNames.toSeq == Seq("id", "day", "msg"),
      byPath.schema)
    assert(canonRows(byPath.select("id", "day", "msg")) == canonRows(spark.table("sql_located").select("id", "day", "msg")))
    // An external table's folder survives DROP TABLE.
    spark.sql("DROP TABLE sql_located")
    assert(readNeedle(path).count() == 4)
  }

  test("CREATE TABLE AS SELECT, with options, and a second CTAS on the same name fails") {
    spark.sql("DROP TABLE IF EXISTS sql_ctas")
    spark.sql("CREATE TABLE sql_ctas USING needle OPTIONS ('needle.field.msg.type' = 'text') AS " +
      "SELECT id, concat('message number ', cast(id AS STRING)) AS msg FROM range(0, 50)")
    assert(spark.table("sql_ctas").count() == 50)
    assert(sorted("SELECT id FROM sql_ctas WHERE id IN (3, 7, 100)") == Seq(Row(3L), Row(7L)))
    val e = intercept[Exception](spark.sql("CREATE TABLE sql_ctas USING needle AS SELECT 1 AS id"))
    assert(e.getMessage.toLowerCase.contains("already exists"), e.getMessage)
    spark.sql("INSERT OVERWRITE sql_ctas SELECT id, 'x' FROM range(0, 3)")
    assert(sorted("SELECT id, msg FROM sql_ctas") == Seq(Row(0L, "x"), Row(1L, "x"), Row(2L, "x")))
    spark.sql("DROP TABLE sql_ctas")
  }

  test("CREATE TABLE AS SELECT with LOCATION and PARTITIONED BY") {
    val path = newTablePath("sql-ctas-location")
    spark.sql("DROP TABLE IF EXISTS sql_ctas_loc")
    spark.sql(s"CREATE TABLE sql_ctas_loc USING needle PARTITIONED BY (k) LOCATION '$path' AS " +
      "SELECT id, cast(id % 3 AS INT) AS k FROM range(0, 30)")
    val snap = snapshotOf(path)
    assert(snap.version == 0)
    assert(snap.metadata.partitionColumns == Seq("k"))
    assert(snap.files.map(_.partitionValues("k")).toSet == Set(Some("0"), Some("1"), Some("2")))
    assert(sorted("SELECT id FROM sql_ctas_loc WHERE k = 1 AND id < 10") == Seq(Row(1L), Row(4L), Row(7L)))
    spark.sql("DROP TABLE sql_ctas_loc")
  }

  test("SQL on a path through the needle_path catalog (registered by the first path read or write)") {
    val path = newTablePath("sql-path")
    spark.range(0, 5).write.format("needle").save(path)
    assert(sorted(s"SELECT id FROM needle_path.`$path` WHERE id >= 3") == Seq(Row(3L), Row(4L)))
  }
}
