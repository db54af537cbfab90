package dev.octet.gpu;

import dev.octet.compiler.cuda.CudaKernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * CUBINs on disk, one file per {@link CacheKey}, shared by every process of the user. An entry is written
 * to a temporary file in the cache folder and renamed over its name atomically, so a reader sees a whole
 * entry or none, and two processes compiling the same kernel just both win with equal bytes.
 */
public final class CompileCache {
    private static final String SUFFIX = ".kernel";

    private final KernelCompiler compiler;
    private final Path directory;
    private final String arch;
    private final List<String> options;

    public CompileCache(KernelCompiler compiler, Path directory, String arch, List<String> options) {
        this.compiler = compiler;
        this.directory = directory;
        this.arch = arch;
        this.options = List.copyOf(options);
    }

    /** A cache in {@link #defaultDirectory()}. */
    public CompileCache(KernelCompiler compiler, String arch, List<String> options) {
        this(compiler, defaultDirectory(), arch, options);
    }

    /** {@code $OCTET_KERNEL_CACHE}, else {@code $XDG_CACHE_HOME/octet/kernels}, else ~/.cache/octet/kernels. */
    public static Path defaultDirectory() {
        String explicit = System.getenv("OCTET_KERNEL_CACHE");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("octet").resolve("kernels");
    }

    public Path directory() {
        return directory;
    }

    public CacheKey key(CudaKernel kernel) {
        return CacheKey.of(kernel.name(), kernel.source(), KernelCompiler.commandLine(arch, options),
                compiler.version(), arch);
    }

    public Optional<CompiledKernel> lookup(CudaKernel kernel) {
        return read(key(kernel));
    }

    /** The cached CUBIN of {@code kernel}, compiled and stored first when missing. */
    public CompiledKernel get(CudaKernel kernel) {
        CacheKey key = key(kernel);
        return read(key).orElseGet(() -> store(key, compiler.compile(kernel, arch, options)));
    }

    /** Every kernel, misses compiled in parallel on all cores. The first compile error is thrown. */
    public CompileReport compileAll(List<CudaKernel> kernels) {
        return compileAll(kernels, Runtime.getRuntime().availableProcessors());
    }

    public CompileReport compileAll(List<CudaKernel> kernels, int threads) {
        long start = System.nanoTime();
        Map<CacheKey, CudaKernel> unique = new LinkedHashMap<>();
        for (CudaKernel kernel : kernels) {
            unique.putIfAbsent(key(kernel), kernel);
        }
        Map<CacheKey, CompiledKernel> done = new LinkedHashMap<>();
        Map<CacheKey, CudaKernel> missing = new LinkedHashMap<>();
        unique.forEach((key, kernel) -> read(key).ifPresentOrElse(
                compiled -> done.put(key, compiled), () -> missing.put(key, kernel)));
        int hits = done.size();
        long compileMillis = 0;
        if (!missing.isEmpty()) {
            int pool = Math.max(1, Math.min(threads, missing.size()));
            try (ExecutorService executor = Executors.newFixedThreadPool(pool)) {
                Map<CacheKey, Future<CompiledKernel>> futures = new LinkedHashMap<>();
                missing.forEach((key, kernel) -> futures.put(key,
                        executor.submit(() -> store(key, compiler.compile(kernel, arch, options)))));
                List<Throwable> failures = new ArrayList<>();
                for (var future : futures.entrySet()) {
                    try {
                        CompiledKernel compiled = future.getValue().get();
                        compileMillis += compiled.compileMillis();
                        done.put(future.getKey(), compiled);
                    } catch (ExecutionException e) {
                        failures.add(e.getCause());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted while compiling kernels", e);
                    }
                }
                if (!failures.isEmpty()) {
                    throw firstWithOthersSuppressed(failures);
                }
            }
            threads = pool;
        }
        List<CompiledKernel> ordered = kernels.stream().map(kernel -> done.get(key(kernel))).toList();
        long wallMillis = (System.nanoTime() - start) / 1_000_000;
        return new CompileReport(ordered, hits, missing.size(), wallMillis, compileMillis,
                missing.isEmpty() ? 0 : threads);
    }

    private static RuntimeException firstWithOthersSuppressed(List<Throwable> failures) {
        Throwable first = failures.getFirst();
        RuntimeException thrown = first instanceof RuntimeException r ? r : new IllegalStateException(first);
        failures.stream().skip(1).forEach(thrown::addSuppressed);
        return thrown;
    }

    Path entryPath(CacheKey key) {
        return directory.resolve(key.hex() + SUFFIX);
    }

    private Optional<CompiledKernel> read(CacheKey key) {
        try {
            return CompileCacheEntry.decode(Files.readAllBytes(entryPath(key)));
        } catch (NoSuchFileException missing) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read compile-cache entry " + entryPath(key), e);
        }
    }

    /** Writes {@code compiled} under {@code key} atomically and returns it. */
    CompiledKernel store(CacheKey key, CompiledKernel compiled) {
        Path target = entryPath(key);
        Path temporary = null;
        try {
            Files.createDirectories(directory);
            // Same folder as the target: a rename within one filesystem is what makes the move atomic.
            temporary = Files.createTempFile(directory, key.hex() + ".", ".tmp");
            Files.write(temporary, CompileCacheEntry.encode(compiled));
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return compiled;
        } catch (AtomicMoveNotSupportedException e) {
            throw new UncheckedIOException("the compile cache needs atomic renames; " + directory
                    + " is on a filesystem without them (set OCTET_KERNEL_CACHE elsewhere)", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write compile-cache entry " + target, e);
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // a stray .tmp file is harmless: readers only open *.kernel names
                }
            }
        }
    }
}
