package dev.octet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** Running out of heap is one line with the heap, the machine and what to do, never a stack trace. */
class HeapErrorsTest {
    @Test
    void saysTheHeapTheMachineAndHowToGrowIt() {
        String line = HeapErrors.describe(new OutOfMemoryError("Java heap space"), 6L << 30, 24L << 30);
        assertEquals("out of memory (Java heap space) with a JVM heap of 6.0 GiB on a machine of 24.0 GiB;"
                + " give the JVM more, e.g. OCTET_JAVA_OPTS=-Xmx19g ./octet ..., or make the run smaller", line);
        assertFalse(line.contains("\n"));
    }

    @Test
    void findsTheErrorBehindAWorkerThreadsFailure() {
        OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
        assertEquals(oom, HeapErrors.cause(new RuntimeException(new ExecutionException(oom))).orElseThrow());
        assertTrue(HeapErrors.cause(new IllegalStateException("other")).isEmpty());
    }
}
