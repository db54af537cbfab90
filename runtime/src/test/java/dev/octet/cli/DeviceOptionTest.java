package dev.octet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.octet.gpu.ComputeCapability;
import dev.octet.gpu.CudaAvailability;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code octet train --device}: parsing, the choice for each probe answer, and the error without a GPU. */
class DeviceOptionTest {
    private static final CudaAvailability GPU = new CudaAvailability.Available("NVIDIA H200",
            new ComputeCapability(9, 0), 140L << 30, 1, 13000);
    private static final CudaAvailability NONE = new CudaAvailability.Unavailable("libcuda.so.1 cannot be loaded");

    @Test
    void parsesTheThreeChoices() {
        assertEquals(DeviceOption.CPU, DeviceOption.parse("cpu"));
        assertEquals(DeviceOption.CUDA, DeviceOption.parse("CUDA"));
        assertEquals(DeviceOption.AUTO, DeviceOption.parse("auto"));
        assertThrows(IllegalArgumentException.class, () -> DeviceOption.parse("tpu"));
    }

    @Test
    void autoTakesTheGpuWhenThereIsOneElseTheCpuWithANote() {
        assertInstanceOf(DeviceOption.Choice.Cuda.class, DeviceOption.AUTO.choose(GPU, "training"));
        var cpu = assertInstanceOf(DeviceOption.Choice.Cpu.class, DeviceOption.AUTO.choose(NONE, "training"));
        String note = cpu.note().orElseThrow();
        assertTrue(note.contains("libcuda.so.1 cannot be loaded") && note.endsWith("training on the CPU"), note);
        assertEquals(1, note.lines().count());
    }

    @Test
    void cpuNeverTouchesTheGpuAndCudaWithoutOneIsRefused() {
        assertEquals(new DeviceOption.Choice.Cpu(java.util.Optional.empty()), DeviceOption.CPU.choose(GPU, "training"));
        assertInstanceOf(DeviceOption.Choice.Cuda.class, DeviceOption.CUDA.choose(GPU, "training"));
        var refused = assertInstanceOf(DeviceOption.Choice.Refused.class, DeviceOption.CUDA.choose(NONE, "training"));
        assertEquals("error: --device cuda: libcuda.so.1 cannot be loaded", refused.error());
    }

    @Test
    void deviceCudaWithoutAGpuIsAOneLineErrorWithExitCodeOne(@TempDir Path dir) {
        assumeTrue(CudaAvailability.probe() instanceof CudaAvailability.Unavailable, "this machine has a GPU");
        PrintStream savedErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true));
        try {
            int code = OctetMain.run("train", Path.of("..", "examples", "tiny.octet").toString(), "--device", "cuda",
                    "--steps", "1", "--out", dir.resolve("run").toString());
            assertEquals(ExitCodes.INVALID_INPUT, code);
            String message = err.toString().strip();
            assertEquals(1, message.lines().count(), message);
            assertTrue(message.startsWith("error: --device cuda: "), message);
            assertEquals(ExitCodes.USAGE, OctetMain.run("train", Path.of("..", "examples", "tiny.octet").toString(),
                    "--device", "tpu"));
        } finally {
            System.setErr(savedErr);
        }
    }
}
