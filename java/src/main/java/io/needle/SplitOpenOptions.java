package io.needle;

/** How a split is opened. Mutable, with fluent setters. */
public final class SplitOpenOptions {
  private boolean verifyChecksums = true;
  private String name = "remote split";
  private long footerOffset = -1;
  private long footerLength = 0;

  /**
   * Read every component once at open and check its checksum (the default): catches any flipped
   * byte before it can give a wrong answer, at the cost of one full read of the split.
   */
  public SplitOpenOptions verifyChecksums(boolean verify) {
    this.verifyChecksums = verify;
    return this;
  }

  /** A name for messages (remote splits; local splits are named by their path). */
  public SplitOpenOptions name(String name) {
    this.name = java.util.Objects.requireNonNull(name);
    return this;
  }

  /**
   * Where the footer is ({@link Split#footerOffset()}, {@link Split#footerLength()} of an earlier
   * open), so a remote open costs one read.
   */
  public SplitOpenOptions footerHint(long offset, long length) {
    this.footerOffset = offset;
    this.footerLength = length;
    return this;
  }

  boolean verifyChecksums() {
    return verifyChecksums;
  }

  String name() {
    return name;
  }

  long footerOffset() {
    return footerOffset;
  }

  long footerLength() {
    return footerLength;
  }
}
