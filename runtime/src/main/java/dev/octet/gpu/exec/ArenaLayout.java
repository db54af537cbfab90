package dev.octet.gpu.exec;

import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.Argument;
import dev.octet.compiler.plan.KernelPlan;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.gpu.KernelArg;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where each value of a compiled step lives in the one device arena, and each launch's arguments as device
 * addresses: arena base + the value's planned offset + the argument's element offset times its element size.
 * Pure arithmetic over the plan, so it is tested without a GPU.
 */
public final class ArenaLayout {
    private final StepPlan plan;
    private final Map<String, Value> byName;

    public ArenaLayout(StepPlan plan) {
        this.plan = plan;
        this.byName = plan.kernels().valuesByName();
    }

    public StepPlan plan() {
        return plan;
    }

    public long arenaBytes() {
        return plan.memory().arenaBytes();
    }

    /** Byte offset of {@code v} in the arena; a value written in place over another shares its offset. */
    public long offset(Value v) {
        Long planned = plan.memory().offsets().get(v);
        return planned != null ? planned : plan.memory().offset(plan.kernels().storageOf(v));
    }

    /** The buffer named {@code name} (e.g. "tokens", "grad.layers.0.attn.q.weight"), if any launch touches it. */
    public Optional<Value> value(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** Every buffer some launch touches, with the given storage, in order of first use. */
    public List<Value> values(Storage storage) {
        return plan.kernels().buffers().stream().filter(v -> v.storage() == storage).toList();
    }

    /** The arguments of {@code launch} for an arena whose device address is {@code arenaBase}. */
    public List<KernelArg> arguments(Launch launch, long arenaBase) {
        List<KernelArg> args = new ArrayList<>(launch.args().size());
        for (int i = 0; i < launch.args().size(); i++) {
            args.add(switch (launch.args().get(i)) {
                case Argument.Buffer b -> KernelArg.buffer(launch.kernel().params().get(i),
                        arenaBase + offset(b.value()) + b.byteOffset());
                case Argument.Scalar s when s.dtype() == DType.I32 -> new KernelArg.I32((int) s.value());
                case Argument.Scalar s when s.dtype() == DType.F32 -> new KernelArg.F32((float) s.value());
                case Argument.Scalar s -> throw new IllegalArgumentException("kernel " + launch.kernel().name()
                        + " takes a scalar of type " + s.dtype().irName() + ", which launches cannot pass");
            });
        }
        return args;
    }

    /** Every launch's arguments, in plan order. */
    public List<List<KernelArg>> arguments(List<Launch> launches, long arenaBase) {
        return launches.stream().map(l -> arguments(l, arenaBase)).toList();
    }

    /** The kernel plan, for the values' aliases. */
    public KernelPlan kernels() {
        return plan.kernels();
    }
}
