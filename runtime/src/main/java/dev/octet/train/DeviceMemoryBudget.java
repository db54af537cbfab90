package dev.octet.train;

import static dev.octet.compiler.plan.DeviceMemoryPlan.gib;

import dev.octet.compiler.plan.CompileSummary;
import dev.octet.compiler.plan.DeviceMemoryPlan;
import dev.octet.gpu.DeviceMemoryInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A planned step against a device's memory, asked once the CUDA context is open and before anything of the
 * step is allocated: the context is then already out of the free bytes, so what must still be free is the arena
 * and what loading the step adds ({@link DeviceMemoryPlan#bytesAfterContext}). Refusing here turns an
 * out-of-memory error somewhere in the loading into one line that says what would fit.
 */
public record DeviceMemoryBudget(DeviceMemoryPlan plan, DeviceMemoryInfo device) {
    public boolean fits() {
        return plan.bytesAfterContext() <= device.freeBytes();
    }

    /** One line for the start of a run: the plan by part, and the device's free and total memory. */
    public String describe() {
        return String.format(Locale.ROOT, "device memory: %s planned; %s free of %s", plan.describe(),
                CompileSummary.mib(device.freeBytes()), CompileSummary.mib(device.totalBytes()));
    }

    /**
     * One line: what the step needs, what is free, and what would fit, e.g. {@code the step at micro_batch = 4 needs
     * 80.25 GiB of free device memory (arena 80.00 GiB + about 0.25 GiB for its modules and graphs, estimated) but
     * 70.00 GiB of 80.00 GiB is free; would fit: micro_batch = 2 (40.25 GiB), or recompute = [norm, activation] in
     * the recipe (65.25 GiB); re-planned by the compiler, global_batch unchanged}.
     */
    public String refusal(int microBatch, SmallerSteps alternatives) {
        return refusal(microBatch, alternatives, Optional.empty());
    }

    /** The same, first proposing a smaller loss workspace where that alone fits. */
    public String refusal(int microBatch, SmallerSteps alternatives, Optional<SmallerLossWorkspace> workspace) {
        String needs = String.format(Locale.ROOT, "the step at micro_batch = %d needs %s of free device memory (arena %s + about"
                        + " %s for its modules and graphs, estimated) but %s of %s is free", microBatch,
                gib(plan.bytesAfterContext()), gib(plan.arenaBytes()), gib(plan.loadedBytes()), gib(device.freeBytes()),
                gib(device.totalBytes()));
        List<String> options = new ArrayList<>();
        workspace.ifPresent(w -> options.add(String.format(Locale.ROOT, "--loss-workspace %d (%s, the LM head's logits in"
                + " smaller chunks)", w.workspaceBytes() >> 20, gib(w.bytesAfterContext()))));
        for (StepCandidate c : alternatives.fitting()) {
            String batch = c.microBatch() == microBatch ? "" : "micro_batch = " + c.microBatch();
            String recompute = c.addsRecompute() ? "recompute = [norm, activation] in the recipe" : "";
            options.add(String.format(Locale.ROOT, "%s%s%s (%s)", batch, batch.isEmpty() || recompute.isEmpty() ? "" : " with ",
                    recompute, gib(c.bytesAfterContext())));
        }
        if (options.isEmpty()) {
            StepCandidate least = alternatives.smallest().orElseThrow();
            return needs + String.format(Locale.ROOT, "; nothing smaller fits: micro_batch = 1 with recompute = [norm, activation]"
                    + " still needs %s; shorten seq_len, train a smaller model or free the device", gib(least.bytesAfterContext()));
        }
        return needs + "; would fit: " + String.join(", or ", options)
                + (alternatives.fitting().isEmpty() ? "" : "; re-planned by the compiler, global_batch unchanged");
    }
}
