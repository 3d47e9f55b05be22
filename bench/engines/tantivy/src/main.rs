//! Tantivy side of the needle benchmark (bench/game).
//!
//! tantivy-bench index INDEX_DIR < corpus.jsonl
//!     Reads {"id","text"} JSON lines, indexes `text` with Tantivy's default tokenizer (positions,
//!     no stemming) and stores `id`. Threads and memory budget come from the environment
//!     (THREADS, default 1; MEMORY_MB, default 1024, the total for all threads). Ends with one
//!     segment: commit, wait for background merges, merge every segment into one, wait again.
//!
//! tantivy-bench serve INDEX_DIR
//!     One line `COMMAND<TAB>query` in, one line out (flushed). COUNT and TOP_n_COUNT print the
//!     exact number of matching documents, TOP_n prints 1, anything else UNSUPPORTED. Queries go
//!     through Tantivy's QueryParser on the field `text`, bare terms combined with OR.

use std::env;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::time::Instant;

use serde::Deserialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::QueryParser;
use tantivy::schema::{document::Value, Schema, STORED, TEXT};
use tantivy::{Index, IndexWriter, TantivyDocument};

#[derive(Deserialize)]
struct InputDoc {
    id: serde_json::Value,
    text: String,
}

fn env_usize(name: &str, default: usize) -> usize {
    match env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("tantivy-bench: {name} must be a number, not '{v}'");
            std::process::exit(2)
        }),
        _ => default,
    }
}

fn index(dir: &Path) -> tantivy::Result<()> {
    let threads = env_usize("THREADS", 1).max(1);
    let memory_mb = env_usize("MEMORY_MB", 1024);
    let mut builder = Schema::builder();
    let id_field = builder.add_text_field("id", STORED);
    let text_field = builder.add_text_field("text", TEXT);
    let schema = builder.build();
    std::fs::create_dir_all(dir)?;
    let index = Index::create_in_dir(dir, schema)?;
    let t0 = Instant::now();
    let mut writer: IndexWriter = index.writer_with_num_threads(threads, memory_mb << 20)?;
    let stdin = io::stdin();
    let mut input = BufReader::with_capacity(1 << 20, stdin.lock());
    let mut line = String::new();
    let (mut docs, mut bytes, mut line_no) = (0u64, 0u64, 0u64);
    loop {
        line.clear();
        let n = input.read_line(&mut line)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        bytes += n as u64;
        if line.trim().is_empty() {
            continue;
        }
        let d: InputDoc = serde_json::from_str(&line).unwrap_or_else(|e| {
            eprintln!("tantivy-bench: line {line_no}: {e}");
            std::process::exit(1)
        });
        let id = match d.id {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        let mut doc = TantivyDocument::default();
        doc.add_text(id_field, id);
        doc.add_text(text_field, d.text);
        writer.add_document(doc)?;
        docs += 1;
    }
    writer.commit()?;
    let indexed = t0.elapsed().as_secs_f64();
    // Background merges started by the default merge policy must finish before we can merge
    // everything: wait for them, then merge what is left into a single segment.
    writer.wait_merging_threads()?;
    let segments = index.searchable_segment_ids()?;
    let merged_from = segments.len();
    if segments.len() > 1 {
        let mut writer: IndexWriter = index.writer_with_num_threads(threads, memory_mb << 20)?;
        writer.merge(&segments).wait()?;
        writer.wait_merging_threads()?;
    }
    let remaining = index.searchable_segment_ids()?.len();
    eprintln!(
        "tantivy-bench index: {docs} documents, {:.1} MB in {:.2} s (indexed+committed {:.2} s), {merged_from} segments merged into {remaining}",
        bytes as f64 / 1e6,
        t0.elapsed().as_secs_f64(),
        indexed
    );
    Ok(())
}

fn serve(dir: &Path) -> tantivy::Result<()> {
    let index = Index::open_in_dir(dir)?;
    let text_field = index.schema().get_field("text")?;
    let id_field = index.schema().get_field("id")?;
    let reader = index.reader()?;
    let searcher = reader.searcher();
    // Conjunction by default stays off: `a b` means a OR b, as in needle and Lucene.
    let parser = QueryParser::for_index(&index, vec![text_field]);
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for line in stdin.lock().lines() {
        let line = line?;
        let answer = match line.split_once('\t') {
            None => "UNSUPPORTED".to_string(),
            // Not part of the benchmark protocol: the top 10 as JSON [[id, score], ...], for
            // bench/game/compare_top.py.
            Some(("DEBUG_TOP_10_IDS", text)) => match parser.parse_query(text) {
                Err(_) => "UNSUPPORTED".to_string(),
                Ok(q) => {
                    let top = searcher.search(&q, &TopDocs::with_limit(10).order_by_score())?;
                    let mut hits = Vec::new();
                    for (score, addr) in top {
                        let doc: TantivyDocument = searcher.doc(addr)?;
                        let id = doc.get_first(id_field).and_then(|v| v.as_str()).unwrap_or("").to_string();
                        hits.push(serde_json::json!([id, score]));
                    }
                    serde_json::Value::Array(hits).to_string()
                }
            },
            Some((cmd, text)) => {
                let (k, count) = match cmd {
                    "COUNT" => (0, true),
                    "TOP_10" => (10, false),
                    "TOP_100" => (100, false),
                    "TOP_1000" => (1000, false),
                    "TOP_10_COUNT" => (10, true),
                    "TOP_100_COUNT" => (100, true),
                    "TOP_1000_COUNT" => (1000, true),
                    _ => (usize::MAX, false),
                };
                match (k, parser.parse_query(text)) {
                    (usize::MAX, _) | (_, Err(_)) => "UNSUPPORTED".to_string(),
                    (0, Ok(q)) => searcher.search(&q, &Count)?.to_string(),
                    (k, Ok(q)) if count => {
                        let (_top, n) = searcher.search(&q, &(TopDocs::with_limit(k).order_by_score(), Count))?;
                        n.to_string()
                    }
                    (k, Ok(q)) => {
                        let top = searcher.search(&q, &TopDocs::with_limit(k).order_by_score())?;
                        std::hint::black_box(top);
                        "1".to_string()
                    }
                }
            }
        };
        out.write_all(answer.as_bytes())?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = env::args().collect();
    let result = match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("index"), Some(dir)) if args.len() == 3 => index(Path::new(dir)),
        (Some("serve"), Some(dir)) if args.len() == 3 => serve(Path::new(dir)),
        (Some("version"), None) => {
            println!("{}", tantivy::version_string());
            Ok(())
        }
        _ => {
            eprintln!("usage: tantivy-bench index INDEX_DIR < corpus.jsonl | tantivy-bench serve INDEX_DIR | tantivy-bench version");
            std::process::exit(2)
        }
    };
    if let Err(e) = result {
        eprintln!("tantivy-bench: error: {e}");
        std::process::exit(1);
    }
}
