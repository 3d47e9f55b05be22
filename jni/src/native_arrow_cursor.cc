// io.needle.NativeArrowCursor
#include "io_needle_NativeArrowCursor.h"

#include "handles.h"
#include "java_classes.h"

using namespace needle;
using namespace needle::jni;

namespace {

// A batch is cut when one column holds this much variable-length data (far below the 2 GiB that
// 32-bit Arrow offsets allow).
constexpr size_t kMaxBatchVarBytes = size_t{256} << 20;

ArrowCursorHandle& cursor(jlong handle) { return from_handle<ArrowCursorHandle>(handle, "arrow search result"); }

}  // namespace

extern "C" {

JNIEXPORT void JNICALL Java_io_needle_NativeArrowCursor_exportSchema(JNIEnv* env, jclass, jlong handle,
                                                                     jlong schema_address) {
  guarded_void(env, [&] {
    ArrowCursorHandle& c = cursor(handle);
    auto* out = reinterpret_cast<ArrowSchema*>(static_cast<intptr_t>(schema_address));
    if (out == nullptr) throw_error(ErrorCode::kInvalidArgument, "null ArrowSchema address");
    export_batch_schema(c.columns, out);
  });
}

JNIEXPORT jint JNICALL Java_io_needle_NativeArrowCursor_nextBatch(JNIEnv* env, jclass, jlong handle,
                                                                  jlong array_address) {
  return guarded(env, jint{0}, [&] {
    ArrowCursorHandle& c = cursor(handle);
    auto* out = reinterpret_cast<ArrowArray*>(static_cast<intptr_t>(array_address));
    if (out == nullptr) throw_error(ErrorCode::kInvalidArgument, "null ArrowArray address");
    if (c.next >= c.hits.size()) return jint{0};
    const Searcher& searcher = c.searcher->searcher;
    BatchBuilder batch(c.columns);
    size_t i = c.next;
    Document doc;
    while (i < c.hits.size() && static_cast<size_t>(batch.rows()) < c.batch_size && batch.var_bytes() < kMaxBatchVarBytes) {
      const Hit& hit = c.hits[i];
      if (c.needs_documents) doc = searcher.doc(hit);
      batch.add_row(hit, c.needs_documents ? &doc : nullptr);
      ++i;
    }
    const auto rows = static_cast<jint>(batch.rows());
    batch.finish(out);
    c.next = i;  // advanced only once the batch is complete
    return rows;
  });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeArrowCursor_totalHits(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, jlong{0}, [&] { return static_cast<jlong>(cursor(handle).hits.size()); });
}

JNIEXPORT void JNICALL Java_io_needle_NativeArrowCursor_free(JNIEnv* env, jclass, jlong handle) {
  guarded_void(env, [&] { delete reinterpret_cast<ArrowCursorHandle*>(static_cast<intptr_t>(handle)); });
}

}  // extern "C"
