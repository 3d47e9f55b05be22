package io.needle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConcurrencyTest {
  @TempDir Path tmp;

  static Path bigSplit(Path tmp, int docs) {
    StringBuilder nd = new StringBuilder();
    for (int i = 0; i < docs; i++) {
      nd.append("{\"body\":\"event ").append(i % 7 == 0 ? "disk " : "").append(i % 3 == 0 ? "error " : "")
          .append("number ").append(i).append("\",\"n\":").append(i).append(",\"tag\":\"t").append(i % 10)
          .append("\"}\n");
    }
    Path split = tmp.resolve("big.split");
    try (IndexWriter w = IndexWriter.create(tmp.resolve("idx").toString(), Schema.fromJson(SplitFixtures.ALL_TYPES_SCHEMA),
        IndexWriterOptions.defaults().numThreads(1))) {
      w.addDocumentsJson(nd.toString());
      w.commit();
      w.writeSplit(split.toString());
    }
    return split;
  }

  @Test
  void fourThreadsSearchOneSearcher() throws Exception {
    Path split = bigSplit(tmp, 5000);
    String[] queries = {"disk", "error", "disk AND error", "n:[100 TO 200]", "tag:t3 OR tag:t4", "number"};
    try (Split s = Split.open(split.toString()); Searcher searcher = s.newSearcher();
        BufferAllocator allocator = new RootAllocator()) {
      long[] counts = new long[queries.length];
      List<List<Hit>> tops = new ArrayList<>();
      for (int i = 0; i < queries.length; i++) {
        counts[i] = searcher.count(queries[i]);
        tops.add(searcher.search(queries[i], 20));
      }
      assertEquals(715, counts[0]);
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<Integer>> futures = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        final int seed = t;
        futures.add(pool.submit(() -> {
          int checks = 0;
          for (int it = 0; it < 150; it++) {
            int qi = (seed + it) % queries.length;
            assertEquals(counts[qi], searcher.count(queries[qi]));
            assertEquals(tops.get(qi), searcher.search(queries[qi], 20));
            if (it % 10 == 0) {
              try (ArrowSearchResult r = searcher.searchToArrow(queries[qi], Searcher.ALL_MATCHES,
                  new String[] {"_doc", "n", "body"}, new ArrowSearchOptions().allocator(allocator).batchSize(1000))) {
                long rows = 0;
                while (r.loadNextBatch()) {
                  BigIntVector n = (BigIntVector) r.getRoot().getVector("n");
                  BigIntVector doc = (BigIntVector) r.getRoot().getVector("_doc");
                  for (int i = 0; i < r.getRoot().getRowCount(); i++) {
                    assertEquals(doc.get(i), n.get(i));  // one thread, one segment: address == n
                  }
                  rows += r.getRoot().getRowCount();
                }
                assertEquals(counts[qi], rows);
              }
            }
            checks++;
          }
          return checks;
        }));
      }
      try {
        for (Future<Integer> f : futures) {
          assertEquals(150, f.get(60, TimeUnit.SECONDS));
        }
      } finally {
        pool.shutdownNow();
        pool.awaitTermination(60, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void closingWhileOthersSearchNeverCrashes() throws Exception {
    Path split = bigSplit(tmp, 2000);
    for (int round = 0; round < 5; round++) {
      Split s = Split.open(split.toString());
      Searcher searcher = s.newSearcher();
      AtomicInteger closedSeen = new AtomicInteger();
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        futures.add(pool.submit(() -> {
          for (int i = 0; i < 2000; i++) {
            try {
              searcher.search("error OR disk", 10);
            } catch (IllegalStateException e) {
              closedSeen.incrementAndGet();
              return;
            }
          }
        }));
      }
      Thread.sleep(5 + round * 5);
      searcher.close();
      s.close();
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
      pool.shutdown();
      assertTrue(searcher.isClosed());
    }
  }
}
