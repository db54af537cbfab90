package dev.octet.gpu;

import java.util.List;

/**
 * The few NVRTC entry points a compile needs, over one program handle {@code P}; implemented once through
 * JCuda and once through java.lang.foreign, so {@link NvrtcCompilation} checks every result the same way.
 * Each method but {@link #compileProgram} throws {@link NvrtcException} itself when its call fails.
 */
interface NvrtcCalls<P> {
    NvrtcVersion version();

    P createProgram(String source, String programName, String kernel);

    /** Returns NVRTC's result as is: a compilation error is not an exception at this level. */
    int compileProgram(P program, List<String> options);

    String programLog(P program, String kernel);

    byte[] cubin(P program, String kernel);

    void destroyProgram(P program, String kernel);

    String resultText(int result);
}
