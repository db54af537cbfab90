package dev.octet.compiler.cuda.gemm;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.Nvcc;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every GEMM kernel of the example models compiles for sm_90a without spilling registers. */
class GemmKernelsCompileTest {

    static Stream<GemmProblem> problems() {
        return ExampleModelGemms.all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("problems")
    void compilesWithoutSpills(GemmProblem problem) {
        CudaKernel kernel = GemmKernels.forProblem(problem).emit();
        Nvcc.Usage usage = Nvcc.compileWithoutSpills(kernel);
        System.out.printf("%-90s %3d registers, %6d B smem, %4d threads%n", kernel.name(), usage.registers(),
                kernel.launch().sharedBytes(), kernel.launch().threadsPerBlock());
        assertTrue(usage.registers() <= 255, kernel.name());
    }

    /** The cluster-of-two variant of every example FP8 GEMM: no spills, no stack frame, no slow-path warning. */
    static Stream<GemmProblem> fp8Problems() {
        return problems().filter(GemmProblem::isFp8);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fp8Problems")
    void clustersOfTwoCompileOnTheFastPath(GemmProblem problem) {
        CudaKernel kernel = Fp8WgmmaGemm.withTiles(problem, problem.n() <= 64 ? 64 : 128, 2).emit();
        Nvcc.Usage usage = Nvcc.compileWithoutSpills(kernel);
        assertFalse(usage.log().matches("(?s).*C75(0[89]|1[0-9]).*"), () -> kernel.name() + " slow path:\n" + usage.log());
        assertTrue(usage.log().contains(" 0 bytes stack frame"), () -> kernel.name() + " has a stack frame:\n" + usage.log());
    }
}
