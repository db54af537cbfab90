package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;
import java.util.Objects;

/**
 * The amax of every column of a row-major {@code [rows, cols]} matrix, first level: block (x, y) reduces
 * {@value #COLUMNS} columns over row range y, read along the rows with 16-byte loads where the rows allow, into
 * {@code amax_partials[y * cols + col]} (magnitude bits as floats, NaN kept). The ranges split the rows so that
 * a narrow matrix still fills the chip; {@link QuantizeColumns} takes the max over them.
 */
public record ColumnAmax(DType input, int rows, int cols) implements KernelSpec {
    static final int THREADS = 256;
    /** Input columns per block: 128 bytes of BF16 per row, eight 16-byte loads. */
    static final int COLUMNS = 64;
    /** Blocks aimed at: four waves of an H200's 132 SMs. */
    private static final int TARGET_BLOCKS = 4 * 132;
    /** The fewest rows a range is given, so that each thread makes at least two passes. */
    private static final int MIN_RANGE_ROWS = 64;

    public ColumnAmax {
        Objects.requireNonNull(input, "input");
        if (input != DType.BF16 && input != DType.F32) {
            throw new IllegalArgumentException("column amax reads bf16 or f32, not " + input.irName());
        }
        if (rows <= 0 || cols <= 0 || (long) rows * cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("column amax needs a non-empty matrix indexable with ints, got " + rows + "x" + cols);
        }
    }

    /** Row ranges, each reduced by its own blocks. */
    public int splits() {
        int columnBlocks = Math.ceilDiv(cols, COLUMNS);
        return Math.max(1, Math.min(Math.ceilDiv(TARGET_BLOCKS, columnBlocks), Math.ceilDiv(rows, MIN_RANGE_ROWS)));
    }

    public int partialCount() {
        return splits() * cols;
    }

    @Override
    public String kernelName() {
        return "column_amax_" + input.irName() + "_" + rows + "x" + cols;
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = List.of(KernelParam.in("x", input), KernelParam.out("amax_partials", DType.F32));
        String convert = input == DType.BF16 ? "bf16_to_f32(v)" : "v";
        String body = AmaxDevice.SOURCE + """

                typedef %s in_t;
                constexpr int IN_ROWS = %d, IN_COLS = %d, COLUMNS = %d, THREADS = %d, SPLITS = %d;
                constexpr int RANGE_ROWS = (IN_ROWS + SPLITS - 1) / SPLITS;
                constexpr int EPC = 16 / (int) sizeof(in_t);     // elements per 16-byte load
                constexpr int LANES = COLUMNS / EPC;             // threads across a block's columns
                constexpr int ROW_STEP = THREADS / LANES;        // rows read at once
                constexpr bool VECTOR_ROWS = IN_COLS %% EPC == 0; // every 16-byte chunk of a row is whole and aligned

                __device__ __forceinline__ float to_f32(in_t v) { return %s; }

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    __shared__ unsigned partial[ROW_STEP][COLUMNS + 1];
                    const int lane = threadIdx.x %% LANES, step = threadIdx.x / LANES;
                    const int c = blockIdx.x * COLUMNS + lane * EPC;
                    const int r_begin = blockIdx.y * RANGE_ROWS, r_end = min(IN_ROWS, r_begin + RANGE_ROWS);
                    unsigned a[EPC] = {};
                    #pragma unroll 4
                    for (int r = r_begin + step; r < r_end; r += ROW_STEP) {
                        if (VECTOR_ROWS) {
                            if (c < IN_COLS) {
                                const uint4 chunk = *reinterpret_cast<const uint4*>(x + (size_t) r * IN_COLS + c);
                                const in_t* e = reinterpret_cast<const in_t*>(&chunk);
                                #pragma unroll
                                for (int j = 0; j < EPC; j++) a[j] = max(a[j], abs_bits(to_f32(e[j])));
                            }
                        } else {
                            #pragma unroll
                            for (int j = 0; j < EPC; j++) {
                                if (c + j < IN_COLS) a[j] = max(a[j], abs_bits(to_f32(x[(size_t) r * IN_COLS + c + j])));
                            }
                        }
                    }
                    #pragma unroll
                    for (int j = 0; j < EPC; j++) partial[step][lane * EPC + j] = a[j];
                    __syncthreads();
                    if (threadIdx.x < COLUMNS) {
                        const int col = blockIdx.x * COLUMNS + threadIdx.x;
                        unsigned m = 0;
                        for (int s = 0; s < ROW_STEP; s++) m = max(m, partial[s][threadIdx.x]);
                        if (col < IN_COLS) amax_partials[blockIdx.y * IN_COLS + col] = __uint_as_float(m);
                    }
                }
                """.formatted(input.cudaType(), rows, cols, COLUMNS, THREADS, splits(), convert, kernelName(),
                CudaKernel.signature(params));
        String description = "Column amax, first level: amax_partials[y * cols + c] = max |x[r, c]| over row range y"
                + " (NaN kept).\n" + input.irName() + "[" + rows + ", " + cols + "], " + splits() + " row ranges of "
                + Math.ceilDiv(rows, splits()) + "; one block per " + COLUMNS + " columns of a range.";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                new LaunchGeometry(Math.ceilDiv(cols, COLUMNS), splits(), 1, THREADS, 1, 1, 0), params);
    }
}
