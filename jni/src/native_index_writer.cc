// io.needle.NativeIndexWriter
#include "io_needle_NativeIndexWriter.h"

#include "arrow_import.h"
#include "handles.h"
#include "java_classes.h"
#include "needle/search/query.h"
#include "needle/search/searcher.h"

using namespace needle;
using namespace needle::jni;

namespace {

// The layout of IndexWriterOptions.toNative() (java/src/main/java/io/needle/IndexWriterOptions.java).
enum Opt {
  kMemoryBudget, kThreads, kCompression, kZstdLevel, kBlockSize, kMergeEnabled, kMergeFactor,
  kMinMergeSegments, kMinLevelDocs, kRejectUnknownColumns, kNumOpts
};

struct ParsedOptions {
  IndexWriterOptions writer;
  bool reject_unknown_columns = false;
};

ParsedOptions parse_options(JNIEnv* env, jlongArray arr) {
  if (arr == nullptr || env->GetArrayLength(arr) != kNumOpts) {
    throw_error(ErrorCode::kInvalidArgument, "index writer options: expected " + std::to_string(kNumOpts) + " values");
  }
  jlong v[kNumOpts];
  env->GetLongArrayRegion(arr, 0, kNumOpts, v);
  if (env->ExceptionCheck()) throw JavaExceptionPending{};
  auto bad = [](const std::string& what) { throw_error(ErrorCode::kInvalidArgument, "index writer options: " + what); };
  ParsedOptions p;
  if (v[kThreads] < 1 || v[kThreads] > 256) bad("numThreads must be 1..256");
  if (v[kMemoryBudget] < (v[kThreads] << 20)) bad("memoryBudgetBytes must be at least 1 MiB per thread");
  if (v[kCompression] < 0 || v[kCompression] > 2) bad("unknown compression");
  if (v[kZstdLevel] < 1 || v[kZstdLevel] > 22) bad("zstdLevel must be 1..22");
  if (v[kBlockSize] < 1024 || v[kBlockSize] > (1 << 24)) bad("storeBlockSize must be 1 KiB..16 MiB");
  if (v[kMergeFactor] < 2 || v[kMinMergeSegments] < 2 || v[kMinLevelDocs] < 0 || v[kMergeFactor] > 1000 ||
      v[kMinMergeSegments] > 1000 || v[kMinLevelDocs] > UINT32_MAX) {
    bad("merge policy values out of range");
  }
  p.writer.memory_budget_bytes = static_cast<size_t>(v[kMemoryBudget]);
  p.writer.num_threads = static_cast<unsigned>(v[kThreads]);
  p.writer.segment.store_compression = static_cast<Compression>(v[kCompression]);
  p.writer.segment.zstd_level = static_cast<int>(v[kZstdLevel]);
  p.writer.segment.store_block_size = static_cast<size_t>(v[kBlockSize]);
  p.writer.merge_policy.enabled = v[kMergeEnabled] != 0;
  p.writer.merge_policy.merge_factor = static_cast<uint32_t>(v[kMergeFactor]);
  p.writer.merge_policy.min_merge_segments = static_cast<uint32_t>(v[kMinMergeSegments]);
  p.writer.merge_policy.min_level_docs = static_cast<uint32_t>(v[kMinLevelDocs]);
  p.reject_unknown_columns = v[kRejectUnknownColumns] != 0;
  return p;
}

jlong make_handle(std::string path, std::shared_ptr<Directory> dir, std::unique_ptr<IndexWriter> writer,
                  bool reject_unknown) {
  auto h = std::make_unique<WriterHandle>();
  h->path = std::move(path);
  h->dir = std::move(dir);
  h->writer = std::move(writer);
  h->schema = h->writer->schema();
  h->parser = std::make_unique<DocumentParser>(h->schema);
  h->reject_unknown_columns = reject_unknown;
  return to_handle(h.release());
}

// Validates all documents first, so a batch is added whole or not at all.
uint64_t add_all(WriterHandle& h, std::vector<Document>& docs, const char* unit) {
  for (size_t i = 0; i < docs.size(); ++i) {
    try {
      validate_document(h.schema, docs[i]);
    } catch (const Error& e) {
      throw Error(e.code(), std::string(unit) + " " + std::to_string(i) + ": " + e.what());
    }
  }
  for (auto& d : docs) h.writer->add_document(std::move(d));
  return docs.size();
}

WriterHandle& writer(jlong handle) { return from_handle<WriterHandle>(handle, "index writer"); }

}  // namespace

