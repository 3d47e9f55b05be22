package io.needle.spark.conf

import org.scalatest.funsuite.AnyFunSuite

import io.needle.spark.errors.{ErrorId, NeedleException}
import io.needle.spark.log.FieldOptions

class ConfResolverSuite extends AnyFunSuite {
  import NeedleConf._

  private def errorOf(body: => Any): NeedleException = intercept[NeedleException](body)

  test("defaults when nothing is set") {
    val r = ConfResolver()
    assert(r.get(WorkDir).isEmpty)
    assert(r.get(IndexingMemory) == (256L << 20))
    assert(r.get(BatchSize) == 1000)
    assert(r.get(TargetSplitSize) == (128L << 20))
    assert(r.get(CacheSize) == (256L << 20))
    assert(r.get(LogCheckpointInterval) == 10)
    assert(r.get(LogMaxCommitAttempts) == 100)
    assert(r.resolve(BatchSize).source == ConfSource.Default)
  }

  test("precedence: option, then session conf, then table property, then default") {
    val opt = Map("needle.write.batchSize" -> "1")
    val ses = Map("spark.needle.write.batchSize" -> "2")
    val tbl = Map("needle.write.batchSize" -> "3")
    assert(ConfResolver(opt, ses, tbl).resolve(BatchSize) ==
      Resolved(1, ConfSource.DataSourceOption("needle.write.batchSize")))
    assert(ConfResolver(Map.empty, ses, tbl).resolve(BatchSize) ==
      Resolved(2, ConfSource.Session("spark.needle.write.batchSize")))
    assert(ConfResolver(Map.empty, Map.empty, tbl).resolve(BatchSize) ==
      Resolved(3, ConfSource.Table("needle.write.batchSize")))
    // The session conf without the spark. prefix is not ours (and not read).
    assert(ConfResolver(session = Map("needle.write.batchSize" -> "9")).get(BatchSize) == 1000)
  }

  test("options are case-insensitive, as Spark's are") {
    assert(ConfResolver(options = Map("needle.write.batchsize" -> "7")).get(BatchSize) == 7)
    assert(ConfResolver(options = Map("NEEDLE.WRITE.BATCHSIZE" -> "8")).get(BatchSize) == 8)
  }

  test("the seed's names are accepted, below ours in the same source") {
    assert(ConfResolver(options = Map("tantivy.batch.size" -> "5")).get(BatchSize) == 5)
    assert(ConfResolver(session = Map("tantivy.batch.size" -> "6")).get(BatchSize) == 6)
    assert(ConfResolver(session = Map("spark.tantivy.batch.size" -> "7")).get(BatchSize) == 7)
    assert(ConfResolver(table = Map("tantivy.batch.size" -> "8")).get(BatchSize) == 8)
    assert(ConfResolver(options = Map("tantivy.batch.size" -> "5", "needle.write.batchSize" -> "50"))
      .get(BatchSize) == 50)
    // A seed name in a higher source beats our name in a lower one.
    assert(ConfResolver(options = Map("tantivy.batch.size" -> "5"), table = Map("needle.write.batchSize" -> "50"))
      .get(BatchSize) == 5)
    assert(ConfResolver(options = Map("tantivy.base.path" -> "/data/work")).get(WorkDir).contains("/data/work"))
    assert(ConfResolver(options = Map("tantivy.jni.memory.max" -> "2g")).get(IndexingMemory) == (2L << 30))
    assert(ConfResolver(options = Map("tantivy.segment.size" -> "128MB")).get(TargetSplitSize) == (128L << 20))
    assert(ConfResolver(options = Map("tantivy.cache.size" -> "1g")).get(CacheSize) == (1L << 30))
  }

  test("a bad value is an error naming its key, source and what is expected; no silent fallback") {
    val e = errorOf(ConfResolver(Map.empty, Map("spark.needle.write.batchSize" -> "lots"),
      Map("needle.write.batchSize" -> "3")).get(BatchSize))
    assert(e.errorId == ErrorId.InvalidConfValue)
    assert(e.getMessage.contains("Invalid value 'lots' for spark.needle.write.batchSize (from session conf spark.needle.write.batchSize)"))
    assert(e.getMessage.contains("expected an integer from 1 to 1000000"))
    assert(e.sqlState == "22023")
    assert(errorOf(ConfResolver(table = Map("needle.indexing.memory" -> "512k")).get(IndexingMemory))
      .getMessage.contains("table property needle.indexing.memory"))
    errorOf(ConfResolver(options = Map("needle.write.batchSize" -> "0")).get(BatchSize))
    errorOf(ConfResolver(options = Map("needle.log.checkpointInterval" -> "-1")).get(LogCheckpointInterval))
  }

  test("byte sizes") {
    assert(ByteSize.parse("1048576").contains(1048576L))
    assert(ByteSize.parse("128m").contains(128L << 20))
    assert(ByteSize.parse("128MB").contains(128L << 20))
    assert(ByteSize.parse(" 2 GiB ").contains(2L << 30))
    assert(ByteSize.parse("512k").contains(512L << 10))
    assert(ByteSize.parse("1t").contains(1L << 40))
    assert(ByteSize.parse("7b").contains(7L))
    for (bad <- Seq("", "m", "-1m", "1.5g", "12 parsecs", "99999999999999999999", "8388608t")) {
      assert(ByteSize.parse(bad).isEmpty, bad)
    }
    assert(ByteSize.format(128L << 20) == "128m" && ByteSize.format(1000) == "1000" && ByteSize.format(0) == "0")
  }

