package io.needle.spark.log

import com.fasterxml.jackson.databind.node.{JsonNodeFactory => F}
import org.scalatest.funsuite.AnyFunSuite

class ActionCodecSuite extends AnyFunSuite {

  private def roundTrip(a: Action): Action = {
    val json = ActionCodec.toJson(a)
    assert(!json.contains("\n"))
    ActionCodec.fromJson(json)
  }

  private val fullAdd = AddFile(
    path = "day=2024-05-01/part-00000-é ü.split",
    size = 52311,
    numRecords = 1200,
    partitionValues = Map("day" -> Some("2024-05-01"), "region" -> None),
    footerOffset = 50011,
    footerLength = 2284,
    modificationTime = 1714557599000L,
    dataChange = false,
    stats = Some(FileStats(
      numRecords = Some(1200),
      minValues = Map("ts" -> F.instance.textNode("2024-05-01T00:00:03Z"), "n" -> F.instance.numberNode(-5),
        "f" -> F.instance.numberNode(1.5)),
      maxValues = Map("ts" -> F.instance.textNode("2024-05-01T23:59:58Z"), "n" -> F.instance.numberNode(Long.MaxValue)),
      nullCount = Map("ts" -> 0L, "n" -> 3L))),
    tags = Map("origin" -> "test"))

  test("every action round-trips with all members set") {
    val actions = Seq[Action](
      Protocol(1, 1, Set("b", "a"), Set("c")),
      Metadata(
        id = "0f6c",
        schemaJson = """{"fields":[{"name":"body","type":"text"}]}""",
        sparkSchemaJson = Some("""{"type":"struct","fields":[]}"""),
        fieldOptions = Map("body" -> FieldOptions(Some("text"), Some("default"), Some("position"), Some(true), Some(false))),
        partitionColumns = Seq("day", "region"),
        configuration = Map("needle.log.checkpointInterval" -> "5"),
        createdTime = 1714557600000L,
        name = Some("events"),
        description = Some("security events")),
      fullAdd,
      fullAdd.remove(1714557700000L),
      RemoveFile("x.split", 1L, dataChange = true),
      CommitInfo(1714557600000L, "WRITE", Map("mode" -> "Append"), Some("alice"), "needle 0.1.0",
        Some(4), Some(true), Some("7c0c")),
      UnknownAction("future_thing", """{"a":[1,2,{"b":null}]}"""))
    actions.foreach(a => assert(roundTrip(a) == a, ActionCodec.toJson(a)))
  }

  test("the encoding is the one the spec shows (member names, order, snake_case)") {
    assert(ActionCodec.toJson(Protocol.initial) ==
      """{"protocol":{"min_reader_version":1,"min_writer_version":1,"reader_features":[],"writer_features":[]}}""")
    val add = AddFile("a/b.split", 10, 2, Map("day" -> Some("d")), 4, 3, 99, dataChange = true)
    assert(ActionCodec.toJson(add) ==
      """{"add":{"path":"a/b.split","size":10,"num_records":2,"partition_values":{"day":"d"},""" +
      """"footer_offset":4,"footer_length":3,"modification_time":99,"data_change":true}}""")
    assert(ActionCodec.toJson(RemoveFile("a/b.split", 7, dataChange = false)) ==
      """{"remove":{"path":"a/b.split","deletion_timestamp":7,"data_change":false}}""")
  }

  test("absent optional members take their defaults") {
    val m = ActionCodec.fromJson("""{"metadata":{"id":"x","schema":{"fields":[]}}}""")
    assert(m == Metadata("x", """{"fields":[]}"""))
    val p = ActionCodec.fromJson("""{"protocol":{"min_reader_version":1,"min_writer_version":1}}""")
    assert(p == Protocol(1, 1))
    val a = ActionCodec.fromJson(
      """{"add":{"path":"p","size":1,"num_records":0,"footer_offset":0,"footer_length":1,"modification_time":5,"data_change":true}}""")
    assert(a == AddFile("p", 1, 0, Map.empty, 0, 1, 5))
    // JSON null counts as absent for optional members.
    val c = ActionCodec.fromJson("""{"commit_info":{"timestamp":1,"operation":"WRITE","user":null,"engine_version":"x"}}""")
    assert(c == CommitInfo(1, "WRITE", Map.empty, None, "x"))
  }

