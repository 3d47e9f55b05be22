package io.needle.spark.errors

import org.scalatest.funsuite.AnyFunSuite

class NeedleErrorsSuite extends AnyFunSuite {

  test("the JSON catalog and ErrorId.all name the same ids") {
    assert(NeedleErrors.catalog.keySet == ErrorId.all.map(_.name).toSet)
  }

  test("every condition has a SQLSTATE, a NEEDLE_ id and a message saying what to do") {
    NeedleErrors.catalog.values.foreach { c =>
      assert(c.id.matches("NEEDLE_[A-Z0-9_]+"), c.id)
      assert(c.sqlState.matches("[0-9A-Z]{5}"), s"${c.id}: ${c.sqlState}")
      assert(c.template.split("(?<=[.?!])\\s+").length >= 2, s"${c.id}: say what went wrong and what to do")
    }
    ErrorId.all.filter(_.name.startsWith("NEEDLE_CONCURRENT_")).foreach { id =>
      assert(NeedleErrors.condition(id).sqlState == "40001", id)
    }
  }

  test("messages: [ID] text SQLSTATE: xxxxx, parameters substituted, $ and \\ kept literally") {
    val e = NeedleErrors.error(ErrorId.TableNotFound, "table" -> "/t/$1\\x", "logPath" -> "/t/_needle_log")
    assert(e.getMessage ==
      "[NEEDLE_TABLE_NOT_FOUND] There is no needle table at /t/$1\\x: /t/_needle_log holds no commit. " +
        "Check the path, or create the table first. SQLSTATE: 42P01")
    assert(e.errorId == ErrorId.TableNotFound && e.sqlState == "42P01")
    assert(e.messageParameters == Map("table" -> "/t/$1\\x", "logPath" -> "/t/_needle_log"))
    assert(e.getCause == null)
    val cause = new java.io.IOException("x")
    assert(NeedleErrors.error(ErrorId.LogIo, cause, "action" -> "a", "table" -> "t", "cause" -> "c").getCause eq cause)
  }

  test("needle errors are SparkThrowables whose condition is the id") {
    val e: Throwable = NeedleErrors.error(ErrorId.InvalidQuery, "query" -> "a AND", "table" -> "t", "cause" -> "at 5")
    e match {
      case t: org.apache.spark.SparkThrowable =>
        assert(t.getCondition == "NEEDLE_INVALID_QUERY" && t.getSqlState == NeedleErrors.condition(ErrorId.InvalidQuery).sqlState)
        assert(t.getMessageParameters.get("query") == "a AND" && !t.isInternalError)
        assert(t.getDefaultMessageTemplate == NeedleErrors.condition(ErrorId.InvalidQuery).template)
      case other => fail(s"not a SparkThrowable: $other")
    }
  }

  test("a missing parameter is a programming error") {
    intercept[IllegalArgumentException](NeedleErrors.error(ErrorId.TableNotFound, "table" -> "/t"))
  }

  test("conflicts are NeedleConcurrentModificationException") {
    val e = NeedleErrors.conflict(ErrorId.ConcurrentAddAdd, "table" -> "t", "readVersion" -> 1,
      "winningVersion" -> 2, "path" -> "p")
    assert(e.isInstanceOf[NeedleConcurrentModificationException] && e.isInstanceOf[NeedleException])
    assert(e.getMessage.contains("version 2, which added the same file p"))
  }

  test("every placeholder of every template can be filled") {
    NeedleErrors.catalog.values.foreach { c =>
      val params = c.parameters.map(p => p -> s"{$p}").toMap
      val msg = NeedleErrors.message(ErrorId.all.find(_.name == c.id).get, params)
      assert(!msg.matches(".*<[A-Za-z][A-Za-z0-9_]*>.*"), msg)
    }
  }
}
