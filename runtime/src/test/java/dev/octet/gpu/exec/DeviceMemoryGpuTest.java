package dev.octet.gpu.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.cli.ExitCodes;
import dev.octet.cli.OctetMain;
import dev.octet.compiler.plan.CompileSummary;
import dev.octet.compiler.plan.DeviceMemoryPlan;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.gpu.DeviceMemoryInfo;
import dev.octet.gpu.kernels.GpuKernelTest;
import dev.octet.gpu.kernels.GpuSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Device memory on the real device: cuMemGetInfo as the fit check reads it, what loading a step takes beside its
 * arena against the estimate the check adds, and a training step far larger than the device refused by
 * {@code octet train} in one line, exit code 5, before the step is loaded (no kernels compiled, nothing allocated).
 */
@GpuKernelTest
class DeviceMemoryGpuTest {
    private static final long MIB = 1L << 20;

    @Test
    void cuMemGetInfoReportsTheDevicesMemory() {
        GpuSession session = GpuSession.get();
        DeviceMemoryInfo info = session.context().memoryInfo();
        long probed = session.context().info().memoryBytes();
        System.out.printf(Locale.ROOT, "cuMemGetInfo: %s free of %s (cuDeviceTotalMem %s)%n", CompileSummary.mib(info.freeBytes()),
                CompileSummary.mib(info.totalBytes()), CompileSummary.mib(probed));
        assertTrue(info.freeBytes() > 0 && info.freeBytes() <= info.totalBytes(), info.toString());
        assertTrue(Math.abs(info.totalBytes() - probed) <= probed / 50, info + " against " + probed);
    }

    @Test
    void loadingTheTinyStepTakesItsArenaAndNoMoreThanTheEstimateBeside() {
        GpuSession session = GpuSession.get();
        StepPlan plan = ExampleModels.tinyPlan("infir2");
        DeviceMemoryInfo before = session.context().memoryInfo();
        long beside;
        try (DeviceStep step = DeviceStep.load(session.context(), plan, session.cache())) {
            step.captureGraphs();
            session.context().synchronize();
            DeviceMemoryInfo after = session.context().memoryInfo();
            beside = after.usedBytes() - before.usedBytes() - plan.memory().arenaBytes();
        }
        System.out.printf(Locale.ROOT, "tiny step: arena %s, besides it %s after loading and capturing graphs (estimate %s)%n",
                CompileSummary.mib(plan.memory().arenaBytes()), CompileSummary.mib(beside),
                CompileSummary.mib(DeviceMemoryPlan.LOADED_BYTES));
        assertTrue(beside <= DeviceMemoryPlan.LOADED_BYTES, "loading took " + beside / MIB + " MiB beside the arena");
    }

    @Test
    void aStepFarLargerThanTheDeviceIsRefusedInOneLineBeforeItIsLoaded(@TempDir Path dir) throws IOException {
        // Qwen2.5-1.5B at 16 x 8192 tokens plans an arena of about 281 GiB: twice an H200.
        Path examples = ExampleModels.examples();
        Path file = dir.resolve("too-big.octet");
        Files.writeString(file, """
                import "%s"
                import "%s"
                training too_big {
                  model = qwen2_5_1_5b  recipe = infir2  mode = pretrain
                  optimizer = adamw(lr = 3e-4, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1)
                  schedule = cosine(warmup = 1, min_lr = 3e-5)
                  clip_grad_norm = 1.0  micro_batch = 16  global_batch = 16  seq_len = 8192  steps = 2  seed = 1
                  data = "%s"
                }
                """.formatted(examples.resolve("qwen2.5-1.5b.octet"), examples.resolve("recipes/infir2.octet"),
                examples.resolve("data/brown.txt.gz")));
        GpuSession session = GpuSession.get();
        long usedBefore = session.context().memoryInfo().usedBytes();
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        PrintStream savedOut = System.out;
        PrintStream savedErr = System.err;
        int exit;
        try {
            System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
            exit = OctetMain.run("train", file.toString(), "--device", "cuda", "--out", dir.resolve("run").toString());
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
        String out = stdout.toString(StandardCharsets.UTF_8);
        String err = stderr.toString(StandardCharsets.UTF_8);
        long usedAfter = session.context().memoryInfo().usedBytes();
        System.out.print(out + err);
        assertEquals(ExitCodes.DEVICE_OUT_OF_MEMORY, exit, err);
        List<String> lines = err.lines().toList();
        assertEquals(1, lines.size(), err);
        assertTrue(lines.getFirst().startsWith("octet: error: the GPU has too little free memory for this run: the step at"
                + " micro_batch = 16 needs "), err);
        assertTrue(lines.getFirst().contains("; would fit: micro_batch = "), err);
        assertTrue(out.contains("octet: device memory: arena "), out);
        // The device line comes after the step is loaded (kernels compiled, arena allocated): it never came.
        assertFalse(out.contains("octet: device: "), out);
        assertTrue(Math.abs(usedAfter - usedBefore) < 64 * MIB, "in use " + usedBefore / MIB + " -> " + usedAfter / MIB + " MiB");
    }
}
