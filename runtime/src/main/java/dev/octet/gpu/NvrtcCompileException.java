package dev.octet.gpu;

import java.nio.file.Path;

/**
 * A kernel whose source NVRTC refused. The message names the kernel and the architecture, shows the log
 * with the offending source lines, and names the file the whole source was saved to.
 */
public final class NvrtcCompileException extends RuntimeException {
    private final String kernel;
    private final String log;
    private final Path savedSource;

    public NvrtcCompileException(String kernel, String arch, String compiler, String source, String log,
                                 Path savedSource) {
        super("kernel " + kernel + " does not compile for " + arch + " with " + compiler
                + "; source saved to " + savedSource + "\n" + CompileLogContext.annotate(log, source));
        this.kernel = kernel;
        this.log = log;
        this.savedSource = savedSource;
    }

    public String kernel() {
        return kernel;
    }

    /** NVRTC's log as it was. */
    public String log() {
        return log;
    }

    public Path savedSource() {
        return savedSource;
    }
}
