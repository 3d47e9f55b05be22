package io.needle.spark.read

import java.util.concurrent.atomic.AtomicLong

import scala.util.control.NonFatal

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.FSDataInputStream

import io.needle.{Searcher, Split}

/** One opened split and its searcher, shared by the read tasks of an executor. Handed out by
  * [[SplitCache.acquire]]; give it back with [[SplitCache.release]], never close it. */
final class OpenSplit private[read] (
    val key: String,
    val split: Split,
    val searcher: Searcher,
    input: Option[FSDataInputStream],
    val cost: Long) {
  private[read] var refs = 0
  private[read] var cached = false

  private[read] def close(): Unit = {
    try searcher.close() catch { case NonFatal(_) => () }
    try split.close() catch { case NonFatal(_) => () }
    input.foreach(in => try in.close() catch { case NonFatal(_) => () })
  }
}

/** The per-executor (per-JVM) cache of opened splits (`needle.read.cacheSize`): a split's footer
  * and hot cache are read and parsed once, and later tasks on the same split search at once.
  * Least recently used splits are dropped when the footers held pass the size; a split still in
  * use by a task is closed when that task gives it back. A size of 0 turns the cache off (every
  * task opens and closes its split). Split files never change (a path names one file forever),
  * so entries need no invalidation. */
object SplitCache {
  private val entries = new java.util.LinkedHashMap[String, OpenSplit](16, 0.75f, true)
  private var held = 0L

  private val opened = new AtomicLong()
  private val hits = new AtomicLong()

  /** Splits opened and cache hits since the JVM started (for tests and metrics). */
  def openCount: Long = opened.get()
  def hitCount: Long = hits.get()

  def acquire(
      path: String,
      size: Long,
      footerOffset: Long,
      footerLength: Long,
      capacity: Long,
      hadoopConf: => Configuration): OpenSplit = {
    val key = s"$path#$size#$footerOffset"
    if (capacity <= 0) { // off: this task's own split, closed when it is given back
      val own = open(key, path, size, footerOffset, footerLength, hadoopConf)
      synchronized(own.refs = 1)
      return own
    }
    val found = synchronized {
      Option(entries.get(key)).map { e =>
        e.refs += 1
        e
      }
    }
    found match {
      case Some(e) =>
        hits.incrementAndGet()
        e
      case None =>
        // Opened outside the lock: other tasks go on using the cache meanwhile.
        val fresh = open(key, path, size, footerOffset, footerLength, hadoopConf)
        synchronized {
          Option(entries.get(key)) match {
            case Some(e) => // another task opened it meanwhile: use that one
              e.refs += 1
              fresh.close()
              e
            case None =>
              fresh.refs = 1
              if (fresh.cost <= capacity) {
                fresh.cached = true
                entries.put(key, fresh)
                held += fresh.cost
                evict(capacity)
              }
              fresh
          }
        }
    }
  }

  def release(e: OpenSplit): Unit = {
    val close = synchronized {
      e.refs -= 1
      e.refs == 0 && !e.cached
    }
    if (close) e.close()
  }

  /** Drops every entry (those in use close when given back). */
  def clear(): Unit = synchronized {
    evict(-1)
  }

  private def evict(capacity: Long): Unit = {
    val it = entries.values().iterator() // least recently used first
    while (held > capacity && it.hasNext) {
      val e = it.next()
      it.remove()
      held -= e.cost
      e.cached = false
      if (e.refs == 0) e.close()
    }
  }

  private def open(
      key: String,
      path: String,
      size: Long,
      footerOffset: Long,
      footerLength: Long,
      hadoopConf: Configuration): OpenSplit = {
    val (split, input) = SplitFiles.open(path, size, footerOffset, footerLength, hadoopConf)
    try {
      val searcher = split.newSearcher()
      opened.incrementAndGet()
      new OpenSplit(key, split, searcher, input, math.max(footerLength, 1L))
    } catch {
      case NonFatal(e) =>
        split.close()
        input.foreach(_.close())
        throw e
    }
  }
}
