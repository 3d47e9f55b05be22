#include "java_classes.h"

#include <algorithm>
#include <new>

namespace needle::jni {
namespace {

struct JavaClasses {
  JavaVM* vm = nullptr;
  jclass needle_exception = nullptr;      // io.needle.NeedleException
  jmethodID needle_exception_ctor = nullptr;  // (int code, String message, Throwable cause)
  jclass range_fetcher = nullptr;         // io.needle.RangeFetcher
  jmethodID range_fetcher_fetch = nullptr;    // void fetch(long offset, ByteBuffer dst)
  jclass buffer = nullptr;                // java.nio.Buffer
  jmethodID buffer_remaining = nullptr;   // int remaining()
  jclass object = nullptr;                // java.lang.Object
  jmethodID object_to_string = nullptr;   // String toString()
  jclass string = nullptr;                // java.lang.String
};

JavaClasses g;

// Detaches, when the thread ends, a thread that current_env() attached.
struct ThreadDetacher {
  bool attached = false;
  ~ThreadDetacher() {
    if (attached && g.vm != nullptr) g.vm->DetachCurrentThread();
  }
};
thread_local ThreadDetacher t_detacher;

jclass global_class(JNIEnv* env, const char* name) {
  jclass local = env->FindClass(name);
  if (local == nullptr) return nullptr;
  auto global = static_cast<jclass>(env->NewGlobalRef(local));
  env->DeleteLocalRef(local);
  return global;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes one code point at s[i]; invalid or truncated sequences give U+FFFD and consume 1 byte.
uint32_t decode_utf8(std::string_view s, size_t& i) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  uint8_t b0 = b(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(i + 1)) {
    uint32_t cp = ((b0 & 0x1Fu) << 6) | (b(i + 1) & 0x3Fu);
    i += 2;
    return cp;
  }
  if ((b0 & 0xF0) == 0xE0 && cont(i + 1) && cont(i + 2)) {
    uint32_t cp = ((b0 & 0x0Fu) << 12) | ((b(i + 1) & 0x3Fu) << 6) | (b(i + 2) & 0x3Fu);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) {
      i += 3;
      return cp;
    }
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
    uint32_t cp = ((b0 & 0x07u) << 18) | ((b(i + 1) & 0x3Fu) << 12) | ((b(i + 2) & 0x3Fu) << 6) |
                  (b(i + 3) & 0x3Fu);
    if (cp >= 0x10000 && cp <= 0x10FFFF) {
      i += 4;
      return cp;
    }
  }
  ++i;
  return 0xFFFD;
}

// Object.toString() of a throwable, for messages; never throws, leaves no exception pending.
std::string describe_throwable(JNIEnv* env, jthrowable t) {
  auto s = static_cast<jstring>(env->CallObjectMethod(t, g.object_to_string));
  if (env->ExceptionCheck() || s == nullptr) {
    env->ExceptionClear();
    return "a Java exception";
  }
  std::string out;
  try {
    out = to_utf8(env, s, "message");
  } catch (...) {
    env->ExceptionClear();
    out = "a Java exception";
  }
  env->DeleteLocalRef(s);
  return out;
}

}  // namespace

GlobalRef::GlobalRef(JNIEnv* env, jobject obj) : ref_(env->NewGlobalRef(obj)) {
  if (ref_ == nullptr && obj != nullptr) throw JavaExceptionPending{};
}

GlobalRef::~GlobalRef() {
  if (ref_ == nullptr) return;
  try {
    current_env()->DeleteGlobalRef(ref_);
  } catch (...) {
    // The JVM is going away; nothing to release into.
  }
}

JNIEnv* current_env() {
  if (g.vm == nullptr) throw_error(ErrorCode::kInternal, "the JNI library was not initialised (JNI_OnLoad)");
  JNIEnv* env = nullptr;
  jint rc = g.vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8);
  if (rc == JNI_OK) return env;
  if (rc == JNI_EDETACHED) {
    JavaVMAttachArgs args{JNI_VERSION_1_8, const_cast<char*>("needle-native"), nullptr};
    if (g.vm->AttachCurrentThreadAsDaemon(reinterpret_cast<void**>(&env), &args) == JNI_OK) {
      t_detacher.attached = true;
      return env;
    }
  }
  throw_error(ErrorCode::kInternal, "cannot attach a native thread to the JVM");
}

