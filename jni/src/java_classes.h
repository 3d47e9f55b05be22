// Everything the bridge knows about Java: the classes and methods it calls (looked up once in
// JNI_OnLoad), the one helper that throws NeedleException, string conversion, thread attachment
// for callbacks, and `guarded`, which every native entry point wraps its body in so that no C++
// exception ever reaches the JVM.
#pragma once

#include <jni.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "needle/common/error.h"

namespace needle::jni {

// Bumped whenever a native signature changes; the Java loader refuses a library whose number
// differs from NativeLibrary.EXPECTED_ABI (a stale NEEDLE_NATIVE_LIB_PATH, for example).
inline constexpr jint kAbiVersion = 1;

// Thrown in C++ when a Java exception is already pending: the entry point returns and the JVM
// raises it.
struct JavaExceptionPending {};

// A global reference that is deleted from whichever thread drops the last owner.
class GlobalRef {
 public:
  GlobalRef(JNIEnv* env, jobject obj);
  ~GlobalRef();
  GlobalRef(const GlobalRef&) = delete;
  GlobalRef& operator=(const GlobalRef&) = delete;
  jobject get() const { return ref_; }

 private:
  jobject ref_;
};

// An error raised by Java code called from the engine (a RangeFetcher). It travels through the
// engine as Error(kIo) and becomes a NeedleException(IO) whose cause is the Java exception.
class JavaCallbackError : public Error {
 public:
  JavaCallbackError(const std::string& message, std::shared_ptr<GlobalRef> throwable)
      : Error(ErrorCode::kIo, message), throwable_(std::move(throwable)) {}
  jthrowable throwable() const { return throwable_ ? static_cast<jthrowable>(throwable_->get()) : nullptr; }

 private:
  std::shared_ptr<GlobalRef> throwable_;
};

// The JNIEnv of the calling thread; attaches the thread (as a daemon, detached when it ends) if
// the JVM does not know it. Throws Error(kInternal) if that fails.
JNIEnv* current_env();

// The single place that raises needle.NeedleException(code, message, cause).
void throw_needle_exception(JNIEnv* env, ErrorCode code, std::string_view message, jthrowable cause = nullptr);

// Java strings are UTF-16; the engine speaks UTF-8. These convert exactly (surrogate pairs, NUL),
// unlike GetStringUTFChars/NewStringUTF, which use "modified UTF-8". Invalid sequences become
// U+FFFD. A null jstring throws Error(kInvalidArgument) naming `what`.
std::string to_utf8(JNIEnv* env, jstring s, std::string_view what);
jstring to_jstring(JNIEnv* env, std::string_view utf8);
// A String[] (null: empty) to UTF-8 strings; null elements throw kInvalidArgument.
std::vector<std::string> to_utf8_array(JNIEnv* env, jobjectArray arr, std::string_view what);
jobjectArray to_jstring_array(JNIEnv* env, const std::vector<std::string>& strings);
jlongArray to_jlong_array(JNIEnv* env, const std::vector<int64_t>& values);

// Calls fetcher.fetch(offset, ByteBuffer over out) (io.needle.RangeFetcher); a Java exception or
// a buffer left unfilled throws (JavaCallbackError or Error(kIo)).
void call_range_fetcher(jobject fetcher, uint64_t offset, std::span<uint8_t> out, const std::string& name);

// Converts the exception in flight (called inside a catch block) into a pending Java exception.
void rethrow_as_java(JNIEnv* env) noexcept;

// Runs `body`; any C++ exception becomes a pending NeedleException and `fallback` is returned.
template <class R, class F>
R guarded(JNIEnv* env, R fallback, F&& body) noexcept {
  try {
    return body();
  } catch (...) {
    rethrow_as_java(env);
  }
  return fallback;
}

template <class F>
void guarded_void(JNIEnv* env, F&& body) noexcept {
  try {
    body();
  } catch (...) {
    rethrow_as_java(env);
  }
}

// Handles are heap pointers owned by a Java object; 0 means closed (the Java side never passes
// it, but a bad handle must not crash).
template <class T>
T& from_handle(jlong handle, std::string_view what) {
  if (handle == 0) throw_error(ErrorCode::kInvalidArgument, std::string(what) + " is closed");
  return *reinterpret_cast<T*>(static_cast<intptr_t>(handle));
}

template <class T>
jlong to_handle(T* p) {
  return static_cast<jlong>(reinterpret_cast<intptr_t>(p));
}

}  // namespace needle::jni
