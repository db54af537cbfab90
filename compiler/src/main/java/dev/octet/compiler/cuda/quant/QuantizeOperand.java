package dev.octet.compiler.cuda.quant;

import dev.octet.compiler.cuda.CudaLiteral;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleGrid;
import java.util.Objects;

/**
 * What a quantize kernel reads and writes: a row-major input {@code [rows, cols]} of BF16 or FP32 values,
 * and the FP8 matrix it produces, which is the input itself or, with {@code transpose}, the input's transpose
 * {@code [cols, rows]} (a wgrad operand: it is then grouped along what were the input's rows). Scale tiles are
 * laid out over the output matrix, as {@link #scaleGrid} says.
 */
public record QuantizeOperand(DType input, int rows, int cols, boolean transpose, Fp8Format format) {

    public QuantizeOperand {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(format, "format");
        if (input != DType.BF16 && input != DType.F32) {
            throw new IllegalArgumentException("quantize reads bf16 or f32, not " + input.irName());
        }
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("quantize needs a non-empty matrix, got " + rows + "x" + cols);
        }
        if ((long) rows * cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("quantize indexes with 32-bit ints; " + rows + "x" + cols + " is too large");
        }
    }

    public int outputRows() {
        return transpose ? cols : rows;
    }

    public int outputCols() {
        return transpose ? rows : cols;
    }

    /**
     * The scale tiles over the output matrix for {@code granularity}, as the GEMM reading it expects them:
     * {@code ScaleGrid.ofOperand(granularity, outputRows, outputCols, transpose)}.
     */
    public ScaleGrid scaleGrid(Granularity granularity) {
        return ScaleGrid.ofOperand(granularity, outputRows(), outputCols(), transpose);
    }

    public int elements() {
        return rows * cols;
    }

    public DType codeType() {
        return DType.of(format);
    }

    /** {@code bf16_512x128_t_e4m3}: the part of a kernel name that says what is read and written. */
    String nameSuffix() {
        return input.irName() + "_" + rows + "x" + cols + (transpose ? "_t" : "") + "_" + format.lowerName();
    }

    String description() {
        return "input " + input.irName() + "[" + rows + ", " + cols + "] row-major; output " + format.lowerName()
                + "[" + outputRows() + ", " + outputCols() + "]" + (transpose ? " = the input transposed" : "");
    }

    /** Shape constants, the input load in output coordinates, the encode, and the amax helpers. */
    String deviceDefinitions() {
        String load = input == DType.BF16 ? "bf16_to_f32(x[i])" : "x[i]";
        String index = transpose ? "out_col * IN_COLS + out_row" : "out_row * IN_COLS + out_col";
        String encode = CudaPrelude.encodeFunction(format) + "(v)";
        return """
                typedef %s in_t;
                constexpr int IN_ROWS = %d, IN_COLS = %d;
                constexpr int OUT_ROWS = %d, OUT_COLS = %d;
                constexpr float FMAX = %s; // largest finite %s

                // Element (out_row, out_col) of the output matrix, read from the input.
                __device__ __forceinline__ float load_input(const in_t* __restrict__ x, int out_row, int out_col) {
                    const int i = %s;
                    return %s;
                }

                __device__ __forceinline__ fp8_t encode(float v) {
                    return %s;
                }

                // Two values, one conversion: lo in the low byte.
                __device__ __forceinline__ unsigned encode2(float lo, float hi) {
                    return %s(lo, hi);
                }
                """.formatted(input.cudaType(), rows, cols, outputRows(), outputCols(),
                CudaLiteral.f32(format.maxFinite()), format.lowerName(), index, load, encode,
                CudaPrelude.pairEncodeFunction(format))
                + AmaxDevice.SOURCE;
    }
}
