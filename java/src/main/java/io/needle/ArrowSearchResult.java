package io.needle;

import org.apache.arrow.c.ArrowArray;
import org.apache.arrow.c.ArrowSchema;
import org.apache.arrow.c.Data;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The hits of one search as Arrow record batches, read like an ArrowReader: one
 * {@link VectorSchemaRoot} that each {@link #loadNextBatch()} refills. Batches cross the JNI
 * boundary through the Arrow C Data Interface without copies. Columns: the requested stored fields
 * (text/string/ip: utf8, i64: int64, u64: uint64, f64: float64, bool: bool, timestamp:
 * timestamp[us, tz=UTC], bytes: binary; list&lt;T&gt; when asked), {@code _score} (float32) and
 * {@code _doc} (int64, the document address). Not thread-safe. Close it to free the batches.
 */
public final class ArrowSearchResult implements AutoCloseable {
  private static final class Cursor extends NativeHandle {
    Cursor(long handle) {
      super("ArrowSearchResult", handle, NativeArrowCursor::free);
    }

    long pin() {
      return acquire();
    }

    void unpin() {
      release();
    }
  }

  private final Cursor cursor;
  private final BufferAllocator allocator;
  private final VectorSchemaRoot root;
  private final long totalHits;

  ArrowSearchResult(long cursorHandle, BufferAllocator allocator) {
    this.cursor = new Cursor(cursorHandle);
    this.allocator = allocator;
    VectorSchemaRoot r = null;
    long total;
    try {
      long h = cursor.pin();
      try (ArrowSchema schema = ArrowSchema.allocateNew(allocator)) {
        NativeArrowCursor.exportSchema(h, schema.memoryAddress());
        Schema arrowSchema = Data.importSchema(allocator, schema, null);
        r = VectorSchemaRoot.create(arrowSchema, allocator);
        total = NativeArrowCursor.totalHits(h);
      } finally {
        cursor.unpin();
      }
    } catch (RuntimeException | Error e) {
      if (r != null) {
        r.close();
      }
      cursor.close();
      throw e;
    }
    this.root = r;
    this.totalHits = total;
  }

  /** The Arrow schema of the batches. */
  public Schema getSchema() {
    return root.getSchema();
  }

  /** The root the batches are loaded into (its row count is the current batch's). */
  public VectorSchemaRoot getRoot() {
    return root;
  }

  /** How many hits the search returned (the rows of all batches together). */
  public long totalHits() {
    return totalHits;
  }

  /** Loads the next batch into {@link #getRoot()}; false (and an empty root) at the end. */
  public boolean loadNextBatch() {
    long h = cursor.pin();
    try (ArrowArray array = ArrowArray.allocateNew(allocator)) {
      int rows = NativeArrowCursor.nextBatch(h, array.memoryAddress());
      if (rows == 0) {
        root.setRowCount(0);
        return false;
      }
      Data.importIntoVectorSchemaRoot(allocator, array, root, null);
      return true;
    } finally {
      cursor.unpin();
    }
  }

  @Override
  public void close() {
    if (!cursor.isClosed()) {
      root.close();
    }
    cursor.close();
  }
}
