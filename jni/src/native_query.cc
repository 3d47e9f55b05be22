// io.needle.NativeQuery
#include "io_needle_NativeQuery.h"
#include "handles.h"
#include "java_classes.h"

using namespace needle;
using namespace needle::jni;

extern "C" {

JNIEXPORT jstring JNICALL Java_io_needle_NativeQuery_describe(JNIEnv* env, jclass, jlong handle) {
  return guarded(env, jstring{nullptr}, [&] {
    auto& q = from_handle<QueryHandle>(handle, "query");
    Schema schema = Schema::from_json(q.schema_json);
    return to_jstring(env, to_string(*q.query, schema));
  });
}

JNIEXPORT void JNICALL Java_io_needle_NativeQuery_free(JNIEnv* env, jclass, jlong handle) {
  guarded_void(env, [&] { delete reinterpret_cast<QueryHandle*>(static_cast<intptr_t>(handle)); });
}

}  // extern "C"
