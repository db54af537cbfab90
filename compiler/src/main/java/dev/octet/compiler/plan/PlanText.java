package dev.octet.compiler.plan;

import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.IrPrinter;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.passes.MemoryPlanning;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Text forms of the kernel plan and the memory plan, for --dump-after and golden tests. */
public final class PlanText {
    private PlanText() {}

    /** Launches in order: kernel, geometry, and each parameter bound to its value. */
    public static String kernels(KernelPlan plan) {
        StringBuilder sb = new StringBuilder(IrPrinter.header(plan.fused().graph()));
        Phase phase = null;
        for (Launch l : plan.launches()) {
            if (l.phase() != phase) {
                phase = l.phase();
                sb.append('\n').append(phase.lowerName()).append(":\n");
            }
            LaunchGeometry g = l.kernel().launch();
            sb.append(String.format(Locale.ROOT, "  %d: %s <<<(%d,%d,%d), (%d,%d,%d), %d>>> (group %d)%n", l.index(),
                    l.kernel().name(), g.gridX(), g.gridY(), g.gridZ(), g.blockX(), g.blockY(), g.blockZ(),
                    g.sharedBytes(), l.group()));
            for (int i = 0; i < l.args().size(); i++) {
                KernelParam p = l.kernel().params().get(i);
                String bound = switch (l.args().get(i)) {
                    case Argument.Buffer b -> b.value().toString() + (b.elementOffset() > 0 ? "[" + b.elementOffset() + ":]" : "") + (plan.aliases().containsKey(b.value())
                            ? " (in place over " + plan.storageOf(b.value()) + ")" : "");
                    case Argument.Scalar s -> s.dtype().irName() + " " + s.value();
                };
                sb.append("      ").append(p.name()).append(' ').append(p.access().name().toLowerCase(Locale.ROOT))
                        .append(" = ").append(bound).append('\n');
            }
        }
        return sb.toString();
    }

    /** Every buffer with offset, size and live range; peaks per phase. */
    public static String memory(StepPlan plan) {
        MemoryPlan m = plan.memory();
        KernelPlan k = plan.kernels();
        StringBuilder sb = new StringBuilder(IrPrinter.header(k.fused().graph()));
        sb.append(String.format(Locale.ROOT, "%narena %d bytes: persistent %d, transient high-water %d (without reuse %d)%n",
                m.arenaBytes(), m.persistentBytes(), m.arenaBytes() - m.persistentBytes(), m.transientBytesWithoutReuse()));
        for (Phase p : Phase.values()) {
            sb.append(String.format(Locale.ROOT, "peak %s %d bytes%n", p.lowerName(), m.peakBytes().getOrDefault(p, 0L)));
        }
        Map<Value, MemoryPlanning.LiveRange> ranges = new HashMap<>();
        MemoryPlanning.liveRanges(k).forEach(r -> ranges.put(r.value(), r));
        List<Value> buffers = k.buffers().stream()
                .sorted((a, b) -> Long.compare(m.offset(a), m.offset(b)) != 0 ? Long.compare(m.offset(a), m.offset(b))
                        : Integer.compare(a.id(), b.id()))
                .toList();
        sb.append('\n');
        for (Value v : buffers) {
            MemoryPlanning.LiveRange r = ranges.get(v);
            sb.append(String.format(Locale.ROOT, "  %12d +%-10d %s %s%s%n", m.offset(v), v.type().bytes(), v, v.type(),
                    v.storage() == Storage.TRANSIENT ? " live " + r.first() + ".." + r.last()
                            : " " + v.storage().name().toLowerCase(Locale.ROOT)));
        }
        return sb.toString();
    }
}
