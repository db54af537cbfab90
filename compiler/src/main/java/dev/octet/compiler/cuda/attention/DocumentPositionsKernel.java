package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * Positions that restart at 0 at every document start of a packed sequence, for RoPE under a document mask:
 * {@code positions[t] = s − (the last s' ≤ s with s' = 0 or ids[b·seq + s'] ≠ ids[b·seq + s' − 1])}, as the CPU
 * oracle's {@code PositionEmbedding.documentPositions}. Computed once per step and read by every RoPE launch.
 * One block per sequence: an inclusive max-scan of document-start indices over chunks of 256 tokens.
 *
 * <p>Parameters: {@code document_ids, positions}, both i32[tokens].
 */
public record DocumentPositionsKernel(int tokens, int seq) implements KernelSpec {
    static final int THREADS = 256;

    public DocumentPositionsKernel {
        if (seq < 1 || tokens < seq || tokens % seq != 0) {
            throw new IllegalArgumentException(
                    "document positions: tokens (" + tokens + ") must be a positive multiple of seq (" + seq + ")");
        }
    }

    @Override
    public String kernelName() {
        return "document_positions_t" + tokens + "_s" + seq;
    }

    public List<KernelParam> params() {
        return List.of(KernelParam.in("document_ids", DType.I32), KernelParam.out("positions", DType.I32));
    }

    @Override
    public CudaKernel emit() {
        String description = """
                Positions within documents: restart at 0 at every change of document id and at every sequence start.
                document_ids, positions: i32[%d tokens]; sequences of %d tokens.""".formatted(tokens, seq);
        String body = "constexpr int SEQ = " + seq + ";\nconstexpr int THREADS = " + THREADS + ";\n" + KERNEL
                .replace("$NAME", kernelName())
                .replace("$SIGNATURE", CudaKernel.signature(params()));
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(tokens / seq, THREADS, 0), params());
    }

    private static final String KERNEL = """
            extern "C" __global__ void __launch_bounds__(THREADS) $NAME$SIGNATURE {
                __shared__ int scan[THREADS];
                const long first_token = (long) blockIdx.x * SEQ;
                int latest_start = 0;  // the last document start of the chunks already done
                for (int chunk = 0; chunk < SEQ; chunk += THREADS) {
                    const int s = chunk + threadIdx.x;
                    const bool start = s < SEQ
                            && (s == 0 || document_ids[first_token + s] != document_ids[first_token + s - 1]);
                    scan[threadIdx.x] = start ? s : 0;
                    __syncthreads();
                    // Hillis–Steele inclusive max-scan: after it, scan[i] is the last start at or before chunk + i.
                    for (int offset = 1; offset < THREADS; offset <<= 1) {
                        const int before = threadIdx.x >= offset ? scan[threadIdx.x - offset] : 0;
                        __syncthreads();
                        scan[threadIdx.x] = max(scan[threadIdx.x], before);
                        __syncthreads();
                    }
                    if (s < SEQ) positions[first_token + s] = s - max(latest_start, scan[threadIdx.x]);
                    latest_start = max(latest_start, scan[THREADS - 1]);
                    __syncthreads();  // scan is rewritten by the next chunk
                }
            }
            """;
}
