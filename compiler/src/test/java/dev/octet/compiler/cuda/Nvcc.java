package dev.octet.compiler.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * Compiles generated kernels with CUDA's nvcc for sm_90a (a second opinion beside NVRTC 12.6, which
 * .ci/run requires) and reads registers and spills from ptxas. Where no nvcc is installed the calling
 * test is skipped; .ci/run checks every kernel of every example separately and fails without one.
 */
public final class Nvcc {
    private static final Path NVCC = Path.of(System.getenv().getOrDefault("CUDA_HOME", "/usr/local/cuda"), "bin", "nvcc");
    private static final Pattern USAGE = Pattern.compile(
            "(\\d+) bytes spill stores, (\\d+) bytes spill loads[\\s\\S]*?Used (\\d+) registers");

    private Nvcc() {}

    public record Usage(int registers, int spillStoreBytes, int spillLoadBytes, String log) {}

    /** Compiles to a CUBIN for sm_90a; fails the test on a compile error. */
    public static Usage compile(CudaKernel kernel) {
        Assumptions.assumeTrue(Files.isExecutable(NVCC), "nvcc not installed at " + NVCC);
        try {
            Path dir = Files.createTempDirectory("octet-nvcc");
            Path cu = dir.resolve(kernel.name() + ".cu");
            Files.writeString(cu, kernel.source());
            Process p = new ProcessBuilder(NVCC.toString(), "-arch=sm_90a", "-cubin", "--resource-usage",
                    "-o", dir.resolve(kernel.name() + ".cubin").toString(), cu.toString())
                    .redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                fail("nvcc failed on " + kernel.name() + " (source kept at " + cu + "):\n" + log);
            }
            Matcher m = USAGE.matcher(log);
            if (!m.find()) {
                fail("no resource usage in the nvcc log of " + kernel.name() + ":\n" + log);
            }
            return new Usage(Integer.parseInt(m.group(3)), Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), log);
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("could not run nvcc", e);
        }
    }

    /** Compiles and asserts no spills. */
    public static Usage compileWithoutSpills(CudaKernel kernel) {
        Usage u = compile(kernel);
        assertEquals(0, u.spillStoreBytes() + u.spillLoadBytes(), () -> kernel.name() + " spills:\n" + u.log());
        return u;
    }

    public static void compileAllWithoutSpills(List<CudaKernel> kernels) {
        kernels.forEach(Nvcc::compileWithoutSpills);
    }
}
