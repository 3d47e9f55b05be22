package io.needle;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads {@code libneedle_jni.so} once per JVM (class loader). Every class with natives calls
 * {@link #load()} first, so applications never need to.
 *
 * <p>Where the library comes from, first match wins:
 *
 * <ol>
 *   <li>the system property {@value #PATH_PROPERTY}: a path to the library on disk;
 *   <li>the environment variable {@value #PATH_ENV}: the same;
 *   <li>the jar: the resource {@code native/<os>-<arch>/libneedle_jni.so} (today
 *       {@code native/linux-x86_64/}), copied to a temporary file, loaded, and deleted.
 * </ol>
 *
 * <p>The library links the engine statically and its third-party libraries dynamically: on Debian
 * 12 it needs the packages {@value #RUNTIME_PACKAGES}.
 */
public final class NativeLoader {
  public static final String PATH_PROPERTY = "needle.native.lib.path";
  public static final String PATH_ENV = "NEEDLE_NATIVE_LIB_PATH";
  public static final String LIBRARY_FILE = "libneedle_jni.so";
  static final String RUNTIME_PACKAGES =
      "libzstd1 liblz4-1 libicu72 libstemmer0d libxxhash0 libsimdjson14 libhwy1 libstdc++6";

  private static volatile String loadedFrom;
  private static Throwable failure;

  private NativeLoader() {}

  /**
   * Loads the library unless this class loader already did. Thread-safe. Throws
   * UnsatisfiedLinkError (with the reason) when it cannot; later calls throw the same error.
   */
  public static void load() {
    if (loadedFrom != null) {
      return;
    }
    synchronized (NativeLoader.class) {
      if (loadedFrom != null) {
        return;
      }
      if (failure != null) {
        throw linkError("the needle native library failed to load earlier: " + failure.getMessage(), failure);
      }
      try {
        String from = loadOnce();
        int abi = NativeLibrary.abiVersion();
        if (abi != NativeLibrary.EXPECTED_ABI) {
          throw new UnsatisfiedLinkError(
              from + " has JNI ABI version " + abi + " but these classes need version "
                  + NativeLibrary.EXPECTED_ABI + ": rebuild it (make java) or point "
                  + PATH_ENV + " at a matching library");
        }
        loadedFrom = from;
      } catch (Throwable t) {
        failure = t;
        throw t instanceof UnsatisfiedLinkError ? (UnsatisfiedLinkError) t : linkError(t.getMessage(), t);
      }
    }
  }

  /**
   * Where the library was loaded from: "property:PATH", "env:PATH" or "resource:RESOURCE"; null before
   * {@link #load()}.
   */
  public static String loadedFrom() {
    return loadedFrom;
  }

  /** The resource folder of this platform inside the jar, e.g. {@code native/linux-x86_64}. */
  public static String platformResourceDir() {
    return "native/" + platform();
  }

  static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String osPart = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "macos" : os.replace(' ', '_');
    String archPart;
    switch (arch) {
      case "amd64":
      case "x86_64":
        archPart = "x86_64";
        break;
      case "aarch64":
      case "arm64":
        archPart = "aarch64";
        break;
      default:
        archPart = arch;
    }
    return osPart + "-" + archPart;
  }

  private static String loadOnce() throws IOException {
    String prop = System.getProperty(PATH_PROPERTY);
    if (prop != null && !prop.isEmpty()) {
      loadFile(new File(prop), "system property " + PATH_PROPERTY);
      return "property:" + prop;
    }
    String env = System.getenv(PATH_ENV);
    if (env != null && !env.isEmpty()) {
      loadFile(new File(env), "environment variable " + PATH_ENV);
      return "env:" + env;
    }
    String resource = platformResourceDir() + "/" + LIBRARY_FILE;
    try (InputStream in = NativeLoader.class.getClassLoader() == null
        ? ClassLoader.getSystemResourceAsStream(resource)
        : NativeLoader.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new UnsatisfiedLinkError(
            "no " + resource + " in the class path (this jar has no native library for platform "
                + platform() + "); build it with `make java`, or set " + PATH_ENV + " or -D"
                + PATH_PROPERTY + " to a libneedle_jni.so");
      }
      String tmpDir = System.getProperty("needle.native.tmpdir", System.getProperty("java.io.tmpdir"));
      Path tmp = Files.createTempFile(Path.of(tmpDir), "libneedle_jni-", ".so");
      try {
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        loadFile(tmp.toFile(), "the jar resource " + resource);
      } finally {
        // Once loaded the mapping stays valid; the file is not needed any more.
        Files.deleteIfExists(tmp);
      }
    }
    return "resource:" + resource;
  }

  private static void loadFile(File file, String origin) {
    if (!file.isFile()) {
      throw new UnsatisfiedLinkError(origin + " points at " + file + ", which is not a file");
    }
    try {
      System.load(file.getAbsolutePath());
    } catch (UnsatisfiedLinkError e) {
      throw linkError(
          "cannot load " + file + " (from " + origin + "): " + e.getMessage()
              + ". The library needs these shared libraries at run time (Debian 12 packages): "
              + RUNTIME_PACKAGES,
          e);
    }
  }

  private static UnsatisfiedLinkError linkError(String message, Throwable cause) {
    UnsatisfiedLinkError e = new UnsatisfiedLinkError(message);
    e.initCause(cause);
    return e;
  }
}
