package io.needle;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/** The allocator used when the caller gives none (for C Data Interface structs and results). */
final class ArrowSupport {
  private ArrowSupport() {}

  private static final class Holder {
    static final BufferAllocator ALLOCATOR = new RootAllocator(Long.MAX_VALUE);
  }

  static BufferAllocator defaultAllocator() {
    return Holder.ALLOCATOR;
  }
}
