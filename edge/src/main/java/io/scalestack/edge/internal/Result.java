package io.scalestack.edge.internal;

/** How a request was answered: the {@code X-Cache} value and the {@code result} metric tag. */
enum Result {
  HIT, MISS, STALE, REVALIDATED, BYPASS;

  final String header = name();
  final String tag = name().toLowerCase(java.util.Locale.ROOT);
}
