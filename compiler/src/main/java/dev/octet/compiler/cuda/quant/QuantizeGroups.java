package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleGrid;
import dev.octet.numerics.ScaleType;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Just-in-time quantization into 1×g groups along the output's rows, with a template per layout that reads the
 * input once, where {@link QuantizeTiled} gives each group a block and reads it twice. Same arithmetic as
 * QuantizeTiled, so bit-exact with {@code Quantizer.quantize(output, Axis.COLS)}, the tail rule included (a
 * partial last group scales its own elements).
 * <ul>
 *   <li>Not transposed (the fprop and dgrad operands X and dY): one warp per group, {@value #WARPS} groups per
 *       block; each lane loads its ceil(g/32) elements into registers (the warp reads contiguous bytes), the
 *       warp takes the amax, and each lane encodes what it holds.</li>
 *   <li>Transposed (the wgrad operands Xᵀ and dYᵀ, grouped along the tokens): {@link StagedTile}, a block
 *       per g input rows × 256 bytes of columns, one scale per output row of the tile.</li>
 *   <li>Transposed with {@code rows} (a tensor that both fprop/dgrad and wgrad read, such as dY): the same
 *       block also quantizes the input itself into 1×{@code rows.groupSize()} groups along its rows from the
 *       registers each 16-byte load landed in, so the tensor is read once for both layouts.</li>
 * </ul>
 *
 * <p>Buffers: {@code x} (input [rows, cols]), {@code codes} (fp8, the output matrix), {@code scales} (f32, the
 * {@link ScaleGrid} of the output: row-major, or transposed {@code [ceil(rows/g), cols]}, each group's scale where
 * the input's own grid along its rows would have it); with {@code rows}, also {@code row_codes} (fp8 [rows, cols]) and
 * {@code row_scales} (f32 [rows, ceil(cols / rows.groupSize())]).
 *
 * <p>Transposed, the input may also be recomputed from its producer's inputs ({@code source} other than STORED,
 * {@link TileInput}): the buffers {@code source.inputs()} then take the place of {@code x}. With {@code siblings}
 * the kernel also quantizes the source's {@link QuantizedSource#sibling} (the other output of the same operator, in
 * the same layouts): each block reads its tile of the inputs once, computes both outputs, stages the first and keeps
 * the sibling's chunks in registers until the first's transposed walk is done; the outputs are {@code first_codes,
 * first_scales, [first_row_codes, first_row_scales], second_...} in place of {@code codes, ...}.
 */
