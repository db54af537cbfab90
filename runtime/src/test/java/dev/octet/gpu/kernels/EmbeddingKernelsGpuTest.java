package dev.octet.gpu.kernels;

import dev.octet.compiler.cuda.embedding.EmbeddingBackward;
import dev.octet.compiler.cuda.embedding.EmbeddingForward;
import dev.octet.compiler.cuda.embedding.LearnedPositions;
import dev.octet.compiler.cuda.embedding.PositionEmbeddingBackward;
import dev.octet.compiler.ir.DType;
import dev.octet.cpu.ops.Embedding;
import dev.octet.cpu.ops.PositionEmbedding;
import dev.octet.cpu.ops.Rounding;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Optional;

/**
 * Token (and learned position) embedding forward and the table gradients against {@code Embedding} and
 * {@code PositionEmbedding}. The lookup copies BF16 rows: bit-exact. With positions, one FP32 add of two BF16
 * values and one rounding: within 1 BF16 ulp. Gradients are FP32 sums in token order against double sums:
 * relative L2 within 1e-5; and the same bits on a second run (no atomics).
 */
@GpuKernelTest
class EmbeddingKernelsGpuTest {
    private static final double GRADIENT_BOUND = 1e-5;

    @ParameterizedTest(name = "T={0} vocab={1} dim={2} positions={3} (seq {4}, table {5})")
    @CsvSource({
            "256, 1000, 128, false, 0, 0",
            "256, 1000, 384, true, 128, 160", // two sequences of 128, a position table with spare rows
            "512, 4096, 128, false, 0, 0", // the tiny model
            "8192, 50257, 768, false, 0, 0"}) // GPT-2's vocabulary, a quarter of its step's tokens
    void embeddingForwardAndBackward(int tokens, int vocab, int dim, boolean withPositions, int seqLen, int maxSeq) {
        RandomTensors random = new RandomTensors(61);
        float[] table = random.bf16Gaussian(vocab * dim, RandomTensors.WEIGHT_STD);
        // Ids drawn from a small range too, so many tokens repeat and the gradient sums really sum.
        int[] ids = random.ints(tokens, vocab);
        for (int t = 0; t < tokens; t += 3) {
            ids[t] = random.nextInt(17);
        }
        float[] dy = random.bf16Gaussian(tokens * dim, 1e-3);
        float[] previousGrad = random.gradients(vocab * dim); // e.g. the tied LM head's gradient, already there
        Optional<LearnedPositions> positions = withPositions ? Optional.of(new LearnedPositions(seqLen, maxSeq)) : Optional.empty();
        EmbeddingForward forward = new EmbeddingForward(tokens, vocab, dim, positions);
        EmbeddingBackward backward = new EmbeddingBackward(tokens, vocab, dim);
        float[] positionTable = withPositions ? random.bf16Gaussian(maxSeq * dim, RandomTensors.WEIGHT_STD) : new float[0];
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.output("out", DType.BF16, tokens * dim).input("tokens", HostArray.i32(ids)).input("table", HostArray.bf16(table))
                    .input("grad", HostArray.f32(previousGrad)).input("dy", HostArray.bf16(dy));
            if (withPositions) {
                ws.input("position_table", HostArray.bf16(positionTable));
            }
            ws.output("first_token", DType.I32, vocab).output("id_count", DType.I32, vocab).launch(forward.emit());
            launchBackward(ws, backward);

            double[] out = new double[tokens * dim];
            Embedding.forward(out, ids, Numbers.toDouble(table), tokens, vocab, dim, Rounding.GPU);
            if (withPositions) {
                double[] withPos = new double[tokens * dim];
                PositionEmbedding.forward(withPos, out, Numbers.toDouble(positionTable), tokens / seqLen, seqLen, maxSeq,
                        dim, Rounding.GPU);
                Accuracy.bf16Ulps(forward.kernelName() + " out", ws.bf16Bits("out"), withPos, 1);
            } else {
                Accuracy.bitExact(forward.kernelName() + " out", ws.bf16Bits("out"), Numbers.bf16Bits(out));
            }

            double[] grad = Numbers.toDouble(previousGrad);
            Embedding.backward(grad, Numbers.toDouble(dy), ids, tokens, vocab, dim);
            float[] first = ws.f32("grad");
            Accuracy.relativeL2(backward.kernelName() + " table gradient", first, grad, GRADIENT_BOUND);
            ws.write("grad", HostArray.f32(previousGrad));
            launchBackward(ws, backward);
            Accuracy.bitExact(backward.kernelName() + " table gradient rerun", ws.f32("grad"), first);
        }
    }

    /** The ids' reset and tally, then the table gradient, as a step launches them. */
    private static void launchBackward(DeviceWorkspace ws, EmbeddingBackward backward) {
        backward.tally().forEach(tally -> ws.launch(tally.emit()));
        ws.launch(backward.emit());
    }

    @ParameterizedTest(name = "T={0} dim={1} seq {2}, table {3}")
    @CsvSource({"256, 384, 128, 160", "512, 128, 256, 256"})
    void positionTableGradient(int tokens, int dim, int seqLen, int maxSeq) {
        RandomTensors random = new RandomTensors(62);
        float[] dy = random.bf16Gaussian(tokens * dim, 1e-3);
        float[] previousGrad = random.gradients(maxSeq * dim);
        PositionEmbeddingBackward spec = new PositionEmbeddingBackward(tokens, dim, new LearnedPositions(seqLen, maxSeq));
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("grad", HostArray.f32(previousGrad)).input("dy", HostArray.bf16(dy)).launch(spec.emit());
            double[] grad = Numbers.toDouble(previousGrad), dx = new double[tokens * dim];
            PositionEmbedding.backward(dx, grad, Numbers.toDouble(dy), PositionEmbedding.sequentialPositions(tokens / seqLen, seqLen),
                    tokens, maxSeq, dim);
            Accuracy.relativeL2(spec.kernelName() + " position table gradient", ws.f32("grad"), grad, GRADIENT_BOUND);
        }
    }
}
