package io.needle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native loader, each case in a fresh JVM (a library loads once per JVM). Runs after
 * `package` (Failsafe) with the packaged jar, not target/classes, on the class path.
 */
class NativeLoaderIT {
  @TempDir Path tmp;

  record Run(int exit, String out) {}

  static String classPath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isEmpty() ? cp : System.getProperty("java.class.path");
  }

  static String jarOnClassPath() {
    for (String e : classPath().split(File.pathSeparator)) {
      if (e.matches(".*needle-java-[^" + File.separator + "]*\\.jar")) {
        return e;
      }
    }
    return null;
  }

  static Path builtLibrary() {
    String dir = System.getProperty("needle.test.nativeDir");
    assertNotNull(dir, "needle.test.nativeDir is set by the pom");
    Path lib = Path.of(dir, NativeLoader.LIBRARY_FILE);
    assertTrue(Files.isRegularFile(lib), lib + " exists (make java builds it)");
    return lib;
  }

  Run probe(Map<String, String> env, String... jvmArgs) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--add-opens=java.base/java.nio=ALL-UNNAMED");
    cmd.add("-Djava.io.tmpdir=" + tmp);
    cmd.addAll(List.of(jvmArgs));
    cmd.add("-cp");
    cmd.add(classPath());
    cmd.add(LoaderProbe.class.getName());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().remove(NativeLoader.PATH_ENV);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe finished");
    return new Run(p.exitValue(), out);
  }

  @Test
  void loadsFromTheJar() throws Exception {
    String jar = jarOnClassPath();
    assertNotNull(jar, "the packaged jar is on the class path: " + classPath());
    try (JarFile jf = new JarFile(jar)) {
      assertNotNull(jf.getEntry("native/linux-x86_64/libneedle_jni.so"), "the jar packs the library");
    }
    Run r = probe(Map.of());
    assertEquals(0, r.exit(), r.out());
    assertTrue(r.out().contains("loadedFrom=resource:native/linux-x86_64/libneedle_jni.so"), r.out());
    assertTrue(r.out().contains("codeSource=file:" + jar), r.out());  // classes (and resource) from the jar
    assertTrue(r.out().contains("fields=1"), r.out());
    assertTrue(r.out().contains("error code=SCHEMA"), r.out());
    try (var files = Files.list(tmp)) {
      assertEquals(0, files.filter(f -> f.getFileName().toString().startsWith("libneedle_jni")).count(),
          "the extracted copy is deleted after loading");
    }
  }

  @Test
  void loadsFromTheEnvironmentVariable() throws Exception {
    Path lib = builtLibrary();
    Run r = probe(Map.of(NativeLoader.PATH_ENV, lib.toString()));
    assertEquals(0, r.exit(), r.out());
    assertTrue(r.out().contains("loadedFrom=env:" + lib), r.out());
    assertTrue(r.out().contains("fields=1"), r.out());
  }

  @Test
  void systemPropertyWinsOverTheEnvironment() throws Exception {
    Path lib = builtLibrary();
    Run r = probe(Map.of(NativeLoader.PATH_ENV, "/nonexistent/libneedle_jni.so"),
        "-D" + NativeLoader.PATH_PROPERTY + "=" + lib);
    assertEquals(0, r.exit(), r.out());
    assertTrue(r.out().contains("loadedFrom=property:" + lib), r.out());
  }

  @Test
  void badPathsFailWithAClearError() throws Exception {
    Run missing = probe(Map.of(NativeLoader.PATH_ENV, "/nonexistent/libneedle_jni.so"));
    assertEquals(3, missing.exit(), missing.out());
    assertTrue(missing.out().contains(NativeLoader.PATH_ENV) && missing.out().contains("not a file"), missing.out());

    Path notALibrary = tmp.resolve("libneedle_jni.so");
    Files.writeString(notALibrary, "not an ELF file");
    Run bad = probe(Map.of(NativeLoader.PATH_ENV, notALibrary.toString()));
    assertEquals(3, bad.exit(), bad.out());
    assertTrue(bad.out().contains("libicu72"), bad.out());  // names the run-time packages
  }
}
