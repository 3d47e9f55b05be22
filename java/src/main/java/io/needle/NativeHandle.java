package io.needle;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;

/**
 * A Java object that owns one native object through a handle (a pointer as a long).
 *
 * <ul>
 *   <li>{@link #close()} is idempotent (compare-and-set) and waits for calls in flight on this
 *       object to return before it frees the native object; calls after close throw
 *       IllegalStateException, never touch freed memory.
 *   <li>A {@link Cleaner} frees the native object of an instance that became unreachable
 *       without close(): a leak guard only, not a way to manage resources.
 * </ul>
 *
 * <p>Every native call goes {@code long h = acquire(); try { ... } finally { release(); }}.
 */
abstract class NativeHandle implements AutoCloseable {
  private static final Cleaner CLEANER = Cleaner.create();

  private final String what;
  private final long handle;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final Cleaner.Cleanable cleanable;

  /** The releaser must not refer to the owning object, or it would never become unreachable. */
  private static final class Free implements Runnable {
    private final long handle;
    private final LongConsumer free;

    Free(long handle, LongConsumer free) {
      this.handle = handle;
      this.free = free;
    }

    @Override
    public void run() {
      free.accept(handle);
    }
  }

  NativeHandle(String what, long handle, LongConsumer free) {
    if (handle == 0) {
      throw new IllegalStateException("native " + what + " was not created");
    }
    this.what = what;
    this.handle = handle;
    this.cleanable = CLEANER.register(this, new Free(handle, free));
  }

  /** Pins the native object for one call; throws IllegalStateException once closed. */
  final long acquire() {
    lock.readLock().lock();
    if (closed.get()) {
      lock.readLock().unlock();
      throw new IllegalStateException(what + " is closed");
    }
    return handle;
  }

  final void release() {
    lock.readLock().unlock();
    // The object must stay reachable until the native call that used its handle has returned.
    Reference.reachabilityFence(this);
  }

  /** Runs {@code call} with the handle pinned (see acquire/release). */
  final <T> T withHandle(LongFunction<T> call) {
    long h = acquire();
    try {
      return call.apply(h);
    } finally {
      release();
    }
  }

  final void runWithHandle(LongConsumer call) {
    long h = acquire();
    try {
      call.accept(h);
    } finally {
      release();
    }
  }

  public final boolean isClosed() {
    return closed.get();
  }

  /** Frees the native object. Idempotent; safe to call from any thread. */
  @Override
  public void close() {
    if (lock.getReadHoldCount() > 0) {
      throw new IllegalStateException("cannot close a " + what + " from inside a call on it");
    }
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    lock.writeLock().lock();
    try {
      cleanable.clean();
    } finally {
      lock.writeLock().unlock();
    }
  }
}
