package needlebench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.core.WhitespaceAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.queryparser.classic.ParseException;
import org.apache.lucene.queryparser.classic.QueryParser;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TopScoreDocCollectorManager;
import org.apache.lucene.search.TotalHits;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.search.similarities.Similarity;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.Version;

/**
 * Lucene side of the needle benchmark (bench/game).
 *
 * <pre>
 * java -jar lucene-bench.jar index INDEX_DIR &lt; corpus.jsonl
 *     Reads {"id","text"} JSON values from stdin, indexes "text" with the WhitespaceAnalyzer
 *     (the corpus is already lower-cased with every non-letter replaced by a space, so splitting
 *     at spaces gives the same tokens as needle's and Tantivy's default tokenizer), positions
 *     recorded, "id" stored. THREADS (default 1) indexing threads call addDocument while the main
 *     thread parses JSON; MEMORY_MB (default 1024) is the RAM buffer. Ends with forceMerge(1).
 * java -jar lucene-bench.jar serve INDEX_DIR
 *     One line COMMAND&lt;TAB&gt;query in, one line out. Classic QueryParser on "text", default
 *     operator OR, BM25(k1=0.9, b=0.4), query cache off. COUNT and TOP_n_COUNT print the exact
 *     number of matches; TOP_n prints 1; anything else UNSUPPORTED.
 * java -jar lucene-bench.jar version
 * </pre>
 */
public final class LuceneBench {
  private static final List<Document> END = new ArrayList<>();
  private static final int BATCH = 64;

  public static void main(String[] args) throws Exception {
    if (args.length == 2 && args[0].equals("index")) {
      index(Paths.get(args[1]));
    } else if (args.length == 2 && args[0].equals("serve")) {
      serve(Paths.get(args[1]));
    } else if (args.length == 1 && args[0].equals("version")) {
      System.out.println("lucene " + Version.LATEST);
    } else {
      System.err.println(
          "usage: lucene-bench index INDEX_DIR < corpus.jsonl | lucene-bench serve INDEX_DIR | lucene-bench version");
      System.exit(2);
    }
  }

  private static Similarity similarity() {
    return new BM25Similarity(0.9f, 0.4f);
  }

  private static Analyzer analyzer() {
    return new WhitespaceAnalyzer();
  }

  private static int envInt(String name, int dflt) {
    String v = System.getenv(name);
    if (v == null || v.isBlank()) return dflt;
    return Integer.parseInt(v.trim());
  }

  private static void index(Path dir) throws Exception {
    int threads = Math.max(1, envInt("THREADS", 1));
    int memoryMb = envInt("MEMORY_MB", 1024);
    Files.createDirectories(dir);
    IndexWriterConfig cfg = new IndexWriterConfig(analyzer());
    cfg.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
    cfg.setSimilarity(similarity());
    cfg.setRAMBufferSizeMB(memoryMb);
    long t0 = System.nanoTime();
    long docs = 0;
    try (Directory d = FSDirectory.open(dir);
        IndexWriter writer = new IndexWriter(d, cfg)) {
      BlockingQueue<List<Document>> queue = new ArrayBlockingQueue<>(4 * threads);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      List<Thread> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Thread w =
            new Thread(
                () -> {
                  try {
                    for (List<Document> batch = queue.take(); batch != END; batch = queue.take()) {
                      for (Document doc : batch) writer.addDocument(doc);
                    }
                  } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                  }
                },
                "indexer-" + t);
        w.start();
        workers.add(w);
      }
      JsonFactory json = new JsonFactory();
      try (JsonParser p = json.createParser(new BufferedInputStream(System.in, 1 << 20))) {
        List<Document> batch = new ArrayList<>(BATCH);
        JsonToken tok;
        while ((tok = p.nextToken()) != null) {
          if (tok != JsonToken.START_OBJECT) throw new IOException("expected a JSON object per line, found " + tok);
          String id = null, text = null;
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            if (name.equals("id")) id = p.getValueAsString();
            else if (name.equals("text")) text = p.getValueAsString();
            else if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) p.skipChildren();
          }
          Document doc = new Document();
          if (id != null) doc.add(new StoredField("id", id));
          doc.add(new TextField("text", text == null ? "" : text, Field.Store.NO));
          batch.add(doc);
          docs++;
          if (batch.size() == BATCH) {
            queue.put(batch);
            batch = new ArrayList<>(BATCH);
          }
          if (failure.get() != null) break;
        }
        if (!batch.isEmpty()) queue.put(batch);
      }
      for (int t = 0; t < threads; t++) queue.put(END);
      for (Thread w : workers) w.join();
      if (failure.get() != null) throw new RuntimeException("indexing thread failed", failure.get());
      writer.commit();
      double indexed = (System.nanoTime() - t0) / 1e9;
      writer.forceMerge(1, true);
      writer.commit();
      System.err.printf(
          "lucene-bench index: %d documents in %.2f s (indexed+committed %.2f s), merged into %d segment(s)%n",
          docs, (System.nanoTime() - t0) / 1e9, indexed, SegmentInfos.readLatestCommit(d).size());
    }
  }

  private static void serve(Path dir) throws Exception {
    try (Directory d = FSDirectory.open(dir);
        DirectoryReader reader = DirectoryReader.open(d)) {
      IndexSearcher searcher = new IndexSearcher(reader);
      searcher.setSimilarity(similarity());
      searcher.setQueryCache(null);
      QueryParser parser = new QueryParser("text", analyzer());
      parser.setDefaultOperator(QueryParser.Operator.OR);
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null) {
        out.write(answer(searcher, parser, line));
        out.write('\n');
        out.flush();
      }
    }
  }

  private static String answer(IndexSearcher searcher, QueryParser parser, String line) throws IOException {
    int tab = line.indexOf('\t');
    if (tab < 0) return "UNSUPPORTED";
    String cmd = line.substring(0, tab);
    int k;
    boolean count;
    switch (cmd) {
      case "COUNT": k = 0; count = true; break;
      case "TOP_10": k = 10; count = false; break;
      case "TOP_100": k = 100; count = false; break;
      case "TOP_1000": k = 1000; count = false; break;
      case "TOP_10_COUNT": k = 10; count = true; break;
      case "TOP_100_COUNT": k = 100; count = true; break;
      case "TOP_1000_COUNT": k = 1000; count = true; break;
      default: return "UNSUPPORTED";
    }
    Query query;
    try {
      query = parser.parse(line.substring(tab + 1));
    } catch (ParseException e) {
      return "UNSUPPORTED";
    }
    if (k == 0) return Long.toString(searcher.count(query));
    if (!count) {
      searcher.search(query, k);
      return "1";
    }
    // Exact total: never stop counting early.
    TopDocs top = searcher.search(query, new TopScoreDocCollectorManager(k, null, Integer.MAX_VALUE));
    if (top.totalHits.relation != TotalHits.Relation.EQUAL_TO) throw new IllegalStateException("inexact count");
    return Long.toString(top.totalHits.value);
  }
}
