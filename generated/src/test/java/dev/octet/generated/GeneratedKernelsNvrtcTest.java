package dev.octet.generated;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.gpu.CompiledKernel;
import dev.octet.gpu.JCudaNvrtc;
import dev.octet.gpu.KernelCompiler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every kernel of every generated step (each example model x recipe), training and decoding, compiles for sm_90a with NVRTC 12.6
 * through JCuda — the compiler the runtime uses — with no errors, no spills and, for wgmma kernels, no stack
 * frame and no ptxas warning of a serialised wgmma or an ignored setmaxnreg. Needs libnvrtc.so.12 on
 * LD_LIBRARY_PATH (.ci/fetch-nvrtc prints the folder); .ci/run runs it.
 */
@Tag("nvrtc")
class GeneratedKernelsNvrtcTest {
    @Test
    void everyGeneratedKernelCompilesWithoutSpills() throws Exception {
        Map<String, String> sources = new LinkedHashMap<>();
        for (String cls : GeneratedSteps.CLASSES) {
            @SuppressWarnings("unchecked")
            List<String> kernels = (List<String>) Class.forName("dev.octet.generated." + cls).getField("KERNELS").get(null);
            for (String k : kernels) {
                add(sources, k, resource("steps/" + cls + "/kernels/" + k + ".cu"));
            }
            for (String k : resource("steps/" + cls + "/decode/kernels.txt").strip().split("\n")) {
                add(sources, k, resource("steps/" + cls + "/decode/kernels/" + k + ".cu"));
            }
        }
        KernelCompiler nvrtc = new JCudaNvrtc(Files.createTempDirectory("octet-failed-kernels"));
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<CompiledKernel> compiled = new ConcurrentLinkedQueue<>();
        long start = System.nanoTime();
        sources.entrySet().parallelStream().forEach(e -> {
            try {
                CompiledKernel k = nvrtc.compile(e.getKey(), e.getValue(), KernelCompiler.HOPPER, List.of());
                compiled.add(k);
                problems.addAll(k.slowPaths(e.getValue()));
            } catch (RuntimeException ex) {
                problems.add(ex.getMessage());
            }
        });
        double seconds = (System.nanoTime() - start) / 1e9;
        List<CompiledKernel> all = new ArrayList<>(compiled);
        int maxRegisters = all.stream().mapToInt(CompiledKernel::registers).max().orElse(0);
        System.out.printf(Locale.ROOT, "nvrtc: %d distinct kernels of %d generated steps compiled for sm_90a by %s in %.1f s; "
                        + "max %d registers, %d spills%n", all.size(), GeneratedSteps.CLASSES.size(), nvrtc.description(),
                seconds, maxRegisters, problems.size());
        assertTrue(problems.isEmpty(), () -> String.join("\n", problems));
        assertEquals(sources.size(), all.size());
    }

    private static void add(Map<String, String> sources, String name, String source) {
        String previous = sources.putIfAbsent(name, source);
        assertTrue(previous == null || previous.equals(source), "two different kernels named " + name);
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = GeneratedKernelsNvrtcTest.class.getClassLoader().getResourceAsStream(name)) {
            assertTrue(in != null, "no resource " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
