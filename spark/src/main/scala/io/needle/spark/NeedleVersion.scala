package io.needle.spark

import java.util.Properties

/** The connector's version, from the build (`needle-version.properties`). */
object NeedleVersion {

  /** e.g. `0.1.0` (a `-SNAPSHOT` suffix is kept: it tells a development build apart). */
  lazy val version: String = {
    val props = new Properties()
    val in = getClass.getResourceAsStream("/io/needle/spark/needle-version.properties")
    if (in != null) {
      try props.load(in)
      finally in.close()
    }
    Option(props.getProperty("version")).filterNot(_.startsWith("$")).getOrElse("unknown")
  }

  /** How this implementation names itself in the log's `commit_info.engine_version`. */
  def engineVersion: String = s"needle $version"
}
