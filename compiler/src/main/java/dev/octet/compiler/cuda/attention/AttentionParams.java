package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.ir.DType;
import java.util.ArrayList;
import java.util.List;

/** The parameter lists of the attention kernels: inputs, then the document ids where masked, then outputs. */
final class AttentionParams {
    private AttentionParams() {
    }

    static List<KernelParam> of(AttentionShape shape, List<KernelParam> inputs, KernelParam... outputs) {
        List<KernelParam> params = new ArrayList<>(inputs);
        if (shape.documentMask()) {
            params.add(KernelParam.in("document_ids", DType.I32));
        }
        params.addAll(List.of(outputs));
        return List.copyOf(params);
    }

    /** The backward kernels': q, k, v, dout, then lse and delta, [document_ids], outputs. */
    static List<KernelParam> backward(AttentionShape shape, KernelParam q, KernelParam k, KernelParam v, KernelParam dout,
            KernelParam... outputs) {
        return of(shape, List.of(q, k, v, dout, KernelParam.in("lse", DType.F32), KernelParam.in("delta", DType.F32)), outputs);
    }
}
