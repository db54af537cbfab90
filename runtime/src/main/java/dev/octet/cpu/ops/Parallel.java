package dev.octet.cpu.ops;

import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/** Runs independent loop iterations on all cores (the common fork-join pool plus the caller). */
final class Parallel {
    private Parallel() {}

    /** Runs {@code body(i)} for i in [0, n); iterations must write disjoint memory. */
    static void forEach(int n, IntConsumer body) {
        if (n == 1) {
            body.accept(0);
            return;
        }
        IntStream.range(0, n).parallel().forEach(body);
    }
}
