package dev.octet.gpu;

import dev.octet.compiler.cuda.CudaKernel;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** A child process for CompileCacheTest: stores and reads one key over and over; exit 1 on a bad read. */
public final class CacheRaceMain {
    static final CudaKernel KERNEL = Kernels.scale(1 << 18);

    public static void main(String[] args) {
        CompileCache cache = new CompileCache(new FakeCompiler(), Path.of(args[0]), KernelCompiler.HOPPER,
                List.of("-lineinfo"));
        int rounds = Integer.parseInt(args[1]);
        CompiledKernel compiled = new FakeCompiler().compile(KERNEL, KernelCompiler.HOPPER, List.of("-lineinfo"));
        CacheKey key = cache.key(KERNEL);
        for (int i = 0; i < rounds; i++) {
            cache.store(key, compiled);
            CompiledKernel read = cache.lookup(KERNEL).orElseThrow(() -> new AssertionError("entry vanished"));
            if (!Arrays.equals(read.cubin(), compiled.cubin())) {
                System.err.println("read a different CUBIN in round " + i);
                System.exit(1);
            }
        }
    }
}
