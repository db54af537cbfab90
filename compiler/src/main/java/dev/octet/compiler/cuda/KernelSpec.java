package dev.octet.compiler.cuda;

/**
 * The compile-time parameters of one kernel template (shapes, group sizes, formats, tile sizes, fused
 * prologue/epilogue options), as a record; {@link #emit()} renders the specialised source. Equal specs emit
 * equal sources, so the runtime's compile cache and the plan can share one kernel between launches.
 */
public interface KernelSpec {
    /** A lower_snake_case name that says what the kernel computes and for which shapes. */
    String kernelName();

    CudaKernel emit();
}
