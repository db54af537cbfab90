package dev.octet.cli;

import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.Optional;

/**
 * The JVM running out of heap: the size of the run against the heap it was given, not a bug in Octet, so it is
 * one line saying how large the heap was and how to give it more, rather than a stack trace.
 */
final class HeapErrors {
    private HeapErrors() {}

    /** The out-of-memory error behind {@code e}, if that is what it is (also when a worker thread hit it). */
    static Optional<OutOfMemoryError> cause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError oom) {
                return Optional.of(oom);
            }
        }
        return Optional.empty();
    }

    /** One line: what ran out, the heap it had, what the machine has, and how to give the JVM more. */
    static String describe(OutOfMemoryError e, long maxHeapBytes, long physicalBytes) {
        return String.format(Locale.ROOT, "out of memory (%s) with a JVM heap of %.1f GiB on a machine of %.1f GiB;"
                        + " give the JVM more, e.g. OCTET_JAVA_OPTS=-Xmx%dg ./octet ..., or make the run smaller",
                e.getMessage() == null ? "Java heap space" : e.getMessage(), maxHeapBytes / 1073741824.0,
                physicalBytes / 1073741824.0, Math.max(1, (long) (physicalBytes * 0.8 / 1073741824.0)));
    }

    /** {@link #describe(OutOfMemoryError, long, long)} for this JVM and machine. */
    static String describe(OutOfMemoryError e) {
        long physical = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getTotalMemorySize() : Runtime.getRuntime().maxMemory();
        return describe(e, Runtime.getRuntime().maxMemory(), physical);
    }
}
