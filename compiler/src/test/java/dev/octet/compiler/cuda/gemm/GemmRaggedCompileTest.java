package dev.octet.compiler.cuda.gemm;

import dev.octet.compiler.cuda.Nvcc;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Shapes off every tile boundary compile without spills: ragged M and N, an FP8 K with a partial last
 * promotion chunk and several promotions per stage, and BF16 leading dimensions that force each copy width
 * (16, 8, 4 and 2 bytes).
 */
class GemmRaggedCompileTest {

    static Stream<GemmProblem> problems() {
        GemmEpilogue bf16 = GemmEpilogue.store(DType.BF16);
        Stream<GemmProblem> fp8 = Stream.of(
                // group(64): chunk 64, two promotions per 128-wide stage; K = 160: last chunk is 32 wide.
                GemmProblem.fp8(100, 50257, 160, Fp8Format.E4M3, Granularity.group(64), Fp8Format.E4M3,
                        Granularity.block(128), bf16),
                // group(32): four promotions per stage.
                GemmProblem.fp8(33, 77, 96, Fp8Format.E5M2, Granularity.group(32), Fp8Format.E5M2,
                        Granularity.group(96), GemmEpilogue.accumulateF32().withBias()),
                GemmProblem.fp8(1, 1, 32, Fp8Format.E4M3, Granularity.channel(), Fp8Format.E5M2,
                        Granularity.tensor(), bf16.withResidual()));
        Stream<GemmProblem> bf16Layouts = Stream.of(OperandLayout.values()).flatMap(a -> Stream.of(OperandLayout.values())
                .flatMap(b -> Stream.of(
                        GemmProblem.bf16(100, 77, 50, a, b, bf16),          // copies of 2 (N=77) and 4 bytes (K=50)
                        GemmProblem.bf16(36, 1000, 4, a, b, bf16.withBias()),  // 8-byte copies (M=36, K=4)
                        GemmProblem.bf16(1, 1, 1, a, b, GemmEpilogue.accumulateF32()))));
        return Stream.concat(fp8, bf16Layouts);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("problems")
    void compilesWithoutSpills(GemmProblem problem) {
        Nvcc.compileWithoutSpills(GemmKernels.forProblem(problem).emit());
    }
}
