package dev.octet.compiler.plan;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Value;
import java.util.ArrayList;
import java.util.List;

/** One kernel launch of the step: which fusion group it serves, the kernel, and its arguments in order. */
public record Launch(int index, int group, Phase phase, KernelSpec spec, CudaKernel kernel, List<Argument> args) {
    public Launch {
        args = List.copyOf(args);
        if (args.size() != kernel.params().size()) {
            throw new IllegalArgumentException(kernel.name() + " takes " + kernel.params().size() + " arguments, got "
                    + args.size());
        }
        for (int i = 0; i < args.size(); i++) {
            KernelParam p = kernel.params().get(i);
            boolean buffer = args.get(i) instanceof Argument.Buffer;
            if (buffer != (p.kind() == KernelParam.Kind.BUFFER)) {
                throw new IllegalArgumentException(kernel.name() + " parameter " + p.name() + " bound to the wrong kind");
            }
            if (args.get(i) instanceof Argument.Buffer b && b.value().type().dtype() != p.dtype()) {
                throw new IllegalArgumentException(kernel.name() + " parameter " + p.name() + " is " + p.dtype().irName()
                        + " but " + b.value() + " is " + b.value().type());
            }
        }
    }

    /** Buffers this launch reads (READ or READ_WRITE parameters). */
    public List<Value> reads() {
        return buffers(KernelParam.Access.READ, KernelParam.Access.READ_WRITE);
    }

    /** Buffers this launch writes (WRITE or READ_WRITE parameters). */
    public List<Value> writes() {
        return buffers(KernelParam.Access.WRITE, KernelParam.Access.READ_WRITE);
    }

    private List<Value> buffers(KernelParam.Access a, KernelParam.Access b) {
        List<Value> out = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            KernelParam.Access access = kernel.params().get(i).access();
            if (args.get(i) instanceof Argument.Buffer buf && (access == a || access == b)) {
                out.add(buf.value());
            }
        }
        return out;
    }
}
