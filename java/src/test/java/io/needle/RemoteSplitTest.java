package io.needle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Splits read through a Java RangeFetcher (the object-storage path). */
class RemoteSplitTest {
  @TempDir Path tmp;

  static final class BytesFetcher implements RangeFetcher {
    final byte[] data;
    final AtomicInteger calls = new AtomicInteger();
    volatile boolean fail;
    volatile boolean shortRead;

    BytesFetcher(byte[] data) {
      this.data = data;
    }

    @Override
    public void fetch(long offset, ByteBuffer dst) throws IOException {
      calls.incrementAndGet();
      if (fail) {
        throw new IOException("object store unavailable");
      }
      int n = dst.remaining() - (shortRead ? 1 : 0);
      dst.put(data, (int) offset, n);
    }
  }

  @Test
  void searchThroughAFetcher() throws IOException {
    Path path = SplitFixtures.writeSplit(tmp, SplitFixtures.ALL_TYPES_SCHEMA, SplitFixtures.ALL_TYPES_DOCS);
    byte[] bytes = Files.readAllBytes(path);
    long footerOffset;
    long footerLength;
    try (Split local = Split.open(path.toString())) {
      footerOffset = local.footerOffset();
      footerLength = local.footerLength();
    }
    BytesFetcher fetcher = new BytesFetcher(bytes);
    SplitOpenOptions opts = new SplitOpenOptions().name("mem://events.split").verifyChecksums(false)
        .footerHint(footerOffset, footerLength);
    try (Split s = Split.open(fetcher, bytes.length, opts); Searcher searcher = s.newSearcher()) {
      assertEquals(1, fetcher.calls.get(), "a hinted open is one read");
      assertEquals(3, s.numDocs());
      // the first stored-document read goes to the fetcher: make it fail, then short, then work
      fetcher.fail = true;
      NeedleException e = assertThrows(NeedleException.class, () -> searcher.documentJson(1));
      assertEquals(ErrorCode.IO, e.code());
      assertTrue(e.getCause() instanceof IOException, String.valueOf(e.getCause()));
      assertTrue(e.getMessage().contains("mem://events.split") && e.getMessage().contains("object store unavailable"),
          e.getMessage());
      fetcher.fail = false;
      fetcher.shortRead = true;
      assertEquals(ErrorCode.IO, assertThrows(NeedleException.class, () -> searcher.documentJson(1)).code());
      fetcher.shortRead = false;
      assertTrue(searcher.documentJson(1).contains("powershell"));
      assertEquals(2, searcher.count("disk"));
      assertTrue(s.uncachedReads() > 0);
      assertTrue(fetcher.calls.get() > 1);
    }
    // verified open without a hint
    try (Split s = Split.open(new BytesFetcher(bytes), bytes.length)) {
      assertEquals(3, s.numDocs());
    }
    // a fetcher that fails at open, and a corrupt remote split
    BytesFetcher broken = new BytesFetcher(bytes);
    broken.fail = true;
    assertEquals(ErrorCode.IO, assertThrows(NeedleException.class, () -> Split.open(broken, bytes.length)).code());
    byte[] bad = bytes.clone();
    bad[bad.length / 2] ^= 1;
    assertEquals(ErrorCode.CORRUPT,
        assertThrows(NeedleException.class, () -> Split.open(new BytesFetcher(bad), bad.length)).code());
    // a size larger than the object: the fetcher throws an unchecked exception
    assertEquals(ErrorCode.IO, assertThrows(NeedleException.class,
        () -> Split.open(new BytesFetcher(bytes), bytes.length + 100)).code());
  }
}
