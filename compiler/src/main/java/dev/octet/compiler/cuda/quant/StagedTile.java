package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaLiteral;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.ScaleIndex;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.numerics.Axis;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleGrid;
import dev.octet.numerics.ScaleType;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * The quantize kernel that stages a tile of {@code tileRows} input rows × {@value #TILE_BYTES} bytes of columns in
 * shared memory with 16-byte loads ({@link QuantizeGroups} transposed, {@link QuantizeTiled}'s 64 and 128 blocks). Transposed,
 * four threads share each pair of input columns (a quarter of the tile's rows each, in runs of STORE tokens taken
 * in turn, so that the four stores of one step write neighbouring bytes of an output row) and write their quarter of
 * the two output rows with stores of up to 16 codes, two codes a conversion; the 16-byte chunks of a staged row are
 * XOR-swizzled by the run the row belongs to, so both the row-wise stores into shared memory and the quarters'
 * column reads are free of bank conflicts. Not transposed (whole-tile scope only), each thread encodes staged chunks
 * back along the rows. Amaxes of BF16 compare magnitudes as 16-bit integers, two at a time.
 *
 * <p>With a row output (column-group scope) the transposing block also writes the input itself in 1×g groups
 * along its rows, encoded from the registers each 16-byte load landed in, so a tensor that fprop/dgrad and wgrad
 * both read is read once. With column sums it also writes, per tile, the FP32 sums of its columns over the tile's
 * rows (a bias gradient's first stage), so the gradient is not read again for them.
 */
final class StagedTile {
    /** Bytes of input columns a block stages per row: 128 BF16 or 64 FP32 columns. */
    static final int TILE_BYTES = 256;
    /** Threads sharing one pair of input columns in the column walk, each with a quarter of the tile's rows. */
    private static final int QUARTERS = 4;

    /** Which elements share a scale. */
    enum Scope {
        /** Each output row of the tile (an input column's run of tileRows tokens): groups along the tokens. */
        COLUMN_GROUPS,
        /** The whole tile: a square block of as many input rows as the tile has columns. */
        WHOLE_TILE
    }

    /** {@code function(dst, t, c, e, s, inv_s)}: a chunk's EPC values of input row t from column c on, encoded. */
    private static String chunkStore(String function, String encoder) {
        return """

                __device__ __forceinline__ void %s(fp8_t* __restrict__ dst, int t, int c, const in_t* e, float s, float inv_s) {
                    unsigned w[2] = {};
                    #pragma unroll
                    for (int j = 0; j < EPC; j += 2) {
                        float v0, v1;
                        pair_at(e + j, v0, v1);
                        w[j / 4] |= %s(v0, v1, s, inv_s) << (8 * (j %% 4));
                    }
                    if (VECTOR_ROWS && EPC == 8) {
                        *reinterpret_cast<uint2*>(dst + t * IN_COLS + c) = make_uint2(w[0], w[1]);
                    } else {
                        #pragma unroll
                        for (int j = 0; j < EPC; j++) if (c + j < IN_COLS) dst[t * IN_COLS + c + j] = (fp8_t) (w[j / 4] >> (8 * (j %% 4)));
                    }
                }
                """.formatted(function, encoder);
    }

    /** The column walk's codes: each thread's quarter of its two output rows, STORE codes at a time. */
    private static final String COLUMN_WALK_STORES = """
                    fp8_t* out0 = codes + c * OUT_COLS + t0;
                    fp8_t* out1 = out0 + OUT_COLS;
                    // Quarter q takes the runs of STORE tokens q, q + 4, q + 8, ...: the four quarters' stores of one
                    // step write neighbouring bytes of an output row.
                    for (int r = q * STORE; r < GROUP; r += 4 * STORE) {
                        if (r + STORE <= GROUP && t0 + r + STORE <= IN_ROWS) {
                            // The run's rows share a swizzle: their pairs lie CPR chunks apart from the first's.
                            const in_t* run = reinterpret_cast<const in_t*>(&tile[staged(r, ch)]) + within;
                            unsigned w0[(STORE + 3) / 4] = {}, w1[(STORE + 3) / 4] = {};
                            // Two rows a conversion: the codes of consecutive tokens are neighbouring bytes.
                            #pragma unroll
                            for (int j = 0; j < STORE; j += 2) {
                                float e0, e1;
                                pair_at(run + j * CPR * EPC, e0, e1);
                                if (j + 1 < STORE) {
                                    float f0, f1;
                                    pair_at(run + (j + 1) * CPR * EPC, f0, f1);
                                    w0[j / 4] |= codes2_of(e0, f0, s0, inv_s0) << (8 * (j % 4));
                                    w1[j / 4] |= codes2_of(e1, f1, s1, inv_s1) << (8 * (j % 4));
                                } else {
                                    w0[j / 4] |= code_of(e0, s0, inv_s0) << (8 * (j % 4));
                                    w1[j / 4] |= code_of(e1, s1, inv_s1) << (8 * (j % 4));
                                }
                            }
                            if (c < IN_COLS) store_codes(out0 + r, w0);
                            if (c + 1 < IN_COLS) store_codes(out1 + r, w1);
                        } else {
                            for (int j = 0; j < STORE && r + j < GROUP && t0 + r + j < IN_ROWS; j++) {
                                float e0, e1;
                                pair_at(reinterpret_cast<const in_t*>(&tile[staged(r + j, ch)]) + within, e0, e1);
                                if (c < IN_COLS) out0[r + j] = (fp8_t) code_of(e0, s0, inv_s0);
                                if (c + 1 < IN_COLS) out1[r + j] = (fp8_t) code_of(e1, s1, inv_s1);
                            }
                        }
                    }
            """;

    private StagedTile() {}

    static int chunkElements(DType input) {
        return 16 / input.bytes();
    }

    /** Input columns of a column-group tile: a whole staged row of {@value #TILE_BYTES} bytes. */
    static int tileCols(DType input) {
        return TILE_BYTES / input.bytes();
    }

    /**
     * Whether a whole-tile block of {@code block × block} fits a staged tile: rows of at most
     * {@value #TILE_BYTES} bytes and of at least 64 columns (so that the four quarters' swizzles stay in the row).
     */
    static boolean holdsBlock(DType input, int block) {
        return (block == 64 || block == 128) && block * input.bytes() <= TILE_BYTES;
    }

    /**
     * @param tileRows  the input rows of a tile: the group (column-group scope) or the block (whole-tile scope)
     * @param grid      the scale grid of the output
     * @param rows      the input's own 1×g row groups, if written too (column-group scope only)
     * @param source    what the input chunks are read from: the tensor, or its producer's inputs ({@link TileInput})
     * @param siblings  whether each block also quantizes the source's sibling, computed from the same inputs, into the
     *                  {@code second_} outputs ({@code QuantizeGroups})
     * @param columnSums whether each block also writes {@code column_partials[tile, c]}, the FP32 sum of input column
     *                  c over the tile's rows (column-group scope of a stored input only)
     */
    static CudaKernel emit(String name, String description, QuantizeOperand operand, int tileRows, ScaleType scaleType,
                           Optional<GroupQuantization> rows, Scope scope, ScaleGrid grid, QuantizedSource source,
                           boolean siblings, boolean columnSums, List<KernelParam> params) {
        int quarter = Math.ceilDiv(tileRows, QUARTERS);
        boolean wholeTile = scope == Scope.WHOLE_TILE;
        int tileCols = wholeTile ? tileRows : tileCols(operand.input());
        int threads = tileCols / 2 * QUARTERS;
        // The widest code store that every quarter's run of tokens starts aligned to.
        int store = IntStream.of(16, 8, 4, 2, 1).filter(w -> quarter % w == 0 && tileRows % w == 0
                && operand.outputCols() % w == 0).findFirst().orElseThrow();
        if (wholeTile && (rows.isPresent() || !holdsBlock(operand.input(), tileRows))) {
            throw new IllegalArgumentException(name + ": a whole-tile scale needs a block of 64 or 128 whose rows fit "
                    + TILE_BYTES + " bytes, and no row output");
        }
        if (source != QuantizedSource.STORED && (operand.input() != DType.BF16
                || wholeTile != (source == QuantizedSource.MASTER))) {
            throw new IllegalArgumentException(name + ": a recomputed input is staged as BF16, an activation for column "
                    + "groups and a weight's master for whole blocks");
        }
        if (siblings && (wholeTile || source.sibling().isEmpty())) {
            throw new IllegalArgumentException(name + ": sibling outputs are recomputed gradients in column groups");
        }
        if (!operand.transpose() && !wholeTile) {
            throw new IllegalArgumentException(name + ": untransposed, a staged tile is written with one scale");
        }
        if (columnSums && (wholeTile || siblings || source != QuantizedSource.STORED)) {
            throw new IllegalArgumentException(name + ": column sums are of a stored input quantized in column groups");
        }
        String tileAmax = wholeTile ? """
                    const unsigned a0 = block_max_bits(tile_amax);  // the barrier also orders the staging
                """ : "";
        String tileAmaxStart = wholeTile ? "\n    unsigned tile_amax = 0;" : "";
        String columnAmax = !operand.transpose() ? """
                    // One scale for the tile, each thread encoding staged chunks back along the rows.
                    const float s = scale_for(a0), inv_s = reciprocal(s);
                    if (threadIdx.x == 0) scales[TILE_SCALE] = s;
                    for (int i = threadIdx.x; i < GROUP * CPR; i += THREADS) {
                        const int r = i / CPR, ch = i % CPR, t = t0 + r, c = c0 + ch * EPC;
                        if (t < IN_ROWS && c < IN_COLS) {
                            const uint4 chunk = tile[staged(r, ch)];
                            store_codes_along_rows(codes, t, c, reinterpret_cast<const in_t*>(&chunk), s, inv_s);
                        }
                    }
                """ : wholeTile ? """
                    // One scale for the tile: the amax of everything staged.
                    const unsigned a1 = a0;
                    const int lane = threadIdx.x & 31, q = lane >> 3, p = (threadIdx.x >> 5) * 8 + (lane & 7);
                    const int c = c0 + 2 * p, ch = 2 * p / EPC, within = 2 * p % EPC;
                    const float s0 = scale_for(a0), inv_s0 = reciprocal(s0), s1 = s0, inv_s1 = inv_s0;
                    if (threadIdx.x == 0) scales[TILE_SCALE] = s0;
                """ : """
                    __syncthreads();
                    // Four lanes per column pair (lane bits 3-4 pick the quarter), 8 pairs per warp.
                    const int lane = threadIdx.x & 31, q = lane >> 3, p = (threadIdx.x >> 5) * 8 + (lane & 7);
                    const int c = c0 + 2 * p, ch = 2 * p / EPC, within = 2 * p % EPC;
                    const int r_valid = min(GROUP, IN_ROWS - t0);
                    unsigned a0, a1;
                    column_pair_amax(tile, q, r_valid, ch, within, a0, a1);
                    #pragma unroll
                    for (int o = 8; o < 32; o <<= 1) {
                        a0 = max(a0, __shfl_xor_sync(0xffffffffu, a0, o));
                        a1 = max(a1, __shfl_xor_sync(0xffffffffu, a1, o));
                    }
                    const float s0 = scale_for(a0), inv_s0 = reciprocal(s0), s1 = scale_for(a1), inv_s1 = reciprocal(s1);
                    if (q == 0 && c < IN_COLS) scales[COLUMN_SCALE_0] = s0;
                    if (q == 0 && c + 1 < IN_COLS) scales[COLUMN_SCALE_1] = s1;
                """ + (columnSums ? """
                    {
                        // The tile's column sums: each quarter's rows in order, then the quarters pairwise (every lane
                        // of a pair adds the same two values, so all four hold the same bits).
                        float sum0, sum1;
                        column_pair_sum(tile, q, r_valid, ch, within, sum0, sum1);
                        #pragma unroll
                        for (int o = 8; o < 32; o <<= 1) {
                            sum0 += __shfl_xor_sync(0xffffffffu, sum0, o);
                            sum1 += __shfl_xor_sync(0xffffffffu, sum1, o);
                        }
                        if (q == 0 && c < IN_COLS) column_partials[blockIdx.y * IN_COLS + c] = sum0;
                        if (q == 0 && c + 1 < IN_COLS) column_partials[blockIdx.y * IN_COLS + c + 1] = sum1;
                    }
                """ : "");
        // Where the scales go in the grid's stored order: the tile's (its output row tile is blockIdx.y, or blockIdx.x
        // transposed), or the two output rows' of this thread's column pair in the tile's run of tokens.
        columnAmax = columnAmax
                .replace("TILE_SCALE", operand.transpose() ? ScaleIndex.ofTile(grid, "blockIdx.x", "blockIdx.y")
                        : ScaleIndex.ofTile(grid, "blockIdx.y", "blockIdx.x"))
                .replace("COLUMN_SCALE_0", ScaleIndex.ofTile(grid, "c", "blockIdx.y"))
                .replace("COLUMN_SCALE_1", ScaleIndex.ofTile(grid, "c + 1", "blockIdx.y"));
        String body = operand.deviceDefinitions() + ScaleFormulas.scaleFor(scaleType) + ScaleFormulas.reciprocal(scaleType, "reciprocal")
                + inputDefinitions(operand, rows) + """

                constexpr int GROUP = %d, TILE_COLS = %d, THREADS = %d, STORE = %d;
                // Blocks an SM must hold at once: the kernel waits on its loads, and only more blocks hide them. The
                // tile's 32 KiB allow 6 (40 registers a thread); with a sibling's chunks held in registers, 4 (64).
                constexpr int MIN_BLOCKS = %d;
                constexpr int EPC = 16 / (int) sizeof(in_t);     // input elements per 16-byte chunk
                constexpr int CPR = TILE_COLS / EPC;             // chunks per staged row
                constexpr int SWIZZLE = 16 / EPC;                // chunks that 8 neighbouring column pairs span
                constexpr bool VECTOR_ROWS = IN_COLS %% EPC == 0; // every chunk inside the matrix is whole and aligned
                constexpr int LOADS = (GROUP * CPR + THREADS - 1) / THREADS;

                // Chunk (r, ch) of the staged tile. The rows the four quarters read at once in the column walk (one
                // from each quarter's run of STORE) land on different banks; the 8 chunks a quarter-warp stores per
                // row stay distinct.
                __device__ __forceinline__ int staged(int r, int ch) {
                    return r * CPR + (ch ^ (((r / STORE) & 3) * SWIZZLE));
                }

                %s
                %s%s
                __device__ __forceinline__ float scaled(float v, float s, float inv_s) {
                    return %s;
                }

                __device__ __forceinline__ unsigned code_of(float v, float s, float inv_s) {
                    return encode(scaled(v, s, inv_s));
                }

                // Two elements, one conversion: the first in the low byte.
                __device__ __forceinline__ unsigned codes2_of(float v0, float v1, float s, float inv_s) {
                    return encode2(scaled(v0, s, inv_s), scaled(v1, s, inv_s));
                }
                %s
                extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS) %s%s {
                    __shared__ uint4 tile[GROUP * CPR];%s
                    const int c0 = blockIdx.x * TILE_COLS, t0 = blockIdx.y * GROUP;%s
                    // Every thread makes every pass (the row groups' shuffles need whole warps); a pass beyond the
                    // tile loads nothing. Pass k stages chunk threadIdx.x + k * THREADS: the same column every pass,
                    // THREADS / CPR rows further on.
                    static_assert(THREADS %% CPR == 0, "a thread's chunk column is the same in every pass");
                    {
                    const int ch = (int) threadIdx.x %% CPR, c = c0 + ch * EPC;
                    #pragma unroll %s
                    for (int k = 0; k < LOADS; k++) {
                        const int r = (int) threadIdx.x / CPR + k * (THREADS / CPR), t = t0 + r;
                        const bool inside = r < GROUP && t < IN_ROWS;
                %s
                        if (r < GROUP) tile[staged(r, ch)] = chunk;%s
                    }
                    }
                %s%s
                }
                """.formatted(tileRows, tileCols, threads, store, siblings ? 4 : 6,
                columnPairAmax(operand.input()) + (columnSums ? COLUMN_PAIR_SUM : ""), operand.transpose() ? storeCodes(store) : "",
                TileInput.definitions(source, siblings),
                ScaleFormulas.quotient(scaleType), rows.isPresent() ? chunkStore("store_row_codes", "row_codes2_of")
                        : operand.transpose() ? "" : chunkStore("store_codes_along_rows", "codes2_of"), name,
                CudaKernel.signature(params), siblings ? "\n    uint4 second_chunks[LOADS];  // the sibling's, staged after the first's walk" : "",
                tileAmaxStart, siblings ? "" : "4", TileInput.chunkLoad(source, siblings).indent(4).stripTrailing(),
                siblings ? siblingStaging(rows) : stagingExtra(rows, scope), tileAmax,
                siblings ? siblingWalks(columnAmax + COLUMN_WALK_STORES) : columnAmax + (operand.transpose() ? COLUMN_WALK_STORES : ""));
        String geometry = "\none block per " + tileRows + " input rows x " + tileCols + " input columns.";
        int tilesAcross = Math.ceilDiv(operand.cols(), tileCols);
        LaunchGeometry launch = new LaunchGeometry(tilesAcross, Math.ceilDiv(operand.rows(), tileRows),
                1, threads, 1, 1, 0);
        return new CudaKernel(name, CudaPrelude.kernelSource(description + geometry, body), launch, params);
    }

    /**
     * Inside the staging loop of a kernel with siblings: the row groups of both outputs (the first's from {@code chunk},
     * the sibling's from {@code chunk2}), and the sibling's chunk kept in registers until its own column walk.
     */
    private static String siblingStaging(Optional<GroupQuantization> rows) {
        String keep = "\n        second_chunks[k] = chunk2;";
        String rowGroups = stagingExtra(rows, Scope.COLUMN_GROUPS).stripIndent().strip();
        if (rowGroups.isEmpty()) {
            return keep;
        }
        return keep + "\n" + forOutput("first_", "row_", "", rowGroups).indent(8).stripTrailing()
                + "\n" + forOutput("second_", "row_", "const uint4 chunk = chunk2;\n", rowGroups).indent(8).stripTrailing();
    }

    /**
     * After the staging of a kernel with siblings: the column walk of the first output over the staged tile, then the
     * sibling's chunks staged over it and its walk (each walk starts with a barrier; the one between the first walk
     * and the restaging keeps the tile until every thread has read it).
     */
    private static String siblingWalks(String walk) {
        String restage = """
                __syncthreads();
                {
                    const int ch = (int) threadIdx.x % CPR;
                    #pragma unroll
                    for (int k = 0; k < LOADS; k++) {
                        const int r = (int) threadIdx.x / CPR + k * (THREADS / CPR);
                        if (r < GROUP) tile[staged(r, ch)] = second_chunks[k];
                    }
                }
                """;
        return (forOutput("first_", "", "", walk) + restage + forOutput("second_", "", "", walk)).indent(4).stripTrailing();
    }

    /**
     * {@code body} in a block where {@code <kind>codes} and {@code <kind>scales} name the {@code prefix} output's
     * ({@code first_} or {@code second_}), after {@code declarations}.
     */
    private static String forOutput(String prefix, String kind, String declarations, String body) {
        return "{\n" + ("fp8_t* const " + kind + "codes = " + prefix + kind + "codes;\nfloat* const " + kind + "scales = "
                + prefix + kind + "scales;\n" + declarations + body.stripIndent().strip()).indent(4) + "}\n";
    }

    /**
     * {@code column_pair_amax(tile, q, r_end, ch, within, a0, a1)}: the amax bits (abs_bits of the FP32 values) of a
     * column pair over quarter q's staged rows below r_end (its runs of STORE, every fourth); BF16 pairs as one word
     * whose halves are compared as 16-bit magnitudes, which orders them as their values.
     */
    private static String columnPairAmax(DType input) {
        String loop = input == DType.BF16 ? """
                    unsigned m = 0;
                    if (r_end == GROUP && GROUP % (4 * STORE) == 0) {
                        // A whole tile: each run's rows at constant offsets from its first (they share a swizzle).
                        #pragma unroll
                        for (int i = 0; i < GROUP / (4 * STORE); i++) {
                            const unsigned* run = reinterpret_cast<const unsigned*>(
                                    reinterpret_cast<const in_t*>(&tile[staged((q + 4 * i) * STORE, ch)]) + within);
                            #pragma unroll
                            for (int j = 0; j < STORE; j++) m = max_u16x2(m, run[j * CPR * 4] & 0x7fff7fffu);
                        }
                    } else {
                        for (int r0 = q * STORE; r0 < r_end; r0 += 4 * STORE)
                            for (int r = r0; r < min(r0 + STORE, r_end); r++)
                                m = max_u16x2(m, *reinterpret_cast<const unsigned*>(reinterpret_cast<const in_t*>(&tile[staged(r, ch)]) + within) & 0x7fff7fffu);
                    }
                    a0 = m << 16;
                    a1 = m & 0xffff0000u;
                """ : """
                    a0 = 0;
                    a1 = 0;
                    for (int r0 = q * STORE; r0 < r_end; r0 += 4 * STORE)
                        for (int r = r0; r < min(r0 + STORE, r_end); r++) {
                            const in_t* e = reinterpret_cast<const in_t*>(&tile[staged(r, ch)]) + within;
                            a0 = max(a0, abs_bits(e[0]));
                            a1 = max(a1, abs_bits(e[1]));
                        }
                """;
        return "__device__ __forceinline__ void column_pair_amax(const uint4* tile, int q, int r_end, int ch, int within,\n"
                + "                                                 unsigned& a0, unsigned& a1) {\n" + loop + "}\n";
    }

    /**
     * {@code column_pair_sum(tile, q, r_end, ch, within, s0, s1)}: the FP32 sums of a column pair over quarter q's
     * staged rows below r_end, in row order (its runs of STORE, every fourth).
     */
    private static final String COLUMN_PAIR_SUM = """
            __device__ __forceinline__ void column_pair_sum(const uint4* tile, int q, int r_end, int ch, int within,
                                                            float& s0, float& s1) {
                s0 = 0.0f;
                s1 = 0.0f;
                for (int r0 = q * STORE; r0 < r_end; r0 += 4 * STORE)
                    for (int r = r0; r < min(r0 + STORE, r_end); r++) {
                        float v0, v1;
                        pair_at(reinterpret_cast<const in_t*>(&tile[staged(r, ch)]) + within, v0, v1);
                        s0 += v0;
                        s1 += v1;
                    }
            }
            """;

    /** The scale grid of the input's own row groups written beside the transposed output. */
    static ScaleGrid rowGrid(QuantizeOperand operand, GroupQuantization rows) {
        return ScaleGrid.of(new Granularity.Group(rows.groupSize()), Axis.COLS, operand.rows(), operand.cols());
    }

    /** {@code store_codes(p, words)}: STORE codes packed little-endian in words, one store. */
    private static String storeCodes(int store) {
        String write = switch (store) {
            case 16 -> "*reinterpret_cast<uint4*>(p) = make_uint4(w[0], w[1], w[2], w[3]);";
            case 8 -> "*reinterpret_cast<uint2*>(p) = make_uint2(w[0], w[1]);";
            case 4 -> "*reinterpret_cast<unsigned*>(p) = w[0];";
            case 2 -> "*reinterpret_cast<unsigned short*>(p) = (unsigned short) w[0];";
            default -> "*p = (fp8_t) w[0];";
        };
        return "__device__ __forceinline__ void store_codes(fp8_t* p, const unsigned* w) {\n    " + write + "\n}\n";
    }

    /** {@code to_f32} of an input element, and with a row output its constants, scale and encode. */
    private static String inputDefinitions(QuantizeOperand operand, Optional<GroupQuantization> rows) {
        String convert = operand.input() == DType.BF16 ? """

                __device__ __forceinline__ float to_f32(bf16_t v) { return bf16_to_f32(v); }

                // Elements e[0] and e[1] (4-byte aligned) as FP32, from one 32-bit word: a BF16 is the high half of its FP32.
                __device__ __forceinline__ void pair_at(const bf16_t* e, float& v0, float& v1) {
                    const unsigned w = *reinterpret_cast<const unsigned*>(e);
                    v0 = __uint_as_float(w << 16);
                    v1 = __uint_as_float(w & 0xffff0000u);
                }

                // Per 16-bit half, the larger as unsigned integers.
                __device__ __forceinline__ unsigned max_u16x2(unsigned a, unsigned b) {
                    unsigned r;
                    asm("max.u16x2 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b));
                    return r;
                }
                """ : """

                __device__ __forceinline__ float to_f32(float v) { return v; }

                // Elements e[0] and e[1] (8-byte aligned).
                __device__ __forceinline__ void pair_at(const float* e, float& v0, float& v1) {
                    const float2 p = *reinterpret_cast<const float2*>(e);
                    v0 = p.x;
                    v1 = p.y;
                }
                """;
        if (rows.isEmpty()) {
            return convert;
        }
        GroupQuantization r = rows.get();
        String encode2 = CudaPrelude.pairEncodeFunction(r.format());
        return convert + """
                constexpr int ROW_GROUP = %d, ROW_SCALE_COLS = %d;
                constexpr float ROW_FMAX = %s; // largest finite %s
                %s
                __device__ __forceinline__ float row_scaled(float v, float s, float inv_s) {
                    return %s;
                }

                // Two elements of a row group, one conversion: the first in the low byte.
                __device__ __forceinline__ unsigned row_codes2_of(float v0, float v1, float s, float inv_s) {
                    return %s(row_scaled(v0, s, inv_s), row_scaled(v1, s, inv_s));
                }

                // The amax bits (abs_bits of the FP32 value) of a staged BF16 chunk: magnitudes compared as 16-bit
                // integers, two at a time.
                __device__ __forceinline__ unsigned chunk_amax_bf16(const uint4& chunk) {
                    constexpr unsigned MAGNITUDES = 0x7fff7fffu;
                    const unsigned m = max_u16x2(max_u16x2(chunk.x & MAGNITUDES, chunk.y & MAGNITUDES),
                                                 max_u16x2(chunk.z & MAGNITUDES, chunk.w & MAGNITUDES));
                    return max(m << 16, m & 0xffff0000u);
                }
                """.formatted(r.groupSize(), rowGrid(operand, r).scaleCols(), CudaLiteral.f32(r.format().maxFinite()),
                r.format().lowerName(), ScaleFormulas.scaleFor(r.scaleType(), "row_scale_for", "ROW_FMAX")
                        + ScaleFormulas.reciprocal(r.scaleType(), "row_reciprocal"),
                ScaleFormulas.quotient(r.scaleType()), encode2);
    }

    /**
     * Inside the staging loop. Whole tile: the running amax. Column groups with a row output: the lanes holding one
     * row group (neighbours, EPC elements each) take its amax by shuffles and each encodes its own chunk. Every
     * lane reaches the shuffles; lanes outside the matrix hold zeros, which leave an amax unchanged, and store
     * nothing.
     */
    private static String stagingExtra(Optional<GroupQuantization> rows, Scope scope) {
        if (scope == Scope.WHOLE_TILE) {
            return """

                            {
                                const in_t* e = reinterpret_cast<const in_t*>(&chunk);
                                #pragma unroll
                                for (int j = 0; j < EPC; j++) tile_amax = max(tile_amax, abs_bits(to_f32(e[j])));
                            }""";
        }
        if (rows.isEmpty()) {
            return "";
        }
        return """

                        {
                            constexpr int LANES = ROW_GROUP / EPC;
                            const in_t* e = reinterpret_cast<const in_t*>(&chunk);
                            unsigned amax_bits = chunk_amax_bf16(chunk);
                            #pragma unroll
                            for (int o = 1; o < LANES; o <<= 1) amax_bits = max(amax_bits, __shfl_xor_sync(0xffffffffu, amax_bits, o));
                            const float s = row_scale_for(amax_bits), inv_s = row_reciprocal(s);
                            if (inside && c < IN_COLS) {
                                if (ch % LANES == 0) row_scales[t * ROW_SCALE_COLS + c / ROW_GROUP] = s;
                                store_row_codes(row_codes, t, c, e, s, inv_s);
                            }
                        }""";
    }
}
