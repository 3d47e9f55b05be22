// io.needle.NativeSearcher
#include "io_needle_NativeSearcher.h"

#include <algorithm>
#include <cstring>

#include "handles.h"
#include "java_classes.h"

using namespace needle;
using namespace needle::jni;

namespace {

const SearcherState& searcher(jlong handle) {
  const SearcherHandle& h = from_handle<SearcherHandle>(handle, "searcher");
  return *h;
}

// The query of `query_handle`, checked to belong to a searcher with the same schema (field ids
// and encodings mean nothing under another schema).
const Query& query_for(const SearcherState& s, jlong query_handle) {
  const QueryHandle& q = from_handle<QueryHandle>(query_handle, "query");
  if (q.schema_json != s.schema_json) {
    throw_error(ErrorCode::kInvalidArgument, "the query was parsed against another schema than this searcher's");
  }
  return *q.query;
}

}  // namespace

extern "C" {

JNIEXPORT jlong JNICALL Java_io_needle_NativeSearcher_create(JNIEnv* env, jclass, jlong split_handle, jfloat k1,
                                                             jfloat b) {
  return guarded(env, jlong{0}, [&] {
    const SplitHandle& split = from_handle<SplitHandle>(split_handle, "split");
    if (!(k1 >= 0.0f && k1 <= 1000.0f)) throw_error(ErrorCode::kInvalidArgument, "BM25 k1 must be in [0, 1000]");
    if (!(b >= 0.0f && b <= 1.0f)) throw_error(ErrorCode::kInvalidArgument, "BM25 b must be in [0, 1]");
    Bm25Params params;
    params.k1 = k1;
    params.b = b;
    auto state = std::make_shared<const SearcherState>(split, params);
    return to_handle(new SearcherHandle(std::move(state)));
  });
}

JNIEXPORT jstring JNICALL Java_io_needle_NativeSearcher_schemaJson(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, jstring{nullptr}, [&] { return to_jstring(env, searcher(handle).schema_json); });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeSearcher_numDocs(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, jlong{0}, [&] { return static_cast<jlong>(searcher(handle).searcher.num_docs()); });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeSearcher_parse(JNIEnv* env, jclass, jlong handle, jstring query,
                                                            jobjectArray default_fields, jboolean conjunction) {
  return guarded(env, jlong{0}, [&] {
    const SearcherState& s = searcher(handle);
    QueryOptions qo;
    qo.default_fields = to_utf8_array(env, default_fields, "defaultFields");
    qo.default_conjunction = conjunction == JNI_TRUE;
    auto q = std::make_unique<QueryHandle>();
    q->query = s.searcher.parse(to_utf8(env, query, "query"), qo);
    q->schema_json = s.schema_json;
    return to_handle(q.release());
  });
}

JNIEXPORT jlongArray JNICALL Java_io_needle_NativeSearcher_search(JNIEnv* env, jclass, jlong handle, jlong query_handle,
                                                                  jint limit, jboolean with_count) {
  return guarded(env, jlongArray{nullptr}, [&] {
    const SearcherState& s = searcher(handle);
    const Query& q = query_for(s, query_handle);
    if (limit < 0) throw_error(ErrorCode::kInvalidArgument, "limit must not be negative");
    SearchResult r;
    if (with_count == JNI_TRUE) {
      r = s.searcher.top_k_with_count(q, static_cast<size_t>(limit));
    } else {
      r.hits = s.searcher.top_k(q, static_cast<size_t>(limit));
    }
    std::vector<int64_t> out;
    out.reserve(2 + 3 * r.hits.size());
    out.push_back(with_count == JNI_TRUE ? static_cast<int64_t>(r.count) : -1);
    out.push_back(static_cast<int64_t>(r.hits.size()));
    for (const Hit& h : r.hits) {
      uint32_t bits;
      static_assert(sizeof(bits) == sizeof(h.score));
      std::memcpy(&bits, &h.score, sizeof(bits));
      out.push_back(static_cast<int64_t>(h.global_doc));
      out.push_back(static_cast<int64_t>((static_cast<uint64_t>(h.segment) << 32) | h.doc));
      out.push_back(static_cast<int64_t>(bits));
    }
    return to_jlong_array(env, out);
  });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeSearcher_count(JNIEnv* env, jclass, jlong handle, jlong query_handle) {
  return guarded(env, jlong{0}, [&] {
    const SearcherState& s = searcher(handle);
    return static_cast<jlong>(s.searcher.count(query_for(s, query_handle)));
  });
}

JNIEXPORT jstring JNICALL Java_io_needle_NativeSearcher_documentJson(JNIEnv* env, jclass, jlong handle,
                                                                     jlong doc_address) {
  return guarded(env, jstring{nullptr}, [&] {
    const SearcherState& s = searcher(handle);
    const auto& bases = s.segment_bases;
    auto it = std::upper_bound(bases.begin(), bases.end(), static_cast<uint64_t>(doc_address));
    if (doc_address < 0 || it == bases.begin()) {
      throw_error(ErrorCode::kInvalidArgument, "no document at address " + std::to_string(doc_address));
    }
    Hit hit;
    hit.segment = static_cast<uint32_t>(it - bases.begin() - 1);
    uint64_t within = static_cast<uint64_t>(doc_address) - bases[hit.segment];
    if (within >= s.split->segments()[hit.segment]->max_doc()) {
      throw_error(ErrorCode::kInvalidArgument, "no document at address " + std::to_string(doc_address));
    }
    hit.doc = static_cast<uint32_t>(within);
    hit.global_doc = static_cast<uint64_t>(doc_address);
    return to_jstring(env, stored_to_json(s.searcher.schema(), s.searcher.doc(hit)));
  });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeSearcher_openArrowCursor(JNIEnv* env, jclass, jlong handle,
                                                                      jlong query_handle, jint limit,
                                                                      jobjectArray columns, jbooleanArray lists,
                                                                      jint batch_size) {
  return guarded(env, jlong{0}, [&] {
    const SearcherHandle& sh = from_handle<SearcherHandle>(handle, "searcher");
    const SearcherState& s = *sh;
    const Query& q = query_for(s, query_handle);
    if (batch_size < 1 || batch_size > (1 << 24)) throw_error(ErrorCode::kInvalidArgument, "batch size must be 1..2^24");
    std::vector<std::string> names = to_utf8_array(env, columns, "columns");
    std::vector<bool> list_flags;
    if (lists != nullptr) {
      const jsize n = env->GetArrayLength(lists);
      std::vector<jboolean> raw(static_cast<size_t>(n));
      if (n > 0) env->GetBooleanArrayRegion(lists, 0, n, raw.data());
      if (env->ExceptionCheck()) throw JavaExceptionPending{};
      for (jboolean b : raw) list_flags.push_back(b == JNI_TRUE);
    }
    auto cursor = std::make_unique<ArrowCursorHandle>();
    cursor->searcher = sh;
    cursor->columns = resolve_columns(s.searcher.schema(), names, list_flags);
    cursor->batch_size = static_cast<size_t>(batch_size);
    for (const auto& c : cursor->columns) {
      if (c.source == ExportColumn::Source::kField) cursor->needs_documents = true;
    }
    if (limit >= 0) {
      cursor->hits = s.searcher.top_k(q, static_cast<size_t>(limit));
    } else {
      s.searcher.for_each(q, [&](const Hit& h) { cursor->hits.push_back(h); });
    }
    return to_handle(cursor.release());
  });
}

JNIEXPORT void JNICALL Java_io_needle_NativeSearcher_free(JNIEnv* env, jclass, jlong handle) {
  guarded_void(env, [&] { delete reinterpret_cast<SearcherHandle*>(static_cast<intptr_t>(handle)); });
}

}  // extern "C"