void throw_needle_exception(JNIEnv* env, ErrorCode code, std::string_view message, jthrowable cause) {
  if (env->ExceptionCheck()) return;  // keep the exception that is already on its way
  jstring jmsg = nullptr;
  try {
    jmsg = to_jstring(env, message);
  } catch (...) {
    return;  // NewString failed: an OutOfMemoryError is pending
  }
  jobject ex = env->NewObject(g.needle_exception, g.needle_exception_ctor, static_cast<jint>(code), jmsg, cause);
  env->DeleteLocalRef(jmsg);
  if (ex != nullptr) {
    env->Throw(static_cast<jthrowable>(ex));
    env->DeleteLocalRef(ex);
  }
}

void rethrow_as_java(JNIEnv* env) noexcept {
  try {
    throw;
  } catch (const JavaExceptionPending&) {
    if (!env->ExceptionCheck()) throw_needle_exception(env, ErrorCode::kInternal, "a Java exception was lost in native code");
  } catch (const JavaCallbackError& e) {
    throw_needle_exception(env, e.code(), e.what(), e.throwable());
  } catch (const Error& e) {
    throw_needle_exception(env, e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw_needle_exception(env, ErrorCode::kResourceExhausted, "native memory exhausted (std::bad_alloc)");
  } catch (const std::exception& e) {
    try {
      throw_needle_exception(env, ErrorCode::kInternal, std::string("unexpected C++ exception: ") + e.what());
    } catch (...) {
      throw_needle_exception(env, ErrorCode::kInternal, "unexpected C++ exception");
    }
  } catch (...) {
    throw_needle_exception(env, ErrorCode::kInternal, "unknown C++ exception");
  }
}

std::string to_utf8(JNIEnv* env, jstring s, std::string_view what) {
  if (s == nullptr) throw_error(ErrorCode::kInvalidArgument, std::string(what) + " must not be null");
  const jsize n = env->GetStringLength(s);
  std::vector<jchar> units(static_cast<size_t>(n));
  if (n > 0) env->GetStringRegion(s, 0, n, units.data());
  if (env->ExceptionCheck()) throw JavaExceptionPending{};
  std::string out;
  out.reserve(units.size() + units.size() / 4);
  for (size_t i = 0; i < units.size(); ++i) {
    uint32_t c = units[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units.size() && units[i + 1] >= 0xDC00 && units[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (units[i + 1] - 0xDC00u);
      ++i;
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      c = 0xFFFD;  // an unpaired surrogate
    }
    append_utf8(out, c);
  }
  return out;
}

jstring to_jstring(JNIEnv* env, std::string_view utf8) {
  std::vector<jchar> units;
  units.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    uint32_t cp = decode_utf8(utf8, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push_back(static_cast<jchar>(0xD800 + (cp >> 10)));
      units.push_back(static_cast<jchar>(0xDC00 + (cp & 0x3FF)));
    } else {
      units.push_back(static_cast<jchar>(cp));
    }
  }
  if (units.size() > static_cast<size_t>(INT32_MAX)) throw_error(ErrorCode::kResourceExhausted, "string too long for Java");
  jstring s = env->NewString(units.data(), static_cast<jsize>(units.size()));
  if (s == nullptr) throw JavaExceptionPending{};
  return s;
}

std::vector<std::string> to_utf8_array(JNIEnv* env, jobjectArray arr, std::string_view what) {
  std::vector<std::string> out;
  if (arr == nullptr) return out;
  const jsize n = env->GetArrayLength(arr);
  out.reserve(static_cast<size_t>(n));
  for (jsize i = 0; i < n; ++i) {
    auto s = static_cast<jstring>(env->GetObjectArrayElement(arr, i));
    if (env->ExceptionCheck()) throw JavaExceptionPending{};
    std::string item = to_utf8(env, s, std::string(what) + "[" + std::to_string(i) + "]");
    env->DeleteLocalRef(s);
    out.push_back(std::move(item));
  }
  return out;
}

jobjectArray to_jstring_array(JNIEnv* env, const std::vector<std::string>& strings) {
  jobjectArray arr = env->NewObjectArray(static_cast<jsize>(strings.size()), g.string, nullptr);
  if (arr == nullptr) throw JavaExceptionPending{};
  for (size_t i = 0; i < strings.size(); ++i) {
    jstring s = to_jstring(env, strings[i]);
    env->SetObjectArrayElement(arr, static_cast<jsize>(i), s);
    env->DeleteLocalRef(s);
    if (env->ExceptionCheck()) throw JavaExceptionPending{};
  }
  return arr;
}

jlongArray to_jlong_array(JNIEnv* env, const std::vector<int64_t>& values) {
  jlongArray arr = env->NewLongArray(static_cast<jsize>(values.size()));
  if (arr == nullptr) throw JavaExceptionPending{};
  static_assert(sizeof(jlong) == sizeof(int64_t));
  if (!values.empty()) {
    env->SetLongArrayRegion(arr, 0, static_cast<jsize>(values.size()), reinterpret_cast<const jlong*>(values.data()));
  }
  if (env->ExceptionCheck()) throw JavaExceptionPending{};
  return arr;
}

void call_range_fetcher(jobject fetcher, uint64_t offset, std::span<uint8_t> out, const std::string& name) {
  JNIEnv* env = current_env();
  constexpr size_t kMaxChunk = size_t{1} << 30;  // a ByteBuffer holds at most 2^31-1 bytes
  size_t done = 0;
  while (done < out.size()) {
    const size_t chunk = std::min(out.size() - done, kMaxChunk);
    const uint64_t at = offset + done;
    auto where = [&] {
      return name + ": range fetch of " + std::to_string(chunk) + " bytes at offset " + std::to_string(at);
    };
    jobject buf = env->NewDirectByteBuffer(out.data() + done, static_cast<jlong>(chunk));
    if (buf == nullptr) {
      env->ExceptionClear();
      throw_error(ErrorCode::kIo, where() + ": cannot create a direct ByteBuffer");
    }
    env->CallVoidMethod(fetcher, g.range_fetcher_fetch, static_cast<jlong>(at), buf);
    if (env->ExceptionCheck()) {
      jthrowable t = env->ExceptionOccurred();
      env->ExceptionClear();
      env->DeleteLocalRef(buf);
      std::string desc = describe_throwable(env, t);
      std::shared_ptr<GlobalRef> ref;
      try {
        ref = std::make_shared<GlobalRef>(env, t);
      } catch (...) {
        env->ExceptionClear();
      }
      env->DeleteLocalRef(t);
      throw JavaCallbackError(where() + " failed: " + desc, std::move(ref));
    }
    jint remaining = env->CallIntMethod(buf, g.buffer_remaining);
    env->DeleteLocalRef(buf);
    if (env->ExceptionCheck()) {
      env->ExceptionClear();
      throw_error(ErrorCode::kIo, where() + ": cannot read the buffer position");
    }
    if (remaining != 0) {
      throw_error(ErrorCode::kIo, where() + ": the fetcher left " + std::to_string(remaining) + " bytes unfilled");
    }
    done += chunk;
  }
}

}  // namespace needle::jni

