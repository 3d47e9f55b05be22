// io.needle.NativeSplit
#include "io_needle_NativeSplit.h"

#include "handles.h"
#include "java_classes.h"

using namespace needle;
using namespace needle::jni;

namespace {

Split& split(jlong handle) {
  SplitHandle& h = from_handle<SplitHandle>(handle, "split");
  return *h;
}

}  // namespace

extern "C" {

JNIEXPORT jlong JNICALL Java_io_needle_NativeSplit_openFile(JNIEnv* env, jclass, jstring path, jboolean verify) {
  return guarded(env, jlong{0}, [&] {
    OpenOptions opts;
    opts.verify_checksums = verify == JNI_TRUE;
    auto s = Split::open_file(to_utf8(env, path, "split path"), opts);
    return to_handle(new SplitHandle(std::move(s)));
  });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeSplit_openRemote(JNIEnv* env, jclass, jobject fetcher, jlong size,
                                                              jstring name, jboolean verify, jlong footer_offset,
                                                              jlong footer_length) {
  return guarded(env, jlong{0}, [&] {
    if (fetcher == nullptr) throw_error(ErrorCode::kInvalidArgument, "fetcher must not be null");
    if (size < 0) throw_error(ErrorCode::kInvalidArgument, "split size must not be negative");
    std::string reader_name = to_utf8(env, name, "name");
    auto ref = std::make_shared<GlobalRef>(env, fetcher);
    FetchFn fetch = [ref, reader_name](uint64_t offset, std::span<uint8_t> out) {
      call_range_fetcher(ref->get(), offset, out, reader_name);
    };
    auto reader = callback_reader(static_cast<uint64_t>(size), std::move(fetch), reader_name);
    OpenOptions opts;
    opts.verify_checksums = verify == JNI_TRUE;
    std::optional<SplitFooterHint> hint;
    if (footer_length > 0 && footer_offset >= 0) {
      hint = SplitFooterHint{static_cast<uint64_t>(footer_offset), static_cast<uint64_t>(footer_length)};
    }
    auto s = Split::open(std::move(reader), opts, hint);
    return to_handle(new SplitHandle(std::move(s)));
  });
}

JNIEXPORT jstring JNICALL Java_io_needle_NativeSplit_metadataJson(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, jstring{nullptr}, [&] { return to_jstring(env, split(handle).metadata_json()); });
}

JNIEXPORT jstring JNICALL Java_io_needle_NativeSplit_schemaJson(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, jstring{nullptr}, [&] { return to_jstring(env, split(handle).schema().to_json()); });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeSplit_numDocs(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, jlong{0}, [&] { return static_cast<jlong>(split(handle).num_docs()); });
}

JNIEXPORT jlongArray JNICALL Java_io_needle_NativeSplit_footer(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, jlongArray{nullptr}, [&] {
    SplitFooterHint f = split(handle).footer();
    return to_jlong_array(env, {static_cast<int64_t>(f.offset), static_cast<int64_t>(f.length)});
  });
}

JNIEXPORT jlong JNICALL Java_io_needle_NativeSplit_uncachedReads(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, jlong{0}, [&] { return static_cast<jlong>(split(handle).uncached_reads()); });
}

JNIEXPORT void JNICALL Java_io_needle_NativeSplit_free(JNIEnv* env, jclass, jlong handle) {
  guarded_void(env, [&] { delete reinterpret_cast<SplitHandle*>(static_cast<intptr_t>(handle)); });
}

}  // extern "C"