  test("validate: unknown needle keys are errors with a suggestion; other keys are not ours") {
    val e = errorOf(ConfResolver(options = Map("needle.write.batchSise" -> "5")).validate())
    assert(e.errorId == ErrorId.UnknownConf)
    assert(e.getMessage.contains("Unknown needle setting needle.write.batchSise (from option needle.write.batchSise); did you mean needle.write.batchSize?"))
    val s = errorOf(ConfResolver(session = Map("spark.needle.read.cachesize2" -> "5")).validate())
    assert(s.getMessage.contains("did you mean spark.needle.read.cacheSize?"))
    val far = errorOf(ConfResolver(table = Map("needle.completely.different" -> "x")).validate())
    assert(!far.getMessage.contains("did you mean"))
    ConfResolver(
      options = Map("path" -> "/x", "mode" -> "append", "NEEDLE.WRITE.BATCHSIZE" -> "3"),
      session = Map("spark.sql.shuffle.partitions" -> "4", "spark.needle.log.checkpointInterval" -> "5"),
      table = Map("owner" -> "me", "needle.read.cacheSize" -> "1g", "needle.field.body.type" -> "text")).validate()
    // validate also parses every known key.
    assert(errorOf(ConfResolver(table = Map("needle.read.cacheSize" -> "big")).validate()).errorId ==
      ErrorId.InvalidConfValue)
  }

  test("field options: every option, per column, with precedence per option") {
    val r = ConfResolver(
      options = Map("needle.field.body.tokenizer" -> "standard", "needle.field.body.type" -> "TEXT"),
      session = Map("spark.needle.field.body.tokenizer" -> "whitespace", "spark.needle.field.host.stored" -> "false"),
      table = Map("needle.field.body.record" -> "freq", "needle.field.host.type" -> "string",
        "needle.field.host.stored" -> "true", "needle.field.payload.user.fast" -> "TRUE",
        "needle.field.Payload.type" -> "json"))
    val f = r.fieldOptions(Seq("body", "host", "payload", "payload.user", "other"))
    assert(f("body") == FieldOptions(fieldType = Some("text"), tokenizer = Some("standard"), record = Some("freq")))
    assert(f("host") == FieldOptions(fieldType = Some("string"), stored = Some(false)))
    assert(f("payload.user") == FieldOptions(fast = Some(true)))
    assert(f("payload") == FieldOptions(fieldType = Some("json")))
    assert(!f.contains("other"))
  }

  test("field options: bad values, unknown options and unknown columns are errors") {
    val cols = Seq("body", "host")
    val t = errorOf(ConfResolver(options = Map("needle.field.body.type" -> "keyword")).fieldOptions(cols))
    assert(t.errorId == ErrorId.InvalidConfValue && t.getMessage.contains("expected text | string | json"))
    val r = errorOf(ConfResolver(options = Map("needle.field.body.record" -> "positions")).fieldOptions(cols))
    assert(r.getMessage.contains("expected basic | freq | position"))
    val s = errorOf(ConfResolver(table = Map("needle.field.host.stored" -> "yes")).fieldOptions(cols))
    assert(s.getMessage.contains("expected true | false") && s.getMessage.contains("table property"))
    assert(errorOf(ConfResolver(options = Map("needle.field.body.tokenizer" -> " ")).fieldOptions(cols))
      .errorId == ErrorId.InvalidConfValue)
    val u = errorOf(ConfResolver(options = Map("needle.field.body.boost" -> "2")).fieldOptions(cols))
    assert(u.errorId == ErrorId.UnknownConf)
    val c = errorOf(ConfResolver(options = Map("needle.field.bodyy.type" -> "text")).fieldOptions(cols))
    assert(c.errorId == ErrorId.FieldOptionUnknownColumn)
    assert(c.getMessage.contains("names column bodyy, which the table does not have (columns: body, host)"))
    assert(c.sqlState == "42703")
    // Case-sensitive column matching when asked for.
    val cs = new ConfResolver(Map("needle.field.Body.type" -> "text"), Map.empty, Map.empty, caseSensitiveColumns = true)
    assert(errorOf(cs.fieldOptions(cols)).errorId == ErrorId.FieldOptionUnknownColumn)
  }

  test("every entry is documented in docs/configuration.md with its seed name") {
    val doc = new java.io.File("../docs/configuration.md")
    assume(doc.exists(), "run from spark/")
    val text = new String(java.nio.file.Files.readAllBytes(doc.toPath), "UTF-8")
    NeedleConf.all.foreach { e =>
      assert(text.contains(s"`${e.key}`"), e.key)
      assert(text.contains(s"`${e.sessionKey}`"), e.sessionKey)
      e.seedKey.foreach(s => assert(text.contains(s"`$s`"), s))
    }
    NeedleConf.FieldOptionNames.foreach(o => assert(text.contains(s"needle.field.<column>.$o"), o))
  }
}