public record QuantizeGroups(QuantizeOperand operand, int groupSize, ScaleType scaleType,
                             Optional<GroupQuantization> rows, QuantizedSource source, boolean siblings,
                             boolean columnSums) implements KernelSpec {
    static final int WARPS = 8;
    private static final int THREADS = WARPS * 32;

    public QuantizeGroups(QuantizeOperand operand, int groupSize, ScaleType scaleType) {
        this(operand, groupSize, scaleType, Optional.empty());
    }

    public QuantizeGroups(QuantizeOperand operand, int groupSize, ScaleType scaleType, Optional<GroupQuantization> rows) {
        this(operand, groupSize, scaleType, rows, QuantizedSource.STORED);
    }

    public QuantizeGroups(QuantizeOperand operand, int groupSize, ScaleType scaleType, Optional<GroupQuantization> rows,
                          QuantizedSource source) {
        this(operand, groupSize, scaleType, rows, source, false);
    }

    public QuantizeGroups(QuantizeOperand operand, int groupSize, ScaleType scaleType, Optional<GroupQuantization> rows,
                          QuantizedSource source, boolean siblings) {
        this(operand, groupSize, scaleType, rows, source, siblings, false);
    }

    public QuantizeGroups {
        Objects.requireNonNull(operand, "operand");
        Objects.requireNonNull(scaleType, "scaleType");
        Objects.requireNonNull(rows, "rows");
        Objects.requireNonNull(source, "source");
        if (source != QuantizedSource.STORED && !recomputes(operand, rows)) {
            throw new IllegalArgumentException("only a transposing group quantization of BF16 can recompute its input ("
                    + source.lowerName() + "), not " + operand.description());
        }
        if (siblings && source.sibling().isEmpty()) {
            throw new IllegalArgumentException(source.lowerName() + " has no sibling output to quantize beside it");
        }
        if (groupSize < 1 || groupSize > maxGroup(operand.transpose())) {
            throw new IllegalArgumentException("group size must be in [1, " + maxGroup(operand.transpose()) + "] for "
                    + operand.description() + ", got " + groupSize);
        }
        if (columnSums && !sumsColumns(operand, source, siblings)) {
            throw new IllegalArgumentException("column sums are written beside a transposing group quantization of a"
                    + " stored tensor (no siblings), not of " + operand.description() + " from " + source.lowerName());
        }
        if (rows.isPresent() && !alsoQuantizesRows(operand, rows.get().groupSize())) {
            throw new IllegalArgumentException("a transposing group quantization of " + operand.description()
                    + " can also write 1x" + rows.get().groupSize() + " row groups only for BF16 input and a group size"
                    + " dividing " + StagedTile.tileCols(operand.input()) + " that is a multiple of "
                    + StagedTile.chunkElements(operand.input()));
        }
    }

    /**
     * The largest group each template serves: 32 elements per lane in registers, or a staged tile of at most
     * 32 KiB of static shared memory.
     */
    public static int maxGroup(boolean transpose) {
        return transpose ? 128 : 1024;
    }

    /**
     * Whether the transposing template can also write the input's own 1×{@code rowGroup} groups: each group
     * must lie within a staged tile row and span whole 16-byte loads of neighbouring lanes.
     */
    public static boolean alsoQuantizesRows(QuantizeOperand operand, int rowGroup) {
        return operand.transpose() && operand.input() == DType.BF16 && rowGroup > 0
                && StagedTile.tileCols(operand.input()) % rowGroup == 0
                && rowGroup % StagedTile.chunkElements(operand.input()) == 0;
    }

    /**
     * Whether the template can also write, per tile of {@code groupSize} input rows, the FP32 sums of the input's columns
     * ({@code column_partials [ceil(rows / groupSize), cols]}, a bias gradient's first stage): transposing a stored
     * tensor, without siblings.
     */
    public static boolean sumsColumns(QuantizeOperand operand, QuantizedSource source, boolean siblings) {
        return operand.transpose() && source == QuantizedSource.STORED && !siblings;
    }

    /** Whether the template can stage {@code operand} recomputed from its producer's inputs. */
    public static boolean recomputes(QuantizeOperand operand, Optional<GroupQuantization> rows) {
        return operand.transpose() && operand.input() == DType.BF16;
    }

    /** The scale tiles over the output matrix. */
    public ScaleGrid grid() {
        return operand.scaleGrid(new Granularity.Group(groupSize));
    }

    /** With {@code rows}: the scale tiles over the input matrix. */
    public ScaleGrid rowGrid() {
        GroupQuantization r = rows.orElseThrow(() -> new IllegalStateException(kernelName() + " writes no row groups"));
        return StagedTile.rowGrid(operand, r);
    }

    @Override
    public String kernelName() {
        return "quantize_group" + groupSize + "_" + operand.nameSuffix() + "_" + scaleType.lowerName()
                + (operand.transpose() ? "_tiled" : "_warp") + rows.map(r -> "_rows_" + r.nameSuffix()).orElse("")
                + (source == QuantizedSource.STORED ? "" : "_of_" + source.lowerName())
                + (siblings ? "_and_" + source.sibling().orElseThrow().lowerName() : "")
                + (columnSums ? "_column_sums" : "");
    }

    @Override
    public CudaKernel emit() {
        return operand.transpose() ? stagedTranspose() : warpPerGroup();
    }

    private List<KernelParam> params() {
        List<KernelParam> params = new ArrayList<>(TileInput.params(source, operand.input()));
        for (String prefix : siblings ? List.of("first_", "second_") : List.of("")) {
            params.add(KernelParam.out(prefix + "codes", operand.codeType()));
            params.add(KernelParam.out(prefix + "scales", DType.F32));
            rows.ifPresent(r -> {
                params.add(KernelParam.out(prefix + "row_codes", r.codeType()));
                params.add(KernelParam.out(prefix + "row_scales", DType.F32));
            });
        }
        if (columnSums) {
            params.add(KernelParam.out("column_partials", DType.F32));
        }
        return List.copyOf(params);
    }

    private CudaKernel warpPerGroup() {
        ScaleGrid grid = grid();
        List<KernelParam> params = params();
        String body = operand.deviceDefinitions() + ScaleFormulas.scaleFor(scaleType) + """

                constexpr int GROUP = %d, PER_LANE = (GROUP + 31) / 32, WARPS = %d, SCALE_COLS = %d;
                constexpr int TILES = OUT_ROWS * SCALE_COLS;

                extern "C" __global__ void __launch_bounds__(WARPS * 32) %s%s {
                    const int lane = threadIdx.x & 31;
                    const int tile = blockIdx.x * WARPS + (threadIdx.x >> 5);
                    if (tile >= TILES) return;
                    const int r = tile / SCALE_COLS, c0 = (tile %% SCALE_COLS) * GROUP;
                    float vals[PER_LANE];
                    unsigned amax_bits = 0;
                    #pragma unroll
                    for (int i = 0; i < PER_LANE; i++) {
                        const int j = lane + 32 * i, c = c0 + j;
                        // A partial tail group covers only the elements inside the matrix (Granularity's tail rule).
                        const bool inside = j < GROUP && c < OUT_COLS;
                        vals[i] = inside ? load_input(x, r, c) : 0.0f;
                        if (inside) amax_bits = max(amax_bits, abs_bits(vals[i]));
                    }
                    amax_bits = warp_max_bits(amax_bits);
                    const float s = scale_for(amax_bits), inv_s = 1.0f / s;
                    if (lane == 0) scales[tile] = s;
                    #pragma unroll
                    for (int i = 0; i < PER_LANE; i++) {
                        const int j = lane + 32 * i, c = c0 + j;
                        if (j < GROUP && c < OUT_COLS) {
                            const float v = vals[i];
                            codes[r * OUT_COLS + c] = encode(%s);
                        }
                    }
                }
                """.formatted(groupSize, WARPS, grid.scaleCols(), kernelName(), CudaKernel.signature(params),
                ScaleFormulas.quotient(scaleType));
        String description = "Quantize group(" + groupSize + ") along the rows, " + scaleType.lowerName()
                + " scales, amax just in time, one warp per group holding it in registers.\n" + operand.description()
                + "\nscales f32[" + grid.scaleRows() + ", " + grid.scaleCols() + "]; oracle Quantizer.quantize(x, Axis.COLS).";
        LaunchGeometry launch = LaunchGeometry.linear(Math.ceilDiv(grid.scaleCount(), WARPS), WARPS * 32, 0);
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body), launch, params);
    }

    private CudaKernel stagedTranspose() {
        String description = "Quantize+transpose into group(" + groupSize + ") along the output rows, "
                + scaleType.lowerName() + " scales, amax just in time, staged in shared memory"
                + rows.map(r -> ", and the input itself into 1x" + r.groupSize() + " row groups (" + r.nameSuffix() + ")")
                        .orElse("") + (source == QuantizedSource.STORED ? "" : ", the input recomputed from its "
                        + source.lowerName() + " inputs " + source.inputs())
                + (siblings ? "; the same blocks quantize " + source.sibling().orElseThrow().lowerName() + " from the same inputs" : "")
                + ".\n" + operand.description()
                + "\nscales f32[" + grid().scaleCols() + ", " + grid().scaleRows() + "] (a K block's scales side by side, as the"
                + " weight gradient's GEMM reads them); oracle Quantizer.quantize(output, Axis.COLS)"
                + (rows.isPresent() ? " and Quantizer.quantize(input, Axis.COLS)" : "")
                + (columnSums ? "; column_partials f32[" + Math.ceilDiv(operand.rows(), groupSize) + ", " + operand.cols()
                        + "]: each tile's column sums over its " + groupSize + " rows" : "") + ".";
        return StagedTile.emit(kernelName(), description, operand, groupSize, scaleType, rows,
                StagedTile.Scope.COLUMN_GROUPS, grid(), source, siblings, columnSums, params());
    }
}
