package dev.octet.compiler.cuda.attention;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.Nvcc;
import dev.octet.compiler.cuda.attention.RopeKernel.Direction;
import dev.octet.compiler.cuda.attention.RopeKernel.Positions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every attention and RoPE kernel (and the decoding step's attention, for 64 sequences) compiles with nvcc for sm_90a with neither spills nor a stack frame (a local
 * array left in memory), for the tiny example, GPT-2 small and Qwen2.5-1.5B, with and without packed documents.
 */
class AttentionKernelsCompileTest {
    record Model(String name, AttentionShape shape, double ropeTheta) {}

    static Stream<Model> models() {
        return Stream.of(true, false).flatMap(docs -> Stream.of(
                new Model("tiny", new AttentionShape(4, 128, 4, 2, 64, docs), 10000.0),
                new Model("gpt2", new AttentionShape(1, 1024, 12, 12, 64, docs), 10000.0),
                new Model("qwen2.5-1.5b", new AttentionShape(1, 4096, 12, 2, 128, docs), 1000000.0)));
    }

    @ParameterizedTest
    @MethodSource("models")
    void attentionKernelsCompileWithoutSpills(Model model) {
        AttentionShape shape = model.shape();
        List<CudaKernel> kernels = new ArrayList<>();
        kernels.add(new FlashAttentionForward(shape).emit());
        kernels.addAll(new FlashAttentionBackward(shape).kernels());
        if (shape.documentMask()) {
            kernels.add(new DocumentPositionsKernel(shape.tokens(), shape.seq()).emit());
        } else {
            kernels.add(new DecodeAttention(64, shape.seq(), shape.heads(), shape.kvHeads(), shape.headDim()).emit());
            // A context past the one-block kernel's shared memory, with a ragged last chunk.
            DecodeAttentionSplit split = new DecodeAttentionSplit(8, 12000, shape.heads(), shape.kvHeads(), shape.headDim());
            kernels.add(split.emit());
            kernels.add(new DecodeAttentionCombine(8, 12000, shape.heads(), shape.headDim(), split.splits()).emit());
        }
        Positions positions = shape.documentMask() ? Positions.IN_DOCUMENT : Positions.IN_SEQUENCE;
        for (Direction direction : Direction.values()) {
            kernels.add(new RopeKernel(direction, shape.tokens(), shape.seq(), shape.heads(), shape.headDim(),
                    model.ropeTheta(), positions, direction == Direction.FORWARD).emit());
        }
        kernels.add(new RopeKernel(Direction.FORWARD, shape.tokens(), shape.seq(), shape.kvHeads(), shape.headDim(),
                model.ropeTheta(), positions, false).emit());
        for (CudaKernel kernel : kernels) {
            Nvcc.Usage usage = Nvcc.compileWithoutSpills(kernel);
            assertTrue(usage.log().contains(" 0 bytes stack frame"), () -> kernel.name() + " uses local memory:\n" + usage.log());
            System.out.printf("%s (%s): %d registers, no spills%n", kernel.name(), model.name(), usage.registers());
        }
    }
}
