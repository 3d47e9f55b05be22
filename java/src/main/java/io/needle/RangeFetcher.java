package io.needle;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Reads byte ranges of a remote split (object storage, HTTP, a cache). Called by the native engine
 * from the thread that runs the search (or opens the split), possibly from several threads at
 * once: implementations must be thread-safe.
 */
@FunctionalInterface
public interface RangeFetcher {
  /**
   * Fills {@code dst} from its position to its limit with the bytes of the object starting at
   * {@code offset}. {@code dst} is a direct buffer over native memory, valid only during the call.
   * A buffer left with bytes remaining, or any exception, fails the operation with a
   * {@link NeedleException} of code {@link ErrorCode#IO} whose cause is the exception.
   */
  void fetch(long offset, ByteBuffer dst) throws IOException;
}
