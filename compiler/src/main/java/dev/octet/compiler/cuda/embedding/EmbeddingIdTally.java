package dev.octet.compiler.cuda.embedding;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;
import java.util.Optional;

/**
 * What {@link EmbeddingBackward} needs to know of each id before it sums: {@code first_token[id]}, the first token
 * holding it, and {@code id_count[id]}, how many do. Two launches, one thread per token: {@code reset} sets both
 * for the ids the tokens hold (to {@code INT_MAX} and 0; every token of an id writes the same values), then the
 * tally takes the minimum token and counts with integer atomics, whose results do not depend on their order. Ids
 * outside {@code [0, vocab)} are skipped, as the backward skips them.
 *
 * <p>Buffers: {@code tokens} i32[tokens], {@code first_token} and {@code id_count} i32[vocab] (written).
 */
public record EmbeddingIdTally(int tokens, int vocab, boolean reset) implements KernelSpec {
    static final int THREADS = 256;

    public EmbeddingIdTally {
        Embeddings.checkShape("embedding id tally", tokens, vocab, 1, Optional.empty());
    }

    @Override
    public String kernelName() {
        return "embedding_ids_" + (reset ? "reset" : "tally") + "_t" + tokens + "_v" + vocab;
    }

    static List<KernelParam> params() {
        return List.of(KernelParam.in("tokens", DType.I32), KernelParam.out("first_token", DType.I32),
                KernelParam.out("id_count", DType.I32));
    }

    @Override
    public CudaKernel emit() {
        String work = reset ? """
                        first_token[id] = 0x7fffffff;
                        id_count[id] = 0;
                """ : """
                        atomicMin(first_token + id, t);
                        atomicAdd(id_count + id, 1);
                """;
        String body = """
                #define TOKENS %d
                #define VOCAB %d

                extern "C" __global__ void __launch_bounds__(%d) %s%s {
                    const int t = blockIdx.x * blockDim.x + threadIdx.x;
                    if (t >= TOKENS) return;
                    const int id = tokens[t];
                    if (id < 0 || id >= VOCAB) return;
                %s}
                """.formatted(tokens, vocab, THREADS, kernelName(), CudaKernel.signature(params()), work);
        String header = (reset ? "Embedding ids, reset: first_token = INT_MAX and id_count = 0 for every id the "
                : "Embedding ids, tally: the first token and the count of every id among the ") + tokens
                + " tokens, vocabulary " + vocab + ".";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(header, body),
                LaunchGeometry.linear(Math.ceilDiv(tokens, THREADS), THREADS, 0), params());
    }
}