using needle::jni::g;

extern "C" JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void*) {
  JNIEnv* env = nullptr;
  if (vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) != JNI_OK) return JNI_ERR;
  g.vm = vm;
  // FindClass here uses the class loader of the class that called System.load, so this works
  // under Spark's and other containers' class loaders too.
  g.needle_exception = needle::jni::global_class(env, "io/needle/NeedleException");
  g.range_fetcher = needle::jni::global_class(env, "io/needle/RangeFetcher");
  g.buffer = needle::jni::global_class(env, "java/nio/Buffer");
  g.object = needle::jni::global_class(env, "java/lang/Object");
  g.string = needle::jni::global_class(env, "java/lang/String");
  if (!g.needle_exception || !g.range_fetcher || !g.buffer || !g.object || !g.string) return JNI_ERR;
  g.needle_exception_ctor = env->GetMethodID(g.needle_exception, "<init>", "(ILjava/lang/String;Ljava/lang/Throwable;)V");
  g.range_fetcher_fetch = env->GetMethodID(g.range_fetcher, "fetch", "(JLjava/nio/ByteBuffer;)V");
  g.buffer_remaining = env->GetMethodID(g.buffer, "remaining", "()I");
  g.object_to_string = env->GetMethodID(g.object, "toString", "()Ljava/lang/String;");
  if (!g.needle_exception_ctor || !g.range_fetcher_fetch || !g.buffer_remaining || !g.object_to_string) return JNI_ERR;
  return JNI_VERSION_1_8;
}

extern "C" JNIEXPORT void JNICALL JNI_OnUnload(JavaVM* vm, void*) {
  JNIEnv* env = nullptr;
  if (vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) != JNI_OK) return;
  for (jclass c : {g.needle_exception, g.range_fetcher, g.buffer, g.object, g.string}) {
    if (c != nullptr) env->DeleteGlobalRef(c);
  }
  g = {};
}
