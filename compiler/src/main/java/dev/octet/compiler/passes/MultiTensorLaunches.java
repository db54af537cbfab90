package dev.octet.compiler.passes;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.MultiTensorKernel;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.Argument;
import dev.octet.compiler.plan.KernelPlan;
import dev.octet.compiler.plan.Launch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Merges launches of one {@link MultiTensorKernel} over separate buffers into one launch over all of them: the
 * optimizer's AdamW updates and the gradient norm's square sums come one per parameter (GPT-2 124M: 196 of each, 110
 * of them over 768 elements, where a launch takes longer than its work). The batched kernels compute per member what
 * the member's own launch computes, so the step's bits do not change.
 *
 * <p>A batch takes the place of its first member. A later launch joins it only where that move is safe: in the same
 * phase, with the same shared arguments, touching nothing the batch's other members write nor writing what they read
 * (they run at once), and in conflict with no launch it moves ahead of (none of those reads what it writes or writes
 * what it touches). A batch holds at most {@value #MAX_MEMBERS} members, so that the kernel's parameters stay within
 * the 4 KB every CUDA version accepts.
 */
public final class MultiTensorLaunches {
    public static final String NAME = "multi_tensor";
    /** AdamW members bind five pointers (40 bytes): 64 of them and the scalars take 2,568 bytes of parameters. */
    static final int MAX_MEMBERS = 64;

    private MultiTensorLaunches() {}

    public static KernelPlan run(KernelPlan plan) {
        List<Object> order = new ArrayList<>();  // a Launch left alone, or a Batch at its first member's place
        Map<Object, Batch> open = new HashMap<>();
        for (Launch l : plan.launches()) {
            if (l.spec() instanceof MultiTensorKernel k) {
                Batch batch = open.get(k.batchKey());
                if (batch != null && batch.admits(l, plan)) {
                    batch.members.add(l);
                    // The other open batches' later members will move ahead of this one, now at this batch's place.
                    open.values().stream().filter(b -> b != batch).forEach(b -> b.passed.add(l));
                    continue;
                }
                Batch started = new Batch(l);
                open.values().forEach(b -> b.passed.add(l));
                open.put(k.batchKey(), started);
                order.add(started);
            } else {
                open.values().forEach(b -> b.passed.add(l));
                order.add(l);
            }
        }
        if (order.size() == plan.launches().size()) {
            return plan;
        }
        Map<KernelSpec, CudaKernel> emitted = new HashMap<>();
        List<Launch> launches = new ArrayList<>();
        for (Object o : order) {
            Launch l = o instanceof Batch b ? b.launch(emitted) : (Launch) o;
            launches.add(new Launch(launches.size(), l.group(), l.phase(), l.spec(), l.kernel(), l.args()));
        }
        return new KernelPlan(plan.fused(), launches, plan.aliases());
    }

    /** Launches of one batch key, the first where the batch runs, and the launches they have moved ahead of. */
    private static final class Batch {
        final List<Launch> members = new ArrayList<>();
        final List<Launch> passed = new ArrayList<>();

        Batch(Launch first) {
            members.add(first);
        }

        MultiTensorKernel kernel(Launch l) {
            return (MultiTensorKernel) l.spec();
        }

        boolean admits(Launch l, KernelPlan plan) {
            Launch first = members.getFirst();
            if (members.size() == MAX_MEMBERS || l.phase() != first.phase() || !sharedArgs(l).equals(sharedArgs(first))) {
                return false;
            }
            for (Launch m : members) {
                if (conflict(l, m, plan, true)) {
                    return false;
                }
            }
            for (Launch p : passed) {
                if (conflict(l, p, plan, false)) {
                    return false;
                }
            }
            return true;
        }

        /** The arguments of the parameters every member binds alike. */
        private List<Argument> sharedArgs(Launch l) {
            List<Argument> shared = new ArrayList<>();
            List<KernelParam> params = l.kernel().params();
            for (int i = 0; i < params.size(); i++) {
                if (!kernel(l).memberParams().contains(params.get(i).name())) {
                    shared.add(l.args().get(i));
                }
            }
            return shared;
        }

        /**
         * Whether {@code a} and {@code b} cannot change order or run at once: one writes what the other touches. Writes
         * of the members of one batch are compared by their element ranges (square sums write slot ranges of one
         * scratch buffer); anything else by whole buffers.
         */
        private boolean conflict(Launch a, Launch b, KernelPlan plan, boolean members) {
            for (Access wa : accesses(a, plan, true)) {
                for (Access xb : accesses(b, plan, false)) {
                    if (wa.overlaps(xb, members)) {
                        return true;
                    }
                }
            }
            for (Access wb : accesses(b, plan, true)) {
                for (Access xa : accesses(a, plan, false)) {
                    if (wb.overlaps(xa, members)) {
                        return true;
                    }
                }
            }
            return false;
        }

        /** The buffers {@code l} writes ({@code writesOnly}), else every buffer it touches. */
        private List<Access> accesses(Launch l, KernelPlan plan, boolean writesOnly) {
            List<Access> out = new ArrayList<>();
            List<KernelParam> params = l.kernel().params();
            for (int i = 0; i < params.size(); i++) {
                KernelParam p = params.get(i);
                boolean writes = p.access() != KernelParam.Access.READ;
                if (l.args().get(i) instanceof Argument.Buffer buf && (writes || !writesOnly)) {
                    long length = buf.value().type().elements() - buf.elementOffset();
                    if (writes && l.spec() instanceof MultiTensorKernel k) {
                        length = k.writtenElements(p.name()).orElse(length);
                    }
                    out.add(new Access(plan.storageOf(buf.value()), buf.elementOffset(), length));
                }
            }
            return out;
        }

        Launch launch(Map<KernelSpec, CudaKernel> emitted) {
            Launch first = members.getFirst();
            if (members.size() == 1) {
                return first;
            }
            KernelSpec spec = kernel(first).batch(members.stream().map(this::kernel).toList());
            CudaKernel kernel = emitted.computeIfAbsent(spec, KernelSpec::emit);
            Map<String, Argument> byName = new HashMap<>();
            for (int i = 0; i < members.size(); i++) {
                Launch m = members.get(i);
                List<KernelParam> params = m.kernel().params();
                for (int j = 0; j < params.size(); j++) {
                    String name = params.get(j).name();
                    byName.put(kernel(m).memberParams().contains(name) ? MultiTensorKernel.memberParam(name, i) : name,
                            m.args().get(j));
                }
            }
            List<Argument> args = kernel.params().stream()
                    .map(p -> Objects.requireNonNull(byName.get(p.name()), () -> kernel.name() + ": no argument for " + p.name()))
                    .toList();
            if (byName.size() != args.size()) {
                throw new IllegalStateException(kernel.name() + " binds " + args.size() + " parameters; its members give "
                        + byName.size());
            }
            return new Launch(first.index(), first.group(), first.phase(), spec, kernel, args);
        }
    }

    /** Elements {@code [offset, offset + length)} of one buffer. */
    private record Access(Value storage, long offset, long length) {
        boolean overlaps(Access o, boolean byRange) {
            if (!storage.equals(o.storage)) {
                return false;
            }
            return !byRange || (offset < o.offset + o.length && o.offset < offset + length);
        }
    }

}
