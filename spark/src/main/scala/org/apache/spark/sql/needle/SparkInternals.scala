package org.apache.spark.sql.needle

import org.apache.arrow.memory.BufferAllocator
import org.apache.hadoop.conf.Configuration
import org.apache.arrow.vector.VectorSchemaRoot
import org.apache.arrow.vector.types.pojo.Schema

import org.apache.spark.SparkEnv
import org.apache.spark.sql.execution.arrow.ArrowWriter
import org.apache.spark.sql.types.StructType
import org.apache.spark.sql.util.ArrowUtils
import org.apache.spark.util.Utils

/** The few Spark internals the needle connector uses, in one place. They are `private[sql]` or
  * `private[spark]` in Spark, so this object lives in a package under `org.apache.spark.sql`;
  * everything else in the connector uses public APIs. When a Spark release moves one of them,
  * only this file changes (per Spark line, see pom.xml). */
object SparkInternals {

  /** Spark's Arrow root allocator (the one its own Arrow code uses). */
  def arrowRootAllocator: BufferAllocator = ArrowUtils.rootAllocator

  /** The Arrow schema Spark's ArrowWriter fills for `schema` (utf8/binary, not the large
    * variants; timestamps with zone `UTC`, which only labels the instants). */
  def toArrowSchema(schema: StructType): Schema =
    ArrowUtils.toArrowSchema(schema, "UTC", true, false)

  /** Spark's row-to-Arrow writer over `root`. */
  def arrowWriter(root: VectorSchemaRoot): ArrowWriter = ArrowWriter.create(root)

  /** The session's Hadoop configuration with `options` applied (as Spark's file sources do). */
  def hadoopConf(session: org.apache.spark.sql.SparkSession, options: Map[String, String]): Configuration =
    session.asInstanceOf[org.apache.spark.sql.classic.SparkSession].sessionState.newHadoopConfWithOptions(options)

  /** Whether strings of this type compare and equal by their UTF-8 bytes (collation
    * UTF8_BINARY, no trimming): then exact terms and term ranges mean what Spark means. */
  def isBinaryString(t: org.apache.spark.sql.types.StringType): Boolean = t.isUTF8BinaryCollation

  /** `schema` with every column (and nested field) nullable. */
  def asNullable(schema: StructType): StructType = schema.asNullable

  /** A local folder of this executor (or the driver) for temporary files: the first of
    * `spark.local.dir`. */
  def localDir(): String = {
    val env = SparkEnv.get
    if (env == null) System.getProperty("java.io.tmpdir") else Utils.getLocalDir(env.conf)
  }
}
