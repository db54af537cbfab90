package dev.octet.compiler.plan;

import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import java.util.Comparator;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The device memory a compiled step takes, by part: the arena (every buffer of the plan, exactly), the
 * largest kernel workspace inside it (the LM head's logits chunk, attention and norm scratch), and what
 * the CUDA driver takes beside it. The driver's part is an estimate, in two pieces: the primary context
 * before anything is loaded ({@link #CONTEXT_BYTES}), which is already out of the free memory a device
 * reports once the context is open, and the modules, graphs and local memory that loading the step adds
 * ({@link #LOADED_BYTES}), which must still be free then.
 */
public record DeviceMemoryPlan(long arenaBytes, long workspaceBytes, String workspace, long contextBytes, long loadedBytes) {
    /** The primary context on a Hopper device before any module is loaded: an estimate, not a measurement. */
    public static final long CONTEXT_BYTES = 512L << 20;
    /** Modules, the two CUDA graphs, the stream and the local memory the kernels reserve: an estimate. */
    public static final long LOADED_BYTES = 256L << 20;

    // Kernel formation names a kernel's scratch values kernelN.what (kernel4.logits, kernel87.delta).
    private static final Pattern WORKSPACE = Pattern.compile("kernel\\d+\\..+");

    public DeviceMemoryPlan {
        if (arenaBytes < 0 || workspaceBytes < 0 || workspaceBytes > arenaBytes || contextBytes < 0 || loadedBytes < 0) {
            throw new IllegalArgumentException("device memory parts must be 0 or more, the workspace within the arena: arena "
                    + arenaBytes + ", workspace " + workspaceBytes + ", context " + contextBytes + ", loaded " + loadedBytes);
        }
    }

    public static DeviceMemoryPlan of(StepPlan plan) {
        Optional<Value> largest = plan.memory().offsets().keySet().stream()
                .filter(v -> v.storage() == Storage.TRANSIENT && WORKSPACE.matcher(v.name()).matches())
                .max(Comparator.comparingLong((Value v) -> v.type().bytes()).thenComparing(Value::name));
        return new DeviceMemoryPlan(plan.memory().arenaBytes(), largest.map(v -> v.type().bytes()).orElse(0L),
                largest.map(Value::name).orElse(""), CONTEXT_BYTES, LOADED_BYTES);
    }

    /** Everything the step takes on a device no one else uses: arena, context and what loading adds. */
    public long totalBytes() {
        return arenaBytes + contextBytes + loadedBytes;
    }

    /** What must still be free once the context is open: the arena and what loading the step adds. */
    public long bytesAfterContext() {
        return arenaBytes + loadedBytes;
    }

    /**
     * One line for summaries, e.g. {@code arena 59318.6 MiB (largest workspace 482.2 MiB, kernel4.logits) + CUDA
     * context and modules about 768.0 MiB (estimate) = 60086.6 MiB}.
     */
    public String describe() {
        return String.format(Locale.ROOT, "arena %s%s + CUDA context and modules about %s (estimate) = %s", mib(arenaBytes),
                workspace.isEmpty() ? "" : " (largest workspace " + mib(workspaceBytes) + ", " + workspace + ")",
                mib(contextBytes + loadedBytes), mib(totalBytes()));
    }

    /** Bytes as GiB with two decimals: what a refusal line shows. */
    public static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }

    private static String mib(long bytes) {
        return CompileSummary.mib(bytes);
    }
}
