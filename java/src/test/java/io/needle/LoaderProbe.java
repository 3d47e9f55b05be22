package io.needle;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Run in a child JVM by NativeLoaderIT: loads the native library from 8 threads at once, uses it,
 * and prints where it came from. Exit code 3 when loading failed.
 */
public final class LoaderProbe {
  private LoaderProbe() {}

  public static void main(String[] args) throws Exception {
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    List<Throwable> errors = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      Thread t = new Thread(() -> {
        try {
          start.await();
          NativeLoader.load();
        } catch (Throwable e) {
          synchronized (errors) {
            errors.add(e);
          }
        }
      });
      t.start();
      threads.add(t);
    }
    start.countDown();
    for (Thread t : threads) {
      t.join();
    }
    if (!errors.isEmpty()) {
      System.out.println("error=" + errors.get(0).getMessage());
      System.exit(3);
    }
    System.out.println("loadedFrom=" + NativeLoader.loadedFrom());
    System.out.println("codeSource=" + NativeLoader.class.getProtectionDomain().getCodeSource().getLocation());
    Schema s = Schema.fromJson("{\"fields\":[{\"name\":\"body\",\"type\":\"text\"}]}");
    System.out.println("fields=" + s.fields().size());
    try {
      Schema.fromJson("{");
    } catch (NeedleException e) {
      System.out.println("error code=" + e.code());
    }
  }
}
