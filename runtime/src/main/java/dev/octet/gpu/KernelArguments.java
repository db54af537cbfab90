package dev.octet.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelParam;

import java.util.List;

/**
 * Checks arguments against a kernel's parameters before a launch. A wrong argument does not fail a launch:
 * it corrupts memory or reads garbage, and the error surfaces kernels later. So the count, the kind of each
 * argument, and the alignment of each pointer are checked here, naming the kernel and the parameter.
 */
public final class KernelArguments {
    private KernelArguments() {}

    public static void check(CudaKernel kernel, List<KernelArg> args) {
        List<KernelParam> params = kernel.params();
        if (args.size() != params.size()) {
            throw new IllegalArgumentException("kernel " + kernel.name() + " takes " + params.size()
                    + " arguments " + CudaKernel.signature(params) + ", got " + args.size());
        }
        for (int i = 0; i < params.size(); i++) {
            KernelParam param = params.get(i);
            String problem = problem(param, args.get(i));
            if (!problem.isEmpty()) {
                throw new IllegalArgumentException("kernel " + kernel.name() + ", argument " + i + " ("
                        + param.cudaDeclaration() + "): " + problem);
            }
        }
    }

    /** What is wrong with passing {@code arg} for {@code param}; empty when nothing is. */
    private static String problem(KernelParam param, KernelArg arg) {
        return switch (param.kind()) {
            case BUFFER -> param.tensorMap().isPresent() ? switch (arg) {
                case KernelArg.TensorMapArg t when t.spec().globalAddress() % 16 != 0 ->
                        "tensor map over 0x" + Long.toHexString(t.spec().globalAddress()) + ", not 16-byte aligned";
                case KernelArg.TensorMapArg t -> "";
                default -> "expected a tensor map, got " + arg;
            } : switch (arg) {
                case KernelArg.DevicePointer p when p.address() == 0 -> "a null device pointer";
                case KernelArg.DevicePointer p when p.address() % param.dtype().bytes() != 0 ->
                        "address 0x" + Long.toHexString(p.address()) + " is not aligned to "
                                + param.dtype().bytes() + " bytes";
                case KernelArg.DevicePointer p -> "";
                default -> "expected a device pointer, got " + arg;
            };
            case SCALAR -> switch (param.dtype()) {
                case F32 -> arg instanceof KernelArg.F32 ? "" : "expected an F32 scalar, got " + arg;
                case I32 -> arg instanceof KernelArg.I32 ? "" : "expected an I32 scalar, got " + arg;
                case BF16, E4M3, E5M2 -> "scalar parameters of type " + param.dtype().irName()
                        + " are not supported by the launcher";
            };
        };
    }
}