extern "C" {

JNIEXPORT jlong JNICALL Java_io_needle_NativeIndexWriter_create(JNIEnv* env, jclass, jstring dir, jstring schema_json,
                                                                jlongArray options) {
  return guarded(env, jlong{0}, [&] {
    std::string path = to_utf8(env, dir, "dir");
    Schema schema = Schema::from_json(to_utf8(env, schema_json, "schema JSON"));
    ParsedOptions opts = parse_options(env, options);
    std::shared_ptr<Directory> d = open_fs_directory(path, true);
    auto w = IndexWriter::create(d, schema, opts.writer);
    return make_handle(path, d, std::move(w), opts.reject_unknown_columns);
  });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeIndexWriter_open(JNIEnv* env, jclass, jstring dir, jlongArray options) {
  return guarded(env, jlong{0}, [&] {
    std::string path = to_utf8(env, dir, "dir");
    ParsedOptions opts = parse_options(env, options);
    std::shared_ptr<Directory> d = open_fs_directory(path, false);
    auto w = IndexWriter::open(d, opts.writer);
    return make_handle(path, d, std::move(w), opts.reject_unknown_columns);
  });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeIndexWriter_addDocumentJson(JNIEnv* env, jclass, jlong handle, jstring json) {
  return guarded(env, jlong{0}, [&] {
    WriterHandle& h = writer(handle);
    Document doc = h.parser->parse(to_utf8(env, json, "document JSON"));
    return static_cast<jlong>(h.writer->add_document(std::move(doc)));
  });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeIndexWriter_addDocumentsJson(JNIEnv* env, jclass, jlong handle,
                                                                          jstring ndjson) {
  return guarded(env, jlong{0}, [&] {
    WriterHandle& h = writer(handle);
    std::string text = to_utf8(env, ndjson, "documents");
    std::vector<Document> docs;
    size_t line_no = 0;
    for (size_t pos = 0; pos < text.size();) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      std::string_view line(text.data() + pos, end - pos);
      ++line_no;
      pos = end + 1;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      try {
        docs.push_back(h.parser->parse(line));
      } catch (const Error& e) {
        throw Error(e.code(), "line " + std::to_string(line_no) + ": " + e.what());
      }
    }
    return static_cast<jlong>(add_all(h, docs, "document"));
  });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeIndexWriter_addArrowBatch(JNIEnv* env, jclass, jlong handle,
                                                                       jlong array_address, jlong schema_address) {
  auto* array = reinterpret_cast<ArrowArray*>(static_cast<intptr_t>(array_address));
  auto* schema = reinterpret_cast<ArrowSchema*>(static_cast<intptr_t>(schema_address));
  return guarded(env, jlong{0}, [&] {
    ArrowReleaser release(schema, array);  // the consumer releases, whatever happens
    if (array == nullptr || schema == nullptr) throw_error(ErrorCode::kInvalidArgument, "arrow batch: null address");
    WriterHandle& h = writer(handle);
    ArrowImportOptions opts;
    opts.reject_unknown_columns = h.reject_unknown_columns;
    std::vector<Document> docs = documents_from_arrow(h.schema, *schema, *array, opts);
    return static_cast<jlong>(add_all(h, docs, "arrow row"));
  });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeIndexWriter_deleteTerm(JNIEnv* env, jclass, jlong handle, jstring field,
                                                                    jstring value) {
  return guarded(env, jlong{0}, [&] {
    WriterHandle& h = writer(handle);
    std::string name = to_utf8(env, field, "field");
    std::string text = to_utf8(env, value, "value");
    const FieldEntry* f = h.schema.find(name);
    if (f == nullptr) throw_error(ErrorCode::kInvalidArgument, "deleteTerm: no field '" + name + "' in the schema");
    std::string term;
    if (f->type == FieldType::kText || f->type == FieldType::kString) {
      term = text;  // the term as indexed (for text fields: one token as the analyzer produced it)
    } else {
      try {
        term = encode_term_value(f->type, parse_value_text(f->type, text, f->name));
      } catch (const Error& e) {
        throw Error(ErrorCode::kInvalidArgument, std::string("deleteTerm: ") + e.what());
      }
    }
    return static_cast<jlong>(h.writer->delete_term(f->id, std::move(term)));
  });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeIndexWriter_deleteQuery(JNIEnv* env, jclass, jlong handle, jstring query,
                                                                     jobjectArray default_fields, jboolean conjunction) {
  return guarded(env, jlong{0}, [&] {
    WriterHandle& h = writer(handle);
    QueryOptions qo;
    qo.default_fields = to_utf8_array(env, default_fields, "defaultFields");
    qo.default_conjunction = conjunction == JNI_TRUE;
    const Schema& schema = h.schema;
    auto analyzers = analyzers_for(schema);
    QueryPtr q = parse_and_build(to_utf8(env, query, "query"), schema, *analyzers, qo);
    return static_cast<jlong>(h.writer->delete_matching(make_doc_matcher(q, schema)));
  });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeIndexWriter_commit(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, jlong{0}, [&] { return static_cast<jlong>(writer(handle).writer->commit()); });
}

JNIEXPORT void JNICALL Java_io_needle_NativeIndexWriter_forceMerge(JNIEnv* env, jclass, jlong handle) {
  guarded_void(env, [&] { writer(handle).writer->force_merge(); });
}

JNIEXPORT void JNICALL Java_io_needle_NativeIndexWriter_rollback(JNIEnv* env, jclass, jlong handle) {
  guarded_void(env, [&] { writer(handle).writer->rollback(); });
}

JNIEXPORT jstring JNICALL Java_io_needle_NativeIndexWriter_writeSplit(JNIEnv* env, jclass, jlong handle, jstring path) {
  return guarded(env, jstring{nullptr}, [&] {
    WriterHandle& h = writer(handle);
    return to_jstring(env, write_split(*h.dir, to_utf8(env, path, "split path")));
  });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeIndexWriter_numDocs(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, jlong{0}, [&] { return static_cast<jlong>(writer(handle).writer->committed().num_docs()); });
}

JNIEXPORT jstring JNICALL Java_io_needle_NativeIndexWriter_schemaJson(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, jstring{nullptr}, [&] { return to_jstring(env, writer(handle).writer->schema().to_json()); });
}

JNIEXPORT void JNICALL Java_io_needle_NativeIndexWriter_free(JNIEnv* env, jclass, jlong handle) {
  guarded_void(env, [&] { delete reinterpret_cast<WriterHandle*>(static_cast<intptr_t>(handle)); });
}

}  // extern "C"
