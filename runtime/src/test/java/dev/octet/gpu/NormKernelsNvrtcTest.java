package dev.octet.gpu;

import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.norm.NormBackward;
import dev.octet.compiler.cuda.norm.NormForward;
import dev.octet.compiler.cuda.norm.NormKind;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.ScaleType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every norm kernel variant compiles for sm_90a with NVRTC 12 (the runtime's compiler) without spills: the
 * forward keeps the row in registers and the backward its columns' gradient sums, so a spill is local-memory
 * traffic on every element. Run with LD_LIBRARY_PATH=$(.ci/fetch-nvrtc) and -Dgroups=nvrtc.
 */
@Tag("nvrtc")
class NormKernelsNvrtcTest {
    static final int ROWS = 1024;
    static final int[] DIMS = {128, 768, 1536, 2048, 3584, 4096};
    static final GroupQuantization QUANTIZATION = new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 128);

    /** RMS and Layer; residual on and off; BF16 only, BF16 plus FP8, FP8 only; and the backward likewise. */
    static List<KernelSpec> variants() {
        List<KernelSpec> specs = new ArrayList<>();
        for (int dim : DIMS) {
            for (NormKind kind : NormKind.values()) {
                for (boolean residual : new boolean[] {false, true}) {
                    specs.add(new NormForward(kind, ROWS, dim, 1e-6f, residual, Optional.empty(), true));
                    specs.add(new NormForward(kind, ROWS, dim, 1e-6f, residual, Optional.of(QUANTIZATION), true));
                    specs.add(new NormForward(kind, ROWS, dim, 1e-6f, residual, Optional.of(QUANTIZATION), false));
                    specs.add(new NormBackward(kind, ROWS, dim, residual));
                }
            }
        }
        return specs;
    }

    @Test
    void everyNormVariantCompilesWithoutSpills() {
        assertTrue(ForeignLibrary.open(JCudaNvrtc.LIBRARY).isPresent(),
                "libnvrtc.so.12 must be on LD_LIBRARY_PATH (.ci/fetch-nvrtc prints its folder)");
        JCudaNvrtc nvrtc = new JCudaNvrtc();
        assertEquals(12, nvrtc.version().major());
        List<KernelSpec> specs = variants();
        assertEquals(DIMS.length * NormKind.values().length * 2 * 4, specs.size());
        List<String> spilling = new ArrayList<>();
        for (KernelSpec spec : specs) {
            CompiledKernel k = nvrtc.compile(spec.emit(), KernelCompiler.HOPPER, List.of());
            System.out.println(k);
            if (k.spillBytes() != 0) {
                spilling.add(k.name() + ": " + k.spillBytes() + " bytes spilled at " + k.registers() + " registers");
            }
        }
        assertTrue(spilling.isEmpty(), "spills under " + nvrtc.description() + ":\n" + String.join("\n", spilling));
    }
}
