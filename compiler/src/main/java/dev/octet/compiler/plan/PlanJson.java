package dev.octet.compiler.plan;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.StepShape;
import dev.octet.compiler.ir.Value;

/**
 * The launch plan as JSON: step shape, arena size and peaks, every buffer with its arena offset, the
 * distinct kernels with their source files, and the launches in order with grid, block, shared memory and
 * arguments as arena offsets. A runtime in any language can execute a step from this file and kernels/.
 */
public final class PlanJson {
    private PlanJson() {}

    public static String write(StepPlan plan) {
        KernelPlan kp = plan.kernels();
        MemoryPlan mem = plan.memory();
        StepShape s = kp.fused().graph().shape();
        JsonObject root = new JsonObject();
        root.addProperty("model", s.model());
        root.addProperty("recipe", s.recipe());
        root.addProperty("batch", s.batch());
        root.addProperty("seq", s.seq());
        root.addProperty("accumulation", s.accumulation());
        root.addProperty("flops_per_step", plan.flopsPerStep());
        root.addProperty("arena_bytes", mem.arenaBytes());
        root.addProperty("persistent_bytes", mem.persistentBytes());
        JsonObject peaks = new JsonObject();
        mem.peakBytes().forEach((phase, bytes) -> peaks.addProperty(phase.lowerName(), bytes));
        root.add("peak_bytes", peaks);
        JsonArray buffers = new JsonArray();
        for (Value v : kp.buffers()) {
            JsonObject b = new JsonObject();
            b.addProperty("name", v.name());
            b.addProperty("dtype", v.type().dtype().irName());
            JsonArray shape = new JsonArray();
            v.type().shape().forEach(shape::add);
            b.add("shape", shape);
            b.addProperty("storage", v.storage().name().toLowerCase(java.util.Locale.ROOT));
            b.addProperty("offset", mem.offset(v));
            b.addProperty("bytes", v.type().bytes());
            buffers.add(b);
        }
        root.add("buffers", buffers);
        JsonArray kernels = new JsonArray();
        for (CudaKernel k : plan.distinctKernels().values()) {
            JsonObject o = new JsonObject();
            o.addProperty("name", k.name());
            o.addProperty("source", "kernels/" + k.name() + ".cu");
            kernels.add(o);
        }
        root.add("kernels", kernels);
        JsonObject phases = new JsonObject();
        for (Phase p : Phase.values()) {
            var ls = plan.launches(p);
            if (!ls.isEmpty()) {
                JsonArray range = new JsonArray();
                range.add(ls.getFirst().index());
                range.add(ls.getLast().index());
                phases.add(p.lowerName(), range);
            }
        }
        root.add("phases", phases);
        JsonArray launches = new JsonArray();
        for (Launch l : kp.launches()) {
            JsonObject o = new JsonObject();
            o.addProperty("index", l.index());
            o.addProperty("phase", l.phase().lowerName());
            o.addProperty("group", l.group());
            o.addProperty("kernel", l.kernel().name());
            LaunchGeometry g = l.kernel().launch();
            o.add("grid", triple(g.gridX(), g.gridY(), g.gridZ()));
            o.add("block", triple(g.blockX(), g.blockY(), g.blockZ()));
            o.addProperty("shared_bytes", g.sharedBytes());
            JsonArray args = new JsonArray();
            for (int i = 0; i < l.args().size(); i++) {
                KernelParam p = l.kernel().params().get(i);
                JsonObject a = new JsonObject();
                a.addProperty("param", p.name());
                switch (l.args().get(i)) {
                    case Argument.Buffer b -> {
                        a.addProperty("buffer", kp.storageOf(b.value()).name());
                        a.addProperty("offset", mem.offset(b.value()) + b.byteOffset());
                    }
                    case Argument.Scalar sc -> {
                        a.addProperty("dtype", sc.dtype().irName());
                        a.addProperty("value", sc.value());
                    }
                }
                args.add(a);
            }
            o.add("args", args);
            launches.add(o);
        }
        root.add("launches", launches);
        return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(root) + "\n";
    }

    private static JsonArray triple(int x, int y, int z) {
        JsonArray a = new JsonArray();
        a.add(x);
        a.add(y);
        a.add(z);
        return a;
    }
}