  test("readers ignore members they do not know, at every level") {
    val line =
      """{"add":{"path":"p","size":1,"num_records":0,"footer_offset":0,"footer_length":1,""" +
      """"modification_time":5,"data_change":true,"deletion_vector":{"x":1},"future":[1,2],""" +
      """"stats":{"num_records":0,"min":{},"max":{},"null_count":{},"histograms":{"a":[1]}}}}"""
    val a = ActionCodec.fromJson(line).asInstanceOf[AddFile]
    assert(a.path == "p" && a.stats.contains(FileStats(Some(0))))
    val m = ActionCodec.fromJson(
      """{"metadata":{"id":"x","schema":{"fields":[]},"format":{"provider":"x"},""" +
      """"field_options":{"body":{"type":"text","boost":2.0}}}}""").asInstanceOf[Metadata]
    assert(m.fieldOptions == Map("body" -> FieldOptions(fieldType = Some("text"))))
    val p = ActionCodec.fromJson(
      """{"protocol":{"min_reader_version":1,"min_writer_version":1,"extra":true}}""")
    assert(p == Protocol(1, 1))
  }

  test("an action type the reader does not know decodes to UnknownAction") {
    val u = ActionCodec.fromJson("""{"txn":{"app_id":"stream-1","version":7}}""")
    assert(u == UnknownAction("txn", """{"app_id":"stream-1","version":7}"""))
  }

  test("malformed lines are rejected with a detail naming what is wrong") {
    def detail(line: String): String =
      intercept[MalformedLogException](ActionCodec.fromJson(line)).detail
    assert(detail("""{"add":""").contains("not valid JSON"))
    assert(detail("""[1,2]""").contains("not a JSON object"))
    assert(detail("""{}""").contains("exactly one member"))
    assert(detail("""{"add":{},"remove":{}}""").contains("exactly one member"))
    assert(detail("""{"add":5}""").contains("'add' is not a JSON object"))
    assert(detail("""{"remove":{"deletion_timestamp":1,"data_change":true}}""") == "remove.path is required")
    assert(detail("""{"remove":{"path":"p","deletion_timestamp":"yesterday","data_change":true}}""") ==
      "remove.deletion_timestamp must be a 64-bit integer")
    assert(detail("""{"remove":{"path":"p","deletion_timestamp":1.5,"data_change":true}}""") ==
      "remove.deletion_timestamp must be a 64-bit integer")
    assert(detail("""{"remove":{"path":"p","deletion_timestamp":1,"data_change":"yes"}}""") ==
      "remove.data_change must be true or false")
    assert(detail("""{"metadata":{"id":"x","schema":"{}"}}""") == "metadata.schema must be an object")
    assert(detail("""{"protocol":{"min_reader_version":1,"min_writer_version":1,"reader_features":[1]}}""") ==
      "protocol.reader_features must be an array of strings")
    assert(detail("""{"add":{"path":"p","partition_values":{"d":1}}}""").contains("size is required"))
    assert(detail(
      """{"remove":{"path":"p","deletion_timestamp":1,"data_change":true,"partition_values":{"d":1}}}""") ==
      "remove.partition_values.d must be a string or null")
    assert(detail("""{"remove":{"path":"p","path":"q","deletion_timestamp":1,"data_change":true}}""")
      .contains("Duplicate"))
  }

  test("metadata with a schema that is not a JSON object cannot be encoded") {
    intercept[IllegalArgumentException](ActionCodec.toJson(Metadata("x", "not json")))
    intercept[IllegalArgumentException](ActionCodec.toJson(Metadata("x", "[1]")))
  }

  test("file names: commits, checkpoints and everything else") {
    assert(FileNames.commitName(0) == "00000000000000000000.json")
    assert(FileNames.commitName(123) == "00000000000000000123.json")
    assert(FileNames.checkpointName(10) == "00000000000000000010.checkpoint.json")
    assert(FileNames.parse("00000000000000000123.json").contains(FileNames.Commit(123)))
    assert(FileNames.parse("00000000000000000010.checkpoint.json").contains(FileNames.Checkpoint(10)))
    assert(FileNames.parse(FileNames.commitName(Long.MaxValue)).contains(FileNames.Commit(Long.MaxValue)))
    for (n <- Seq("99999999999999999999.json", "0000000000000000001.json", ".00000000000000000001.json.x.tmp",
        "_last_checkpoint", "00000000000000000001.json.crc", "00000000000000000001.JSON")) {
      assert(FileNames.parse(n).isEmpty, n)
    }
    assert(FileNames.tempName("x.json").startsWith(".x.json.") && FileNames.tempName("x.json").endsWith(".tmp"))
  }
}
