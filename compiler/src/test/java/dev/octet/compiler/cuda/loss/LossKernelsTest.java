package dev.octet.compiler.cuda.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.ModelShapes;
import dev.octet.compiler.cuda.Nvcc;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

class LossKernelsTest {

    static Stream<CudaKernel> kernels() {
        return ModelShapes.all().stream().flatMap(s -> Stream.of(
                new CrossEntropyFused(s.tokens(), s.vocab()).emit(), new TokenLossSum(s.tokens()).emit()));
    }

    @TestFactory
    Stream<DynamicTest> everyKernelCompilesWithoutSpills() {
        return kernels().map(k -> DynamicTest.dynamicTest(k.name(), () -> {
            Nvcc.Usage usage = Nvcc.compileWithoutSpills(k);
            System.out.println(k.name() + ": " + usage.registers() + " registers, no spills");
        }));
    }

    @Test
    void logitsAreOverwrittenByTheirGradientInPlace() {
        CudaKernel k = new CrossEntropyFused(1024, 50257).emit();
        assertEquals(List.of("logits", "targets", "loss_weight", "losses"), k.params().stream().map(KernelParam::name).toList());
        assertEquals(KernelParam.Access.READ_WRITE, k.params().get(0).access());
        assertEquals(1024, k.launch().gridX());
    }

    @Test
    void sourcesAreDeterministic() {
        assertEquals(new CrossEntropyFused(4096, 151936).emit(), new CrossEntropyFused(4096, 151936).emit());
        assertEquals(new TokenLossSum(512).emit(), new TokenLossSum(512).emit());
    }

    @Test
    void badSpecsAreRefusedWithTheReason() {
        assertMessage("at least 2", () -> new CrossEntropyFused(512, 1));
        assertMessage("over no tokens", () -> new CrossEntropyFused(0, 4096));
        assertMessage("split the tokens", () -> new CrossEntropyFused(65536, 151936));
        assertMessage("over no tokens", () -> new TokenLossSum(0));
    }

    static void assertMessage(String expected, org.junit.jupiter.api.function.Executable construct) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct);
        assertTrue(e.getMessage().contains(expected), () -> "message '" + e.getMessage() + "' lacks '" + expected + "'");
    }
}
