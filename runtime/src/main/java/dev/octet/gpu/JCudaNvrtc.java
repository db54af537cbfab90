package dev.octet.gpu;

import jcuda.nvrtc.JNvrtc;
import jcuda.nvrtc.nvrtcProgram;

import java.nio.file.Path;
import java.util.List;

/**
 * NVRTC through JCuda 12.6's binding, which links to libnvrtc.so.12 (CUDA 12). Construct it only where
 * that library loads ({@link NvrtcCompilers} checks first): JCuda's JNI library fails to load otherwise.
 */
public final class JCudaNvrtc implements KernelCompiler {
    public static final String LIBRARY = "libnvrtc.so.12";

    private final Calls calls = new Calls();
    private final NvrtcVersion version;
    private final Path failedSourceDirectory;

    public JCudaNvrtc(Path failedSourceDirectory) {
        this.failedSourceDirectory = failedSourceDirectory;
        this.version = calls.version();
    }

    public JCudaNvrtc() {
        this(NvrtcCompilation.defaultFailedSourceDirectory());
    }

    @Override
    public NvrtcVersion version() {
        return version;
    }

    @Override
    public String description() {
        return "NVRTC " + version + " via JCuda (" + LIBRARY + ")";
    }

    @Override
    public CompiledKernel compile(String name, String source, String arch, List<String> options) {
        return NvrtcCompilation.compile(calls, description(), failedSourceDirectory, name, source, arch, options);
    }

    private static final class Calls implements NvrtcCalls<nvrtcProgram> {
        private void check(int result, String call, String kernel) {
            if (result != 0) {
                throw new NvrtcException(call, kernel, result, resultText(result));
            }
        }

        @Override
        public NvrtcVersion version() {
            int[] major = new int[1], minor = new int[1];
            check(JNvrtc.nvrtcVersion(major, minor), "nvrtcVersion", "(none)");
            return new NvrtcVersion(major[0], minor[0]);
        }

        @Override
        public nvrtcProgram createProgram(String source, String programName, String kernel) {
            nvrtcProgram program = new nvrtcProgram();
            check(JNvrtc.nvrtcCreateProgram(program, source, programName, 0, null, null), "nvrtcCreateProgram",
                    kernel);
            return program;
        }

        @Override
        public int compileProgram(nvrtcProgram program, List<String> options) {
            return JNvrtc.nvrtcCompileProgram(program, options.size(), options.toArray(String[]::new));
        }

        @Override
        public String programLog(nvrtcProgram program, String kernel) {
            String[] log = new String[1];
            check(JNvrtc.nvrtcGetProgramLog(program, log), "nvrtcGetProgramLog", kernel);
            return log[0] == null ? "" : log[0];
        }

        @Override
        public byte[] cubin(nvrtcProgram program, String kernel) {
            long[] size = new long[1];
            check(JNvrtc.nvrtcGetCUBINSize(program, size), "nvrtcGetCUBINSize", kernel);
            byte[] cubin = new byte[Math.toIntExact(size[0])];
            check(JNvrtc.nvrtcGetCUBIN(program, cubin), "nvrtcGetCUBIN", kernel);
            return cubin;
        }

        @Override
        public void destroyProgram(nvrtcProgram program, String kernel) {
            check(JNvrtc.nvrtcDestroyProgram(program), "nvrtcDestroyProgram", kernel);
        }

        @Override
        public String resultText(int result) {
            return JNvrtc.nvrtcGetErrorString(result);
        }
    }
}
