package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.ir.DType;

/**
 * The encode loop of a kernel whose output is its input transposed (a wgrad operand) and whose scales are known
 * before it encodes ({@link QuantizeTensorwise}, {@link QuantizeDelayed}, {@link QuantizeColumns}): a grid-stride walk over {@value #TILE}×{@value #TILE} tiles, each read
 * along the input's rows into shared memory and written along the output's rows. Walked element by element from
 * memory instead, neighbouring threads read input elements a whole row apart (~400 GB/s at GPT-2's 8192×768).
 * The scales come from amaxes taken before the walk, so its order changes nothing in the codes.
 */
final class TransposedTiles {
    /** Tile side, in elements. */
    static final int TILE = 64;

    private TransposedTiles() {}

    /** The loop of a kernel with one scale, {@code s} and {@code inv_s}, in scope. */
    static String walk(DType input, String onLoad, String quotient) {
        return walk(input, onLoad, "", "", quotient);
    }

    /**
     * The loop, for a kernel of {@code BLOCKS} blocks of {@code THREADS} threads with {@code x} and {@code codes} in
     * scope: {@code tileStart} runs before a tile (at {@code r0}, {@code c0}) is staged, {@code onLoad} once for each
     * input element {@code v} inside the matrix as it is staged, {@code rowScale} before each code of output row
     * {@code c0 + j}, and {@code quotient} is what is encoded of {@code v}.
     */
    static String walk(DType input, String onLoad, String tileStart, String rowScale, String quotient) {
        String load = input == DType.BF16 ? "bf16_to_f32(x[r * IN_COLS + c])" : "x[r * IN_COLS + c]";
        return """
                __shared__ float staged[TRANSPOSED_TILE][TRANSPOSED_TILE + 1];  // +1: the column reads hit distinct banks
                constexpr int TILES_ACROSS = (IN_COLS + TRANSPOSED_TILE - 1) / TRANSPOSED_TILE;
                constexpr int TILES = TILES_ACROSS * ((IN_ROWS + TRANSPOSED_TILE - 1) / TRANSPOSED_TILE);
                for (int tile = blockIdx.x; tile < TILES; tile += BLOCKS) {
                    const int r0 = (tile / TILES_ACROSS) * TRANSPOSED_TILE, c0 = (tile %% TILES_ACROSS) * TRANSPOSED_TILE;
                %s
                    #pragma unroll 4
                    for (int i = threadIdx.x; i < TRANSPOSED_TILE * TRANSPOSED_TILE; i += THREADS) {
                        const int r = r0 + i / TRANSPOSED_TILE, c = c0 + i %% TRANSPOSED_TILE;
                        float v = 0.0f;
                        if (r < IN_ROWS && c < IN_COLS) {
                            v = %s;
                            %s
                        }
                        staged[i / TRANSPOSED_TILE][i %% TRANSPOSED_TILE] = v;
                    }
                    __syncthreads();
                    // Output row c0 + j holds input column c0 + j; its codes r0 .. r0 + TILE - 1 are one contiguous run.
                    #pragma unroll 4
                    for (int i = threadIdx.x; i < TRANSPOSED_TILE * TRANSPOSED_TILE; i += THREADS) {
                        const int j = i / TRANSPOSED_TILE, k = i %% TRANSPOSED_TILE;
                        if (c0 + j < IN_COLS && r0 + k < IN_ROWS) {
                            const float v = staged[k][j];
                            %s
                            codes[(c0 + j) * OUT_COLS + r0 + k] = encode(%s);
                        }
                    }
                    __syncthreads();
                }
                """.formatted(tileStart.indent(4).stripTrailing(), load, onLoad, rowScale, quotient);
    }

    /** The tile side as a constant of the kernel source. */
    static String constants() {
        return "constexpr int TRANSPOSED_TILE = " + TILE + ";\n";
    }
}
