// io.needle.NativeLibrary
#include "io_needle_NativeLibrary.h"
#include "java_classes.h"

using namespace needle;
using namespace needle::jni;

extern "C" {

JNIEXPORT jint JNICALL Java_io_needle_NativeLibrary_abiVersion(JNIEnv*, jclass) { return kAbiVersion; }

JNIEXPORT jstring JNICALL Java_io_needle_NativeLibrary_errorCodeName(JNIEnv* env, jclass, jint code) {
  return guarded(env, jstring{nullptr}, [&] {
    return to_jstring(env, error_code_name(static_cast<ErrorCode>(code)));
  });
}

}  // extern "C"
