package io.needle.spark.write

import java.io.{ObjectInputStream, ObjectOutputStream}

import org.apache.hadoop.conf.Configuration
import org.apache.spark.sql.types.StructType

import io.needle.spark.schema.TablePlan

/** A Hadoop configuration that travels to executors (Configuration is Writable, not
  * Serializable). */
final class SerializableConf(@transient var value: Configuration) extends Serializable {
  private def writeObject(out: ObjectOutputStream): Unit = {
    out.defaultWriteObject()
    value.write(out)
  }

  private def readObject(in: ObjectInputStream): Unit = {
    in.defaultReadObject()
    value = new Configuration(false)
    value.readFields(in)
  }
}

/** Everything a write task needs, resolved on the driver. */
final case class WriteSpec(
    /** The table folder, qualified (`file:/...`, `hdfs://...`). */
    tablePath: String,
    /** A random id of this write, part of every split file name it makes, so that an aborted
      * write can find the files of tasks whose results never reached the driver. */
    writeId: String,
    /** The needle schema every split is built with (the log's, canonical). */
    needleSchemaJson: String,
    plan: TablePlan,
    /** The schema of the rows the tasks receive. */
    inputSchema: StructType,
    /** `needle.write.batchSize`: rows per Arrow batch. */
    batchSize: Int,
    /** `needle.indexing.memory`: the native writer's budget, bytes. */
    memoryBytes: Long,
    /** `needle.write.targetSplitSize`, bytes of input (Arrow) data per split. */
    targetSplitSize: Long,
    /** `needle.workDir`, or None for `<spark.local.dir>/needle`. */
    workDir: Option[String],
    hadoopConf: SerializableConf) {

  /** Positions in the input row of the data columns, in `plan.columns` order. */
  val dataOrdinals: Array[Int] = plan.columns.map(c => inputSchema.fieldIndex(c.name)).toArray

  /** Positions in the input row of the partition columns, in partition order. */
  val partitionOrdinals: Array[Int] = plan.partitionColumns.map(inputSchema.fieldIndex).toArray

  /** Whether input rows can go to Spark's ArrowWriter as they are. */
  val rowsAsIs: Boolean = partitionOrdinals.isEmpty && !plan.columns.exists(_.convertsOnWrite) &&
    dataOrdinals.sameElements(dataOrdinals.indices)
}
