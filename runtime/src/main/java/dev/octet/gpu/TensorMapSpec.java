package dev.octet.gpu;

import dev.octet.compiler.cuda.TensorMapView;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * What cuTensorMapEncodeTiled needs to describe a TMA copy: a tensor in global memory (dims innermost
 * first, byte strides of the outer dims) and the box one copy moves into shared memory. The constraints
 * the driver enforces are checked here, so a bad descriptor is a readable Java error, not
 * CUDA_ERROR_INVALID_VALUE. Enum codes are cuda.h's.
 */
public record TensorMapSpec(DataType dataType, long globalAddress, List<Long> globalDims, List<Long> globalStrides,
                            List<Integer> boxDims, List<Integer> elementStrides, Interleave interleave,
                            Swizzle swizzle, L2Promotion l2Promotion, OobFill oobFill) {

    public enum DataType {
        UINT8(0, 1), UINT16(1, 2), UINT32(2, 4), INT32(3, 4), UINT64(4, 8), INT64(5, 8), FLOAT16(6, 2),
        FLOAT32(7, 4), FLOAT64(8, 8), BFLOAT16(9, 2), FLOAT32_FTZ(10, 4), TFLOAT32(11, 4), TFLOAT32_FTZ(12, 4);

        final int code;
        final int bytes;

        DataType(int code, int bytes) {
            this.code = code;
            this.bytes = bytes;
        }
    }

    public enum Interleave { NONE, B16, B32 }

    /** Shared-memory swizzle; the box's inner dimension may span at most {@link #spanBytes} bytes. */
    public enum Swizzle {
        NONE(Integer.MAX_VALUE), B32(32), B64(64), B128(128);

        final int spanBytes;

        Swizzle(int spanBytes) {
            this.spanBytes = spanBytes;
        }
    }

    public enum L2Promotion { NONE, B64, B128, B256 }

    public enum OobFill { NONE, NAN_REQUEST_ZERO_FMA }

    public TensorMapSpec {
        globalDims = List.copyOf(globalDims);
        globalStrides = List.copyOf(globalStrides);
        boxDims = List.copyOf(boxDims);
        elementStrides = List.copyOf(elementStrides);
        int rank = globalDims.size();
        if (rank < 1 || rank > 5 || (interleave != Interleave.NONE && rank < 3)) {
            fail("rank " + rank + " (1 to 5; 3 to 5 with interleave)");
        }
        if (globalStrides.size() != rank - 1 || boxDims.size() != rank || elementStrides.size() != rank) {
            fail("rank " + rank + " needs " + (rank - 1) + " strides and " + rank + " box dims and element strides");
        }
        long alignment = interleave == Interleave.B32 ? 32 : 16;
        if (globalAddress == 0 || globalAddress % alignment != 0) {
            fail("global address 0x" + Long.toHexString(globalAddress) + " must be non-null and "
                    + alignment + "-byte aligned");
        }
        for (long dim : globalDims) {
            if (dim < 1 || dim > (1L << 32)) {
                fail("global dim " + dim + " outside 1..2^32");
            }
        }
        for (long stride : globalStrides) {
            if (stride % 16 != 0 || stride <= 0 || stride >= (1L << 40)) {
                fail("global stride " + stride + " B must be a positive multiple of 16 below 2^40");
            }
        }
        for (int box : boxDims) {
            if (box < 1 || box > 256) {
                fail("box dim " + box + " outside 1..256");
            }
        }
        for (int stride : elementStrides) {
            if (stride < 1 || stride > 8) {
                fail("element stride " + stride + " outside 1..8");
            }
        }
        long innerBoxBytes = (long) boxDims.getFirst() * dataType.bytes;
        if (interleave == Interleave.NONE && innerBoxBytes % 16 != 0) {
            fail("inner box of " + innerBoxBytes + " B must be a multiple of 16 B");
        }
        if (interleave == Interleave.NONE && innerBoxBytes > swizzle.spanBytes) {
            fail("inner box of " + innerBoxBytes + " B exceeds the " + swizzle + " swizzle span of "
                    + swizzle.spanBytes + " B");
        }
    }

    private static void fail(String why) {
        throw new IllegalArgumentException("tensor map: " + why);
    }

    /**
     * A row-major matrix {@code rows x cols} read in {@code boxRows x boxCols} tiles, the layout of GEMM
     * operands: dims innermost first, 128-byte L2 promotion, no out-of-bounds NaN fill.
     */
    public static TensorMapSpec rowMajor(DataType type, long address, long rows, long cols, int boxRows,
                                         int boxCols, Swizzle swizzle) {
        return rowMajor(type, address, rows, cols, cols, boxRows, boxCols, swizzle);
    }

    /** As {@link #rowMajor(DataType, long, long, long, int, int, Swizzle)}, rows {@code pitch} elements apart. */
    public static TensorMapSpec rowMajor(DataType type, long address, long rows, long cols, long pitch, int boxRows,
                                         int boxCols, Swizzle swizzle) {
        return new TensorMapSpec(type, address, List.of(cols, rows), List.of(pitch * type.bytes),
                List.of(boxCols, boxRows), List.of(1, 1), Interleave.NONE, swizzle, L2Promotion.B128, OobFill.NONE);
    }

    /** The spec of a kernel parameter's {@link TensorMapView} over a buffer of {@code dtype} at {@code address}. */
    public static TensorMapSpec of(TensorMapView view, DType dtype, long address) {
        DataType type = switch (dtype) {
            case E4M3, E5M2 -> DataType.UINT8;
            case BF16 -> DataType.BFLOAT16;
            case F32 -> DataType.FLOAT32;
            case I32 -> DataType.INT32;
        };
        Swizzle swizzle = switch (view.swizzle()) {
            case NONE -> Swizzle.NONE;
            case B32 -> Swizzle.B32;
            case B64 -> Swizzle.B64;
            case B128 -> Swizzle.B128;
        };
        return rowMajor(type, address, view.rows(), view.cols(), view.pitch(), view.boxRows(), view.boxCols(), swizzle);
    }

    public int rank() {
        return globalDims.size();
    }
}
