package dev.octet.gpu.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.plan.Argument;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.TensorMapView;
import dev.octet.gpu.KernelArg;
import dev.octet.gpu.TensorMapSpec;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Launch arguments as arena addresses, checked on the tiny model's plan with a made-up arena base. */
class ArenaLayoutTest {
    /** An address no allocator returns, 256-byte aligned like cuMemAlloc's. */
    private static final long BASE = 0x7f00_0000_0000L;

    private static StepPlan plan;
    private static ArenaLayout layout;

    @BeforeAll
    static void compile() {
        plan = ExampleModels.tinyPlan("infir2");
        layout = new ArenaLayout(plan);
    }

    @Test
    void everyBufferArgumentIsBasePlusPlannedOffsetPlusElementOffset() {
        int withElementOffset = 0;
        int tensorMaps = 0;
        for (Launch l : plan.kernels().launches()) {
            List<KernelArg> args = layout.arguments(l, BASE);
            assertEquals(l.args().size(), args.size());
            for (int i = 0; i < args.size(); i++) {
                switch (l.args().get(i)) {
                    case Argument.Buffer b -> {
                        long expected = BASE + plan.memory().offset(plan.kernels().storageOf(b.value()))
                                + b.elementOffset() * b.value().type().dtype().bytes();
                        KernelParam param = l.kernel().params().get(i);
                        KernelArg want = param.tensorMap().isPresent()
                                ? new KernelArg.TensorMapArg(TensorMapSpec.of(param.tensorMap().get(), param.dtype(), expected))
                                : new KernelArg.DevicePointer(expected);
                        assertEquals(want, args.get(i), l.kernel().name() + " arg " + i);
                        if (param.tensorMap().isPresent()) {
                            tensorMaps++;
                            TensorMapView view = param.tensorMap().get();
                            assertEquals(b.value().type().elements(), view.rows() * view.cols(), "the map covers " + b.value());
                        }
                        long end = expected - BASE + b.value().type().bytes() - b.byteOffset();
                        assertTrue(end <= plan.memory().arenaBytes(), b.value() + " ends past the arena");
                        if (b.elementOffset() > 0) {
                            withElementOffset++;
                        }
                    }
                    case Argument.Scalar s -> assertEquals(s.dtype() == DType.I32 ? new KernelArg.I32((int) s.value())
                            : new KernelArg.F32((float) s.value()), args.get(i));
                }
            }
        }
        // The gradient norm's per-parameter partial sums are slots of one scratch buffer.
        assertTrue(withElementOffset > 0, "the plan has no argument with an element offset to check");
        // Every FP8 GEMM reads its two operands through tensor maps.
        assertTrue(tensorMaps > 0, "the plan passes no tensor map");
    }

    @Test
    void elementOffsetsScaleByTheElementSize() {
        Launch launch = plan.kernels().launches().stream()
                .filter(l -> l.args().stream().anyMatch(a -> a instanceof Argument.Buffer b && b.elementOffset() > 0))
                .findFirst().orElseThrow();
        for (int i = 0; i < launch.args().size(); i++) {
            if (launch.args().get(i) instanceof Argument.Buffer b && b.elementOffset() > 0) {
                long start = layout.offset(b.value());
                KernelArg.DevicePointer p = (KernelArg.DevicePointer) layout.arguments(launch, 0).get(i);
                assertEquals(start + b.elementOffset() * b.value().type().dtype().bytes(), p.address());
            }
        }
    }

    @Test
    void findsTheHostBuffersAndEveryParameterByName() {
        for (String input : List.of("tokens", "targets", "positions", "document_ids", "loss_weight", "step_scalars")) {
            assertEquals(Storage.INPUT, layout.value(input).orElseThrow(() -> new AssertionError(input)).storage());
        }
        assertEquals(Storage.OUTPUT, layout.value("loss").orElseThrow().storage());
        assertEquals(Storage.OUTPUT, layout.value("grad_norm").orElseThrow().storage());
        assertEquals(plan.kernels().fused().graph().parameters().size(), layout.values(Storage.PARAMETER).size());
        assertTrue(layout.value("no_such_buffer").isEmpty());
    }

    @Test
    void persistentBuffersDoNotOverlap() {
        List<dev.octet.compiler.ir.Value> persistent = plan.kernels().buffers().stream()
                .filter(v -> v.storage().persistent()).sorted(java.util.Comparator.comparingLong(layout::offset)).toList();
        for (int i = 1; i < persistent.size(); i++) {
            var prev = persistent.get(i - 1);
            assertTrue(layout.offset(prev) + prev.type().bytes() <= layout.offset(persistent.get(i)),
                    prev + " overlaps " + persistent.get(i));
        }
    }
}
