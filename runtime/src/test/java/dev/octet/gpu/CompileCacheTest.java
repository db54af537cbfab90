package dev.octet.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompileCacheTest {

    @TempDir
    Path dir;

    private CompileCache cache(FakeCompiler compiler) {
        return new CompileCache(compiler, dir, KernelCompiler.HOPPER, List.of("-lineinfo"));
    }

    @Test
    void aMissIsCompiledOnceThenRead() {
        FakeCompiler compiler = new FakeCompiler();
        CudaKernel kernel = Kernels.scale(1000);
        CompiledKernel first = cache(compiler).get(kernel);
        CompiledKernel second = cache(compiler).get(kernel);
        assertEquals(1, compiler.compiles.get());
        assertEquals(first, second);
        assertEquals(12, second.registers());
    }

    @Test
    void compileAllKeepsOrderDeduplicatesAndCountsHits() {
        FakeCompiler compiler = new FakeCompiler();
        CompileCache cache = cache(compiler);
        cache.get(Kernels.scale(1));
        List<CudaKernel> kernels = List.of(Kernels.scale(1), Kernels.scale(2), Kernels.scale(3), Kernels.scale(2));
        CompileReport cold = cache.compileAll(kernels, 4);
        assertEquals(1, cold.hits());
        assertEquals(2, cold.misses());
        assertFalse(cold.warm());
        assertEquals(List.of("scale_f32_1", "scale_f32_2", "scale_f32_3", "scale_f32_2"),
                cold.kernels().stream().map(CompiledKernel::name).toList());
        CompileReport warm = cache.compileAll(kernels, 4);
        assertTrue(warm.warm());
        assertEquals(3, warm.hits());
        assertEquals(cold.kernels(), warm.kernels());
        assertEquals(3, compiler.compiles.get());
        assertTrue(warm.summary().contains("(warm): 3 from the cache, 0 compiled"), warm.summary());
    }

    @Test
    void aNewNvrtcVersionMisses() {
        CudaKernel kernel = Kernels.scale(7);
        cache(new FakeCompiler(new NvrtcVersion(12, 6))).get(kernel);
        FakeCompiler newer = new FakeCompiler(new NvrtcVersion(13, 0));
        cache(newer).get(kernel);
        assertEquals(1, newer.compiles.get());
    }

    @Test
    void aDamagedEntryIsAMissAndIsReplaced() throws IOException {
        FakeCompiler compiler = new FakeCompiler();
        CompileCache cache = cache(compiler);
        CudaKernel kernel = Kernels.scale(5);
        cache.get(kernel);
        Path entry = cache.entryPath(cache.key(kernel));
        byte[] bytes = Files.readAllBytes(entry);
        Files.write(entry, Arrays.copyOf(bytes, bytes.length / 2));
        assertEquals(Optional.empty(), cache.lookup(kernel));
        bytes[bytes.length / 2] ^= 1;
        Files.write(entry, bytes);
        assertEquals(Optional.empty(), cache.lookup(kernel));
        cache.get(kernel);
        assertEquals(2, compiler.compiles.get());
        assertTrue(cache.lookup(kernel).isPresent());
    }

    @Test
    void entriesRoundTrip() {
        CompiledKernel kernel = new FakeCompiler().compile(Kernels.scale(3), KernelCompiler.HOPPER, List.of());
        assertEquals(Optional.of(kernel), CompileCacheEntry.decode(CompileCacheEntry.encode(kernel)));
        assertEquals(Optional.empty(), CompileCacheEntry.decode(new byte[3]));
    }

    @Test
    void threadsWritingOneKeyNeverShowReadersAPartialEntry() throws Exception {
        FakeCompiler compiler = new FakeCompiler();
        CompileCache cache = cache(compiler);
        // A large entry makes a torn write likely to be seen, were writes not atomic.
        CudaKernel kernel = Kernels.scale(1 << 20);
        CompiledKernel compiled = compiler.compile(kernel, KernelCompiler.HOPPER, List.of("-lineinfo"));
        CacheKey key = cache.key(kernel);
        int writers = 3, readers = 3, rounds = 200;
        CountDownLatch start = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(writers + readers)) {
            List<Future<Integer>> results = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                results.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < rounds; i++) {
                        cache.store(key, compiled);
                    }
                    return 0;
                }));
            }
            for (int r = 0; r < readers; r++) {
                results.add(pool.submit(() -> {
                    start.await();
                    int seen = 0;
                    for (int i = 0; i < rounds; i++) {
                        byte[] bytes;
                        try {
                            bytes = Files.readAllBytes(cache.entryPath(key));
                        } catch (NoSuchFileException notYetWritten) {
                            continue;
                        }
                        CompiledKernel read = CompileCacheEntry.decode(bytes)
                                .orElseThrow(() -> new AssertionError("read an entry that does not decode"));
                        assertArrayEquals(compiled.cubin(), read.cubin());
                        seen++;
                    }
                    return seen;
                }));
            }
            start.countDown();
            int seen = 0;
            for (Future<Integer> result : results) {
                seen += result.get(60, TimeUnit.SECONDS);
            }
            assertTrue(seen > 0);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(cache.entryPath(key)), files.toList(), "no temporary files left behind");
        }
    }

    @Test
    void processesWritingOneKeyAgree() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> processes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            processes.add(new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    CacheRaceMain.class.getName(), dir.toString(), "100")
                    .redirectErrorStream(true).start());
        }
        for (Process p : processes) {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child finished");
            String output = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.exitValue(), output);
        }
        CompileCache cache = cache(new FakeCompiler());
        assertTrue(cache.lookup(CacheRaceMain.KERNEL).isPresent());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void compileAllUsesSeveralThreads() {
        FakeCompiler compiler = new FakeCompiler();
        List<CudaKernel> kernels = IntStream.range(1, 9).mapToObj(Kernels::scale).toList();
        CompileReport report = cache(compiler).compileAll(kernels, 4);
        assertEquals(8, report.misses());
        assertEquals(4, report.threads());
    }
}
