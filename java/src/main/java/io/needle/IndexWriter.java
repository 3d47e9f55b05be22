package io.needle;

import java.util.Objects;
import org.apache.arrow.c.ArrowArray;
import org.apache.arrow.c.ArrowSchema;
import org.apache.arrow.c.Data;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * Writes an index folder: add documents (JSON or Arrow batches), delete, commit, then bundle the
 * committed index into a {@code .split} with {@link #writeSplit(String)}. Methods are
 * synchronized: one thread at a time (the engine indexes on {@code numThreads} threads of its
 * own). Closing discards whatever was not committed.
 */
public final class IndexWriter extends NativeHandle {
  private final String dir;

  private IndexWriter(String dir, long handle) {
    super("IndexWriter(" + dir + ")", handle, NativeIndexWriter::free);
    this.dir = dir;
  }

  /** A new index in {@code dir} (created if missing; it must not already hold an index). */
  public static IndexWriter create(String dir, Schema schema, IndexWriterOptions options) {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(schema, "schema");
    long[] opts = (options == null ? IndexWriterOptions.defaults() : options).toNative();
    return new IndexWriter(dir, NativeIndexWriter.create(dir, schema.toJson(), opts));
  }

  public static IndexWriter create(String dir, Schema schema) {
    return create(dir, schema, null);
  }

  /** Opens the index in {@code dir} to add to it. */
  public static IndexWriter open(String dir, IndexWriterOptions options) {
    Objects.requireNonNull(dir, "dir");
    long[] opts = (options == null ? IndexWriterOptions.defaults() : options).toNative();
    return new IndexWriter(dir, NativeIndexWriter.open(dir, opts));
  }

  public String directory() {
    return dir;
  }

  public synchronized Schema schema() {
    return withHandle(h -> Schema.fromJson(NativeIndexWriter.schemaJson(h)));
  }

  /**
   * Adds one JSON document (one object; docs/format/schema.md). Returns its opstamp. A document
   * that does not fit the schema throws NeedleException(DOCUMENT) and is not added.
   */
  public synchronized long addDocumentJson(String json) {
    return withHandle(h -> NativeIndexWriter.addDocumentJson(h, json));
  }

  /**
   * Adds one document per non-blank line of {@code ndjson}, all or nothing (the error names the
   * line). Returns how many were added.
   */
  public synchronized long addDocumentsJson(String ndjson) {
    return withHandle(h -> NativeIndexWriter.addDocumentsJson(h, ndjson));
  }

  /**
   * Adds the rows of a record batch exported through the Arrow C Data Interface (a struct array
   * whose children are the columns), all or nothing. Columns map to the fields of the same name
   * (jni/README.md has the accepted Arrow types per field type); other columns are ignored unless
   * {@link IndexWriterOptions#rejectUnknownColumns}. A column whose type does not fit its field
   * throws NeedleException(DOCUMENT) naming the column.
   *
   * <p>Ownership of the exported data passes to this call: both structures are released (their
   * release callbacks called) whatever happens, also when this writer is closed. The memory of
   * the two structures themselves stays the caller's.
   *
   * @return the number of rows added
   */
  public synchronized long addArrowBatch(long arrowArrayAddress, long arrowSchemaAddress) {
    long h;
    try {
      h = acquire();
    } catch (IllegalStateException e) {
      releaseExported(arrowArrayAddress, arrowSchemaAddress);
      throw e;
    }
    try {
      return NativeIndexWriter.addArrowBatch(h, arrowArrayAddress, arrowSchemaAddress);
    } finally {
      release();
    }
  }

  /** Exports {@code root} through the C Data Interface and adds its rows (see addArrowBatch). */
  public long addBatch(VectorSchemaRoot root) {
    return addBatch(root, ArrowSupport.defaultAllocator());
  }

  public long addBatch(VectorSchemaRoot root, BufferAllocator allocator) {
    Objects.requireNonNull(root, "root");
    try (ArrowArray array = ArrowArray.allocateNew(allocator);
        ArrowSchema schema = ArrowSchema.allocateNew(allocator)) {
      Data.exportVectorSchemaRoot(allocator, root, null, array, schema);
      return addArrowBatch(array.memoryAddress(), schema.memoryAddress());
    }
  }

  /**
   * Deletes every document added before this call whose field has this value. For text fields
   * {@code value} is one token as the analyzer produced it; other types take the text form of a
   * value (as in queries: numbers, RFC 3339, IPs, base64). Visible after the next commit.
   */
  public synchronized long deleteTerm(String field, String value) {
    return withHandle(h -> NativeIndexWriter.deleteTerm(h, field, value));
  }

  /** Deletes every document added before this call that matches {@code query}. */
  public synchronized long deleteQuery(String query, QueryOptions options) {
    QueryOptions o = options == null ? new QueryOptions() : options;
    return withHandle(h -> NativeIndexWriter.deleteQuery(h, query, o.defaultFieldsArray(), o.conjunction()));
  }

  /** Makes everything added and deleted so far durable and visible. Returns its opstamp. */
  public synchronized long commit() {
    return withHandle(h -> NativeIndexWriter.commit(h));
  }

  /** Merges all segments into one (dropping deleted documents) and commits. */
  public synchronized void forceMerge() {
    runWithHandle(h -> NativeIndexWriter.forceMerge(h));
  }

  /** Forgets everything since the last commit. */
  public synchronized void rollback() {
    runWithHandle(h -> NativeIndexWriter.rollback(h));
  }

  /**
   * Bundles the last commit (not what was added since) into a split at {@code path}, written
   * atomically. Returns the split's metadata JSON.
   */
  public synchronized String writeSplit(String path) {
    return withHandle(h -> NativeIndexWriter.writeSplit(h, path));
  }

  /** Documents alive in the last commit. */
  public synchronized long numDocs() {
    return withHandle(h -> NativeIndexWriter.numDocs(h));
  }

  private static void releaseExported(long arrayAddress, long schemaAddress) {
    if (arrayAddress != 0) {
      ArrowArray.wrap(arrayAddress).release();
    }
    if (schemaAddress != 0) {
      ArrowSchema.wrap(schemaAddress).release();
    }
  }
}
