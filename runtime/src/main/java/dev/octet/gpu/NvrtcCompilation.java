package dev.octet.gpu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** One NVRTC compile, the same for every binding: create, compile, log, CUBIN, destroy, each checked. */
final class NvrtcCompilation {
    private NvrtcCompilation() {}

    /** NVRTC's result for a source that does not compile (nvrtcResult NVRTC_ERROR_COMPILATION). */
    static final int NVRTC_ERROR_COMPILATION = 6;

    static <P> CompiledKernel compile(NvrtcCalls<P> nvrtc, String description, Path failedSourceDirectory,
                                      String name, String source, String arch, List<String> options) {
        List<String> commandLine = KernelCompiler.commandLine(arch, options);
        long start = System.nanoTime();
        P program = nvrtc.createProgram(source, name + ".cu", name);
        try {
            int result = nvrtc.compileProgram(program, commandLine);
            long millis = (System.nanoTime() - start) / 1_000_000;
            String log = nvrtc.programLog(program, name);
            if (result == NVRTC_ERROR_COMPILATION) {
                Path saved = saveSource(failedSourceDirectory, name, source);
                throw new NvrtcCompileException(name, arch, description, source, log, saved);
            }
            if (result != 0) {
                throw new NvrtcException("nvrtcCompileProgram", name, result, nvrtc.resultText(result));
            }
            byte[] cubin = nvrtc.cubin(program, name);
            return new CompiledKernel(name, arch, cubin, log, PtxasUsage.parse(log, name), millis);
        } finally {
            nvrtc.destroyProgram(program, name);
        }
    }

    /** {@code <dir>/<name>-<hash>.cu}: distinct sources never overwrite each other's evidence. */
    static Path saveSource(Path directory, String name, String source) {
        try {
            Files.createDirectories(directory);
            Path file = directory.resolve(name + "-" + shortHash(source) + ".cu");
            Files.writeString(file, source, StandardCharsets.UTF_8);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the failed source of " + name + " to " + directory, e);
        }
    }

    private static String shortHash(String source) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(source.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    static Path defaultFailedSourceDirectory() {
        return Path.of(System.getProperty("java.io.tmpdir"), "octet-failed-kernels");
    }
}
